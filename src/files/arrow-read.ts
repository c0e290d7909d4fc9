// Reads Arrow IPC (file or stream format, from a file or stdin) batch by batch.
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { RecordBatchReader } from 'apache-arrow';
import { InvalidInputError } from '../errors.js';
import { STDIO } from './format.js';
import type { TableSource } from './source.js';

/** "ARROW1": the first bytes of an Arrow IPC *file*; a stream starts with a schema message instead. */
const FILE_MAGIC = Buffer.from('ARROW1');

export async function readArrow(file: string): Promise<TableSource> {
  if (file === STDIO) return streamSource(process.stdin, () => undefined, 'stdin');
  const handle = await open(file, 'r');
  const head = Buffer.alloc(FILE_MAGIC.length);
  const { bytesRead } = await handle.read(head, 0, head.length, 0);
  if (bytesRead === FILE_MAGIC.length && head.equals(FILE_MAGIC)) return fileSource(handle, file);
  await handle.close();
  const { size } = await stat(file);
  const input = createReadStream(file, { highWaterMark: 1 << 20 });
  return streamSource(input, () => (size ? input.bytesRead / size : 1), file);
}

async function fileSource(handle: Awaited<ReturnType<typeof open>>, file: string): Promise<TableSource> {
  // A FileHandle gives the reader random access: it reads the footer, then one batch at a time.
  const reader = await opened(RecordBatchReader.from(handle), file, () => handle.close());
  if (!reader.isFile()) throw new InvalidInputError(`${file} starts like an Arrow IPC file but is not one`);
  const total = reader.numRecordBatches;
  let read = 0;
  return {
    totalRows: undefined,
    progress: () => (total ? read / total : 1),
    batches: (async function* () {
      try {
        for await (const batch of reader) {
          read++;
          yield batch;
        }
      } catch (error) {
        throw unreadable(file, error);
      } finally {
        await handle.close();
      }
    })(),
  };
}

async function streamSource(input: NodeJS.ReadableStream, progress: () => number | undefined, file: string): Promise<TableSource> {
  const reader = await opened(RecordBatchReader.from(input), file, async () => undefined);
  return {
    totalRows: undefined,
    progress,
    batches: (async function* () {
      try {
        yield* reader;
      } catch (error) {
        throw unreadable(file, error);
      }
    })(),
  };
}

async function opened<R extends { open(): unknown }>(pending: Promise<R>, file: string, cleanup: () => Promise<void>): Promise<R> {
  try {
    const reader = await pending;
    await reader.open();
    return reader;
  } catch (error) {
    await cleanup();
    throw unreadable(file, error);
  }
}

function unreadable(file: string, error: unknown): InvalidInputError {
  const reason = error instanceof Error ? error.message : String(error);
  // apache-arrow ships no LZ4/ZSTD codec, and pyarrow's Feather writer compresses by default.
  const hint = /compress/i.test(reason)
    ? '. The file is compressed (LZ4/ZSTD), which Arrow JS cannot read: write it uncompressed, e.g. ' +
      "pyarrow.feather.write_feather(table, path, compression='uncompressed'), or use Parquet"
    : '';
  return new InvalidInputError(`cannot read ${file} as Arrow IPC: ${reason}${hint}`, { cause: error });
}
