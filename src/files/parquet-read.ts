// Reads Parquet through parquet-wasm, a batch at a time from a file-backed Blob (never the whole file).
import { openAsBlob } from 'node:fs';
import { type RecordBatch, tableFromIPC } from 'apache-arrow';
import { InvalidInputError, InvalidOptionError } from '../errors.js';
import { STDIO } from './format.js';
import type { ReadOptions, TableSource } from './source.js';

export async function readParquet(file: string, options: ReadOptions): Promise<TableSource> {
  if (file === STDIO) {
    throw new InvalidOptionError('--input', 'Parquet cannot be read from stdin (its footer comes last); give a file, or pipe Arrow IPC or CSV');
  }
  // Loaded here so the other subcommands do not pay for compiling the WebAssembly module.
  const { ParquetFile } = await import('parquet-wasm');
  let parquet: Awaited<ReturnType<typeof ParquetFile.fromFile>>;
  try {
    parquet = await ParquetFile.fromFile(await openAsBlob(file));
  } catch (error) {
    throw unreadable(file, error);
  }
  const totalRows = parquet.metadata().fileMetadata().numRows();
  let rows = 0;
  return {
    totalRows,
    progress: () => (totalRows ? rows / totalRows : 1),
    batches: (async function* (): AsyncGenerator<RecordBatch> {
      try {
        const stream = await parquet.stream({ batchSize: options.batchSize }) as ReadableStream<WasmBatch>;
        for await (const wasmBatch of stream) {
          // intoIPCStream() moves the batch out of WebAssembly memory, so nothing needs freeing after.
          for (const batch of tableFromIPC(wasmBatch.intoIPCStream()).batches) {
            rows += batch.numRows;
            yield batch;
          }
        }
      } catch (error) {
        throw unreadable(file, error);
      } finally {
        parquet.free();
      }
    })(),
  };
}

interface WasmBatch {
  intoIPCStream(): Uint8Array;
}

function unreadable(file: string, error: unknown): InvalidInputError {
  const reason = error instanceof Error ? error.message : String(error);
  return new InvalidInputError(`cannot read ${file} as Parquet: ${reason}`, { cause: error });
}
