// Writes Arrow IPC, file or stream format, one batch at a time.
import { Readable } from 'node:stream';
import { type RecordBatch, RecordBatchFileWriter, RecordBatchStreamWriter } from 'apache-arrow';
import type { ByteSink } from './sink.js';

export async function writeArrow(batches: AsyncIterable<RecordBatch>, sink: ByteSink, format: 'file' | 'stream'): Promise<void> {
  const writer = format === 'file' ? new RecordBatchFileWriter() : new RecordBatchStreamWriter();
  // apache-arrow queues encoded bytes without limit. Pulling them through a byte-mode Readable into
  // the sink, and encoding the next batch only once the sink has caught up, bounds that queue to
  // about one batch.
  const bytes = Readable.from(writer, { objectMode: false, highWaterMark: 1 << 20 });
  let pumpError: unknown;
  const pumped = (async () => {
    for await (const chunk of bytes) await sink.write(chunk as Uint8Array);
  })().catch((error: unknown) => { pumpError = error; });
  try {
    for await (const batch of batches) {
      writer.write(batch);
      // One macrotask turn lets the pump move this batch's bytes into the sink.
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (pumpError === undefined && sink.stream.writableNeedDrain) {
        await new Promise<void>((resolve) => setTimeout(resolve, 5));
      }
      if (pumpError !== undefined) throw pumpError;
    }
  } catch (error) {
    writer.abort(error);
    await pumped;
    throw error;
  }
  writer.close();
  await pumped;
  if (pumpError !== undefined) throw pumpError;
}
