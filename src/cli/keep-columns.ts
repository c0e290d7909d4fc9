// `pyudf apply --keep id,ts` / `--keep-all`: input columns carried into the output beside the UDF's
// columns, row-aligned, without holding more of the input than the batches in flight.
import { type Data, type Field, makeData, RecordBatch, Schema, Struct } from 'apache-arrow';
import { InvalidOptionError } from '../errors.js';
import type { KeepSpec } from './keep-flags.js';

/** The columns of the module's declared schemas, when it declares them. */
interface Declared {
  readonly input?: Schema | undefined;
  readonly output?: Schema | undefined;
}

/** The kept columns of rows the UDF has been given and whose results have not been written yet. */
interface Pending {
  readonly children: readonly Data[];
  readonly length: number;
}

/**
 * Sits on both sides of `udf.stream()`: `inputs` passes the input batches on to the UDF and remembers
 * the kept columns of each (views of the batch's buffers, not copies); `outputs()` joins each result
 * batch with the kept columns of the same rows. The UDF returns as many rows as it was given, in
 * order, so the n-th output row belongs to the n-th input row. What is remembered is what the stream
 * holds in flight anyway: memory stays bounded by --max-in-flight.
 */
export class CarriedColumns {
  private readonly pending: Pending[] = [];
  /** Rows of pending[0] already joined to output. */
  private offset = 0;
  private checkedOutput = false;

  private constructor(
    private readonly spec: KeepSpec,
    private readonly option: string,
    private readonly fields: readonly Field[],
    private readonly indices: readonly number[],
    private readonly udfColumns: readonly number[] | undefined,
    private readonly source: AsyncIterator<RecordBatch>,
    private first: RecordBatch | undefined,
  ) {}

  /**
   * Reads the first input batch to check the kept names against the input's columns (and against the
   * declared output's), so that a typo fails before any worker starts. Throws InvalidOptionError (a
   * usage error) naming the columns that exist, or the column that would appear twice.
   */
  static async open(batches: AsyncIterable<RecordBatch>, spec: KeepSpec, declared: Declared): Promise<CarriedColumns> {
    const source = batches[Symbol.asyncIterator]();
    try {
      return await CarriedColumns.check(source, spec, declared);
    } catch (error) {
      await source.return?.();
      throw error;
    }
  }

  private static async check(source: AsyncIterator<RecordBatch>, spec: KeepSpec, declared: Declared): Promise<CarriedColumns> {
    const option = spec.all ? '--keep-all' : '--keep';
    const next = await source.next();
    // No batch: no rows to carry, and nothing was written that could be checked.
    if (next.done) return new CarriedColumns(spec, option, [], [], undefined, source, undefined);
    const first = next.value;
    const inputNames = first.schema.fields.map((f) => f.name);
    const names = spec.all ? inputNames : spec.names;
    const missing = names.filter((name) => !inputNames.includes(name));
    if (missing.length) {
      const which = missing.map((name) => `"${name}"`).join(', ');
      throw new InvalidOptionError(option, `the input has no column ${which}; its columns are: ${inputNames.join(', ')}`);
    }
    const indices = names.map((name) => inputNames.indexOf(name));
    const carried = new CarriedColumns(
      spec, option, indices.map((i) => first.schema.fields[i]!), indices, udfColumns(first.schema, declared.input), source, first,
    );
    if (declared.output) carried.checkCollisions(declared.output.fields.map((f) => f.name));
    return carried;
  }

  /** The input batches for the UDF, in order; each one's kept columns are remembered as it is pulled. */
  get inputs(): AsyncIterable<RecordBatch> {
    const self = this;
    return {
      [Symbol.asyncIterator]: () => ({
        async next(): Promise<IteratorResult<RecordBatch>> {
          let batch: RecordBatch;
          if (self.first) {
            batch = self.first;
            self.first = undefined;
          } else {
            const next = await self.source.next();
            if (next.done) return next;
            batch = next.value;
          }
          self.pending.push({ children: self.indices.map((i) => batch.data.children[i]!), length: batch.numRows });
          return { done: false, value: self.forUdf(batch) };
        },
        async return(): Promise<IteratorResult<RecordBatch>> {
          self.first = undefined;
          await self.source.return?.();
          return { done: true, value: undefined };
        },
      }),
    };
  }

  /** Each result batch with the kept columns of its rows in front of the UDF's columns. */
  async *outputs(results: AsyncIterable<RecordBatch>): AsyncGenerator<RecordBatch> {
    for await (const result of results) {
      if (!this.checkedOutput) {
        this.checkCollisions(result.schema.fields.map((f) => f.name));
        this.checkedOutput = true;
      }
      // A result batch lies within one input batch (the stream never joins input batches), but rows
      // are matched by count all the same, splitting a result batch where an input batch ends.
      let done = 0;
      do {
        const head = this.headWithRows(result.numRows - done);
        const rows = Math.min(result.numRows - done, head.length - this.offset);
        const part = done === 0 && rows === result.numRows ? result : result.slice(done, done + rows);
        yield this.join(head.children.map((child) => child.slice(this.offset, rows)), part, rows);
        this.offset += rows;
        done += rows;
      } while (done < result.numRows);
    }
  }

  /** What the UDF is given: the whole batch, or, when the module declares its input, the declared columns. */
  private forUdf(batch: RecordBatch): RecordBatch {
    if (!this.udfColumns) return batch;
    const fields = this.udfColumns.map((i) => batch.schema.fields[i]!);
    return new RecordBatch(new Schema(fields, batch.schema.metadata), makeData({
      type: new Struct(fields), length: batch.numRows, nullCount: 0, children: this.udfColumns.map((i) => batch.data.children[i]!),
    }));
  }

  /** The pending input batch the next output rows belong to; input batches fully joined are let go. */
  private headWithRows(wanted: number): Pending {
    while (this.pending.length && this.offset >= this.pending[0]!.length && (wanted > 0 || this.pending.length > 1)) {
      this.pending.shift();
      this.offset = 0;
    }
    const head = this.pending[0];
    if (!head) throw new Error('pyudf: the UDF returned more rows than it was given (a bug: the row count is checked)');
    return head;
  }

  private join(kept: Data[], result: RecordBatch, rows: number): RecordBatch {
    const fields = [...this.fields, ...result.schema.fields];
    return new RecordBatch(new Schema(fields, result.schema.metadata), makeData({
      type: new Struct(fields), length: rows, nullCount: 0, children: [...kept, ...result.data.children],
    }));
  }

  private checkCollisions(outputNames: readonly string[]): void {
    const both = this.fields.map((f) => f.name).filter((name) => outputNames.includes(name));
    if (both.length === 0) return;
    const which = both.map((name) => `"${name}"`).join(', ');
    const fix = this.spec.all
      ? 'name the columns to keep with --keep instead, leaving those out'
      : 'leave it out of --keep, or rename the input column or the UDF\'s output';
    throw new InvalidOptionError(this.option, `${which} would be in the output twice: kept from the input and returned by the UDF; ${fix}`);
  }
}

/**
 * With a declared input, the UDF gets only the declared columns (in the declared order), so that the
 * columns carried beside them do not fail its input check. Undefined (the whole batch) when nothing is
 * declared or a declared column is missing (the UDF's input check then names it).
 */
function udfColumns(schema: Schema, declared: Schema | undefined): number[] | undefined {
  if (!declared) return undefined;
  const names = schema.fields.map((f) => f.name);
  const indices = declared.fields.map((f) => names.indexOf(f.name));
  return indices.includes(-1) ? undefined : indices;
}
