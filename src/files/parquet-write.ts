// Writes Parquet through parquet-wasm's streaming writer: one row group in memory at a time.
import { DataType, type RecordBatch, type Schema, Table, tableToIPC } from 'apache-arrow';
import type { ByteSink } from './sink.js';

/** Rows per row group. Smaller than pyarrow's 1Mi: memory holds a whole row group, on write and on read. */
export const PARQUET_ROW_GROUP_ROWS = 128 * 1024;
/** Bytes per row group, so wide rows do not hold 128Ki rows of them in memory. */
export const PARQUET_ROW_GROUP_BYTES = 64 * 1024 * 1024;

type Wasm = typeof import('parquet-wasm');

export async function writeParquet(batches: AsyncIterable<RecordBatch>, sink: ByteSink): Promise<void> {
  const wasm = await import('parquet-wasm');
  const iterator = batches[Symbol.asyncIterator]();
  // The writer's settings depend on the columns, so they wait for the first batch.
  const first = await iterator.next();
  if (first.done) return;
  let pending: RecordBatch | undefined = first.value;
  // parquet-wasm ends its output normally when its input stream errors, which would make a file of the
  // rows before the failure look complete: the source's error is kept and thrown once the output ends.
  let failure: { readonly error: unknown } | undefined;
  // A pull source: parquet-wasm asks for the next batch only when it has encoded the last one.
  const input = new ReadableStream<unknown>({
    async pull(controller) {
      let next: IteratorResult<RecordBatch>;
      try {
        next = pending ? { done: false as const, value: pending } : await iterator.next();
      } catch (error) {
        failure ??= { error };
        controller.error(error);
        return;
      }
      pending = undefined;
      if (next.done) {
        controller.close();
        return;
      }
      // Arrow JS and Arrow in WebAssembly share no memory: the batch crosses as IPC bytes.
      const table = wasm.Table.fromIPCStream(tableToIPC(new Table(next.value), 'stream'));
      for (const batch of table.recordBatches()) controller.enqueue(batch);
      table.free();
    },
    async cancel() {
      await iterator.return?.();
    },
  }, { highWaterMark: 0 });
  const output = await wasm.transformParquetStream(input, writerProperties(wasm, first.value.schema)) as ReadableStream<Uint8Array>;
  try {
    for await (const chunk of output) await sink.write(chunk);
  } catch (error) {
    failure ??= { error };
  }
  if (failure) throw failure.error;
}

function writerProperties(wasm: Wasm, schema: Schema): ReturnType<InstanceType<Wasm['WriterPropertiesBuilder']>['build']> {
  let builder = new wasm.WriterPropertiesBuilder()
    .setMaxRowGroupSize(PARQUET_ROW_GROUP_ROWS)
    .setMaxRowGroupBytes(PARQUET_ROW_GROUP_BYTES)
    .setCompression(wasm.Compression.SNAPPY)
    .setCreatedBy('pyudf (parquet-wasm)');
  for (const field of schema.fields) {
    // Model outputs are mostly distinct floats: trying a dictionary for them made writing 9× slower
    // and the file larger. Other columns keep Parquet's default (dictionary on).
    if (DataType.isFloat(field.type)) builder = builder.setColumnDictionaryEnabled(field.name, false);
  }
  return builder.build();
}
