// Streams a source of batches, tables or row objects through a UDF: bounded in flight, in order.
import { Duplex } from 'node:stream';
import { RecordBatch, type Schema, Table } from 'apache-arrow';
import { AbortError, InvalidInputError, PyUdfError } from '../errors.js';
import { adoptTable } from './adopt-arrow.js';
import { type Row, rowsToTable } from './rows.js';

/** What a stream may carry: Arrow record batches, tables, or plain row objects (grouped into batches). */
export type StreamItem = RecordBatch | Table | Row;
export type StreamSource = AsyncIterable<StreamItem> | Iterable<StreamItem>;

export interface StreamOptions {
  /** Batches sent and not yet yielded; a slow consumer stops the source here. Default 4. */
  readonly maxInFlight?: number;
  /** Row objects are grouped into batches of at most this many rows. Default: the UDF's `maxBatchRows`. */
  readonly rowsPerBatch?: number;
  /** Stops the stream: the source is closed and the stream rejects with AbortError. */
  readonly signal?: AbortSignal;
}

export const DEFAULT_MAX_IN_FLIGHT = 4;

/** Runs one stream item (its index counts items after row grouping) and resolves with its result. */
export type RunItem = (table: Table, index: number) => Promise<Table>;

/**
 * Pulls from `source` only while fewer than `maxInFlight` items are running or waiting to be
 * yielded, so memory stays bounded and a slow consumer slows the source. Results keep source order.
 * On an error the source is closed (its `return()` is called) and the error, with `batchIndex` set
 * to the failing item's index, rejects the stream.
 */
export async function* streamThrough(
  source: StreamSource, run: RunItem, options: { maxInFlight: number; rowsPerBatch: number; input: Schema | undefined; signal?: AbortSignal | undefined },
): AsyncGenerator<RecordBatch> {
  const items = groupRows(source, options.rowsPerBatch, options.input);
  const inFlight: { index: number; result: Promise<Table> }[] = [];
  let index = 0;
  let exhausted = false;
  try {
    for (;;) {
      if (options.signal?.aborted) throw new AbortError({ cause: options.signal.reason });
      while (!exhausted && inFlight.length < options.maxInFlight) {
        const next = await items.next();
        if (next.done) {
          exhausted = true;
          break;
        }
        const result = run(next.value, index);
        result.catch(() => undefined); // awaited in order below; do not report it as unhandled first
        inFlight.push({ index: index++, result });
      }
      const head = inFlight.shift();
      if (!head) return;
      let table: Table;
      try {
        table = await head.result;
      } catch (error) {
        throw error instanceof PyUdfError ? error.withBatchIndex(head.index) : error;
      }
      yield* table.batches;
    }
  } finally {
    await items.return(undefined);
  }
}

/** Turns the source into tables, grouping consecutive row objects into batches of `rowsPerBatch`. */
async function* groupRows(source: StreamSource, rowsPerBatch: number, input: Schema | undefined): AsyncGenerator<Table, void, undefined> {
  if (source === null || typeof source !== 'object' || !(Symbol.asyncIterator in source || Symbol.iterator in source)) {
    throw new InvalidInputError('stream() takes an async iterable, an iterable, or a Node Readable in object mode');
  }
  let rows: Row[] = [];
  for await (const item of source) {
    if (item instanceof RecordBatch || item instanceof Table) {
      if (rows.length) yield rowsToTable(rows, input);
      rows = [];
      yield adoptTable(item instanceof Table ? item : new Table(item));
    } else {
      rows.push(item);
      if (rows.length >= rowsPerBatch) {
        yield rowsToTable(rows, input);
        rows = [];
      }
    }
  }
  if (rows.length) yield rowsToTable(rows, input);
}

/** A Web TransformStream over `stream()`: write batches, tables or rows; read result batches. */
export function toTransformStream(
  stream: (source: AsyncIterable<StreamItem>) => AsyncGenerator<RecordBatch>,
): TransformStream<StreamItem, RecordBatch> {
  const { readable: inputs, writable } = new TransformStream<StreamItem, StreamItem>();
  const results = stream(inputs as unknown as AsyncIterable<StreamItem>);
  const readable = new ReadableStream<RecordBatch>({
    async pull(controller) {
      const next = await results.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await results.return(undefined);
    },
  }, { highWaterMark: 0 });
  return { readable, writable } as TransformStream<StreamItem, RecordBatch>;
}

/** A Node object-mode Duplex (a transform) over `stream()`, for `pipeline(source, udf.nodeTransform(), sink)`. */
export function toNodeTransform(stream: (source: AsyncIterable<StreamItem>) => AsyncGenerator<RecordBatch>): Duplex {
  return Duplex.from(async function* (source: AsyncIterable<StreamItem>) {
    yield* stream(source);
  });
}
