// Table files in and out, by format: Arrow IPC, Parquet and CSV, read and written a batch at a time.
import { access, constants, stat } from 'node:fs/promises';
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { AbortError, InvalidOptionError } from '../errors.js';
import { readArrow } from './arrow-read.js';
import { writeArrow } from './arrow-write.js';
import { readCsv } from './csv-read.js';
import { writeCsv } from './csv-write.js';
import { STDIO, type TableFormat } from './format.js';
import { readParquet } from './parquet-read.js';
import { writeParquet } from './parquet-write.js';
import { type ByteSink, openSink } from './sink.js';
import type { ReadOptions, TableSource } from './source.js';

export { formatOf, STDIO, TABLE_FORMATS, type TableFormat } from './format.js';
export type { ReadOptions, TableSource } from './source.js';

/** Opens `file` (or stdin for `-`) for reading; fails with the fix before any work starts. */
export async function openInput(file: string, format: TableFormat, options: ReadOptions): Promise<TableSource> {
  if (file !== STDIO) {
    const info = await stat(file).catch(() => undefined);
    if (!info) throw new InvalidOptionError('--input', `no such file: ${path.resolve(file)}`);
    if (!info.isFile()) throw new InvalidOptionError('--input', `${path.resolve(file)} is not a file`);
  }
  switch (format) {
    case 'parquet': return readParquet(file, options);
    case 'csv': return readCsv(file, options);
    case 'arrow':
    case 'arrow-stream': return readArrow(file);
  }
}

/** Checks that `file`'s directory exists and is writable, before the pool starts. */
export async function checkOutput(file: string): Promise<void> {
  if (file === STDIO) return;
  const directory = path.dirname(path.resolve(file));
  try {
    await access(directory, constants.W_OK);
  } catch {
    throw new InvalidOptionError('--output', `cannot write into ${directory} (missing, or not writable)`);
  }
}

/** Options of writeOutput(). */
export interface WriteOptions {
  /**
   * Stops the write: it rejects with AbortError as soon as the signal fires, whatever the writer is
   * waiting for (the next batch, a reader of stdout that stopped reading), and no file is left.
   */
  readonly signal?: AbortSignal;
}

/**
 * Writes `batches` to `file` (or stdout for `-`). A file appears only when complete: the bytes go to a
 * temporary file beside it, renamed on success and removed on failure or abort.
 */
export async function writeOutput(batches: AsyncIterable<RecordBatch>, file: string, format: TableFormat, options: WriteOptions = {}): Promise<void> {
  const { signal } = options;
  const sink = openSink(file, signal);
  try {
    await untilAborted(writeFormat(batches, sink, format), signal);
    await sink.commit();
  } catch (error) {
    await sink.discard();
    throw error;
  }
}

function writeFormat(batches: AsyncIterable<RecordBatch>, sink: ByteSink, format: TableFormat): Promise<void> {
  switch (format) {
    case 'parquet': return writeParquet(batches, sink);
    case 'csv': return writeCsv(batches, sink);
    case 'arrow': return writeArrow(batches, sink, 'file');
    case 'arrow-stream': return writeArrow(batches, sink, 'stream');
  }
}

/** `work`, or AbortError once `signal` fires; the writer then ends on its own (its sink refuses every write). */
function untilAborted(work: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return work;
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      work.catch(() => undefined);
      reject(new AbortError({ cause: signal.reason }));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
