// Table files in and out, by format: Arrow IPC, Parquet and CSV, read and written a batch at a time.
import { access, constants, stat } from 'node:fs/promises';
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { InvalidOptionError } from '../errors.js';
import { readArrow } from './arrow-read.js';
import { writeArrow } from './arrow-write.js';
import { readCsv } from './csv-read.js';
import { writeCsv } from './csv-write.js';
import { STDIO, type TableFormat } from './format.js';
import { readParquet } from './parquet-read.js';
import { writeParquet } from './parquet-write.js';
import { openSink } from './sink.js';
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

/**
 * Writes `batches` to `file` (or stdout for `-`). A file appears only when complete: the bytes go to a
 * temporary file beside it, renamed on success and removed on failure.
 */
export async function writeOutput(batches: AsyncIterable<RecordBatch>, file: string, format: TableFormat): Promise<void> {
  const sink = openSink(file);
  try {
    switch (format) {
      case 'parquet': await writeParquet(batches, sink); break;
      case 'csv': await writeCsv(batches, sink); break;
      case 'arrow': await writeArrow(batches, sink, 'file'); break;
      case 'arrow-stream': await writeArrow(batches, sink, 'stream'); break;
    }
    await sink.commit();
  } catch (error) {
    await sink.discard();
    throw error;
  }
}
