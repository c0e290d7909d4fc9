// Coalesces concurrent small calls (single rows, small tables) into shared batches, and splits the
// answers back; a batch that raises is bisected so only the callers whose rows raise get the error.
import { type Schema, Table, util } from 'apache-arrow';
import { AbortError, PythonError } from '../errors.js';
import { concatTables } from './concat.js';
import { type Row, rowToObject, rowsToTable } from './rows.js';

export interface MicroBatcherOptions {
  /** Flush as soon as this many rows wait. */
  readonly maxBatchRows: number;
  /** Flush this long after the first waiting call, however few rows wait. */
  readonly maxDelayMs: number;
  /** Declared input schema, used to build tables from row objects. */
  readonly input: Schema | undefined;
}

type Entry =
  | { readonly kind: 'row'; readonly row: Row; readonly resolve: (row: Record<string, unknown>) => void; readonly reject: (e: Error) => void }
  | { readonly kind: 'table'; readonly table: Table; readonly resolve: (table: Table) => void; readonly reject: (e: Error) => void };

export class MicroBatcher {
  private pending: Entry[] = [];
  private pendingRows = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly run: (table: Table) => Promise<Table>, private readonly options: MicroBatcherOptions) {}

  callRow(row: Row, signal?: AbortSignal): Promise<Record<string, unknown>> {
    return this.abortable(signal, (resolve, reject) => ({ kind: 'row', row, resolve, reject }), 1);
  }

  callTable(table: Table, signal?: AbortSignal): Promise<Table> {
    return this.abortable(signal, (resolve, reject) => ({ kind: 'table', table, resolve, reject }), table.numRows);
  }

  /** Sends whatever waits now (used when closing). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const entries = this.pending;
    this.pending = [];
    this.pendingRows = 0;
    for (const group of groupBySchema(entries)) void this.runGroup(group);
  }

  /**
   * Queues an entry whose caller may abort: a waiting entry is removed from the queue; one already
   * sent is answered with AbortError at once, and its row's result is dropped when it arrives.
   */
  private abortable<T>(
    signal: AbortSignal | undefined,
    make: (resolve: (value: T) => void, reject: (error: Error) => void) => Entry,
    rows: number,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) return reject(new AbortError({ cause: signal.reason }));
      const onAbort = (): void => {
        const index = this.pending.indexOf(entry);
        if (index >= 0) {
          this.pending.splice(index, 1);
          this.pendingRows -= rows;
        }
        reject(new AbortError({ cause: signal?.reason }));
      };
      const done = (): void => signal?.removeEventListener('abort', onAbort);
      const entry = make((value) => { done(); resolve(value); }, (error) => { done(); reject(error); });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.enqueue(entry, rows);
    });
  }

  private enqueue(entry: Entry, rows: number): void {
    this.pending.push(entry);
    this.pendingRows += rows;
    if (this.pendingRows >= this.options.maxBatchRows) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.options.maxDelayMs);
  }

  private async runGroup(entries: Entry[]): Promise<void> {
    let input: Table;
    try {
      input = this.buildInput(entries);
    } catch (error) {
      // One caller's row does not fit the others' types: build each alone to find it.
      if (entries.length > 1) return this.bisect(entries);
      return entries[0]!.reject(asError(error));
    }
    let output: Table;
    try {
      output = await this.run(input);
    } catch (error) {
      // A Python exception may come from one caller's row: split the batch to isolate it.
      if (entries.length > 1 && error instanceof PythonError && error.phase === 'apply') return this.bisect(entries);
      for (const entry of entries) entry.reject(asError(error));
      return;
    }
    let offset = 0;
    for (const entry of entries) {
      if (entry.kind === 'row') {
        entry.resolve(rowToObject(output, offset));
        offset += 1;
      } else {
        entry.resolve(output.slice(offset, offset + entry.table.numRows));
        offset += entry.table.numRows;
      }
    }
  }

  private async bisect(entries: Entry[]): Promise<void> {
    const middle = Math.ceil(entries.length / 2);
    await Promise.all([this.runGroup(entries.slice(0, middle)), this.runGroup(entries.slice(middle))]);
  }

  private buildInput(entries: Entry[]): Table {
    if (entries[0]!.kind === 'row') {
      return rowsToTable(entries.map((e) => (e as Extract<Entry, { kind: 'row' }>).row), this.options.input);
    }
    return concatTables(entries.map((e) => (e as Extract<Entry, { kind: 'table' }>).table));
  }
}

/** Consecutive row entries form one group; consecutive tables of one schema form one group. */
function groupBySchema(entries: Entry[]): Entry[][] {
  const groups: Entry[][] = [];
  for (const entry of entries) {
    const last = groups.at(-1)?.[0];
    const joins = last !== undefined && last.kind === entry.kind
      && (entry.kind === 'row' || util.compareSchemas((last as Extract<Entry, { kind: 'table' }>).table.schema, entry.table.schema));
    if (joins) groups.at(-1)!.push(entry);
    else groups.push([entry]);
  }
  return groups;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
