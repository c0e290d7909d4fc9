// A registered UDF: splits input into batches, runs them on the backend, checks and reassembles results.
import type { Duplex } from 'node:stream';
import { RecordBatch, type Schema, Table, type TypeMap } from 'apache-arrow';
import { AbortError, InvalidInputError, PoolClosedError, RowCountError, UdfClosedError } from '../errors.js';
import type { Backend } from '../backend/backend.js';
import type { BatchTask } from '../backend/batch-task.js';
import { positiveInteger } from '../validate.js';
import { splitIntoBatches } from './batches.js';
import { MicroBatcher } from './micro-batcher.js';
import type { UdfSettings } from './register-options.js';
import type { Row, RowOf } from './rows.js';
import { adoptTable } from './adopt-arrow.js';
import { checkSameLayout, checkSchema } from './schema-check.js';
import {
  DEFAULT_MAX_IN_FLIGHT, type StreamItem, type StreamOptions, type StreamSource, streamThrough, toNodeTransform, toTransformStream,
} from './stream.js';

export interface ApplyOptions {
  /** Aborts the call: queued batches are dropped and the promise rejects with AbortError. */
  readonly signal?: AbortSignal;
  /** Overrides the UDF's `timeoutMs` for this call. */
  readonly timeoutMs?: number;
}

export interface CallOptions {
  /** Gives up on the call: the caller gets AbortError; a row already sent is computed but dropped. */
  readonly signal?: AbortSignal;
}

/** One batch a worker finished, reported to `observe()` listeners (metrics, logging). */
export interface BatchEvent {
  readonly udf: string;
  readonly rows: number;
  /** From sending the batch to its answer: transfer and compute, not time queued. */
  readonly durationMs: number;
  readonly ok: boolean;
}

/** A UDF registered on a pool. `apply` keeps row order; `close()` frees its state in the workers. */
export class Udf<In extends TypeMap = TypeMap, Out extends TypeMap = TypeMap> implements AsyncDisposable {
  private closed = false;
  /** Set once the pool closes: new calls are refused at once rather than queued for a batch that would wait maxDelayMs to fail. */
  private poolClosed = false;
  private readonly running = new Set<Promise<unknown>>();
  private readonly observers = new Set<(event: BatchEvent) => void>();
  private readonly batcher: MicroBatcher;

  /** @internal use pool.register() */
  constructor(
    private readonly backend: Backend,
    readonly id: number,
    private readonly settings: UdfSettings,
    /** Called once the UDF is closed (its pool stops tracking it). */
    private readonly onClosed: () => void = () => undefined,
  ) {
    this.batcher = new MicroBatcher((table) => this.run(table, {}), {
      maxBatchRows: settings.maxBatchRows, maxDelayMs: settings.maxDelayMs, input: settings.input,
    });
  }

  get name(): string {
    return this.settings.name;
  }

  get inputSchema(): Schema<In> | undefined {
    return this.settings.input as Schema<In> | undefined;
  }

  get outputSchema(): Schema<Out> | undefined {
    return this.settings.output as Schema<Out> | undefined;
  }

  /** True while at least one worker has this UDF initialised and can serve it. */
  get ready(): boolean {
    return !this.closed && this.backend.isServing(this.id);
  }

  /** Runs `apply` over every row: batches go to the workers concurrently; results keep input order. */
  apply<I extends In = In>(input: Table<I> | RecordBatch<I>, options: ApplyOptions = {}): Promise<Table<Out>> {
    return this.track(rejectOnThrow(() => this.run(toTable(input as unknown as Table | RecordBatch), options))) as Promise<Table<Out>>;
  }

  /**
   * Streams batches, tables or row objects through the UDF and yields result batches in input order,
   * with at most `maxInFlight` batches in flight: a slow consumer slows the source.
   */
  stream(source: StreamSource | NodeJS.ReadableStream, options: StreamOptions = {}): AsyncGenerator<RecordBatch<Out>> {
    this.assertOpen();
    const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    const rowsPerBatch = options.rowsPerBatch ?? this.settings.maxBatchRows;
    positiveInteger('maxInFlight', maxInFlight);
    positiveInteger('rowsPerBatch', rowsPerBatch);
    const signal = options.signal;
    const run = (table: Table, index: number): Promise<Table> =>
      this.track(this.run(table, signal ? { signal, firstBatchIndex: index } : { firstBatchIndex: index }));
    return streamThrough(source as StreamSource, run, {
      maxInFlight, rowsPerBatch, input: this.settings.input, signal,
    }) as AsyncGenerator<RecordBatch<Out>>;
  }

  /** A Web TransformStream: write batches, tables or row objects; read result batches in order. */
  transformStream(options: StreamOptions = {}): TransformStream<StreamItem, RecordBatch<Out>> {
    return toTransformStream((source) => this.stream(source, options)) as TransformStream<StreamItem, RecordBatch<Out>>;
  }

  /** A Node object-mode transform (Duplex) for `stream.pipeline()`: batches, tables or rows in; result batches out. */
  nodeTransform(options: StreamOptions = {}): Duplex {
    return toNodeTransform((source) => this.stream(source, options));
  }

  /**
   * Runs one row (a plain object) and resolves with its result row. Concurrent calls are coalesced
   * into batches of up to `maxBatchRows`, waiting at most `maxDelayMs`; a row whose batch raises in
   * Python is retried alone, so only the caller whose row raises gets the PythonError.
   */
  call(row: RowOf<In>, options: CallOptions = {}): Promise<RowOf<Out>> {
    return this.track(rejectOnThrow(() => {
      this.assertAcceptingCalls();
      return this.batcher.callRow(row as Row, options.signal);
    })) as Promise<RowOf<Out>>;
  }

  /** Like `apply`, but coalesced with concurrent `call`/`callTable` callers into shared batches. */
  callTable<I extends In = In>(input: Table<I> | RecordBatch<I>, options: CallOptions = {}): Promise<Table<Out>> {
    return this.track(rejectOnThrow(() => {
      this.assertAcceptingCalls();
      const table = toTable(input as unknown as Table | RecordBatch);
      if (this.settings.input) checkSchema(this.settings.input, table.schema, 'input', this.name, !this.settings.keepDictionaries);
      return this.batcher.callTable(table, options.signal);
    })) as Promise<Table<Out>>;
  }

  /** Calls `listener` for every batch a worker finishes; returns a function that unsubscribes. */
  observe(listener: (event: BatchEvent) => void): () => void {
    this.observers.add(listener);
    return () => this.observers.delete(listener);
  }

  /** @internal The pool is closing: sends the rows `call()` and `callTable()` gathered now, and refuses new work. */
  poolClosing(): void {
    this.batcher.flush();
    this.poolClosed = true;
  }

  /** Waits for running calls, then unregisters the UDF and frees its state in every worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.batcher.flush();
    this.closed = true;
    await Promise.allSettled([...this.running]);
    await this.backend.unregister(this.id);
    this.onClosed();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new UdfClosedError(`UDF "${this.name}" is closed; register it again to use it`);
  }

  /** assertOpen() for a row bound for the micro-batcher, which would hold it maxDelayMs before the closed pool refused it. */
  private assertAcceptingCalls(): void {
    this.assertOpen();
    if (this.poolClosed) throw new PoolClosedError('the pool is closed; create a new pool to run more work');
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.running.add(work);
    void work.finally(() => this.running.delete(work)).catch(() => undefined);
    return work;
  }

  /** Splits a table into batches, runs them on the pool, checks every result, and reassembles them. */
  private async run(table: Table, options: ApplyOptions & { readonly firstBatchIndex?: number }): Promise<Table> {
    this.assertOpen();
    if (this.settings.input) checkSchema(this.settings.input, table.schema, 'input', this.name, !this.settings.keepDictionaries);
    const timeoutMs = options.timeoutMs ?? this.settings.timeoutMs;
    if (options.timeoutMs !== undefined) positiveInteger('timeoutMs', options.timeoutMs);
    if (options.signal?.aborted) throw new AbortError({ cause: options.signal.reason });

    const pieces = splitIntoBatches(table, this.settings.batchSize, this.settings.maxBatchBytes);
    const first = options.firstBatchIndex ?? 0;
    const tasks: BatchTask[] = pieces.map((piece, i) => this.backend.submit({
      udfId: this.id, udfName: this.name, input: piece, batchIndex: first + i, retries: this.settings.retries, timeoutMs,
    }));
    if (this.observers.size) for (const task of tasks) this.report(task);
    const onAbort = (): void => this.backend.cancel(tasks, new AbortError({ cause: options.signal?.reason }));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const results = await Promise.all(tasks.map((task) => task.result));
      return this.assemble(results, pieces, first);
    } catch (error) {
      // One batch failed: the others of this call are not needed any more.
      this.backend.cancel(tasks, error instanceof Error ? error : new Error(String(error)));
      throw error;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  private report(task: BatchTask): void {
    const emit = (ok: boolean): void => {
      if (task.sentAt === undefined) return; // cancelled before it was sent
      const event: BatchEvent = { udf: this.name, rows: task.request.input.numRows, durationMs: performance.now() - task.sentAt, ok };
      for (const listener of this.observers) listener(event);
    };
    task.result.then(() => emit(true), () => emit(false));
  }

  private assemble(results: Table[], pieces: Table[], firstBatchIndex: number): Table {
    const first = results[0]!;
    const declared = this.settings.output;
    results.forEach((result, i) => {
      const expected = pieces[i]!.numRows;
      if (result.numRows !== expected) {
        throw new RowCountError({ udf: this.name, batchIndex: firstBatchIndex + i, expected, actual: result.numRows });
      }
      // Every batch must agree with the declared schema, or with the first batch when none is declared,
      // and with the first batch in column order and nullability, so that they join into one table.
      checkSchema(declared ?? first.schema, result.schema, 'output', this.name);
      checkSameLayout(first.schema, result.schema, 'output', this.name);
    });
    const batches = results.flatMap((result) => result.batches);
    return batches.length ? new Table(batches) : new Table(first.schema);
  }
}

/** Runs `start`, turning a synchronous throw into a rejected promise, so callers see one failure path. */
function rejectOnThrow<T>(start: () => Promise<T>): Promise<T> {
  try {
    return start();
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

function toTable<T extends TypeMap>(input: Table<T> | RecordBatch<T>): Table<T> {
  if (input instanceof Table) return adoptTable(input);
  if (input instanceof RecordBatch) return adoptTable(new Table(input));
  const what = input === null ? 'null' : typeof input === 'object' ? (input as object).constructor?.name ?? 'object' : typeof input;
  throw new InvalidInputError(
    `apply() takes an apache-arrow Table or RecordBatch, got ${what}. Build one with tableFromArrays() or tableFromJSON() from apache-arrow` +
    ' (if you passed one, check that only one copy of apache-arrow is installed: npm ls apache-arrow)',
  );
}
