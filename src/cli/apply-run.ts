// The work of `pyudf apply`: input file → pool (udf.stream, bounded in flight) → output file, with progress.
import type { RecordBatch } from 'apache-arrow';
import { AbortError } from '../errors.js';
import { checkOutput, formatOf, openInput, STDIO, writeOutput } from '../files/index.js';
import { checkSchema } from '../udf/schema-check.js';
import { DEFAULT_BATCH_SIZE } from '../udf/register-options.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { ApplyPool, INTERRUPT_STOP_MS } from './apply-pool.js';
import { abortable, abortableIterable, onInterrupt, settlesWithin } from './interrupt.js';
import { CarriedColumns } from './keep-columns.js';
import { keepSpec } from './keep-flags.js';
import { requireModule } from './module-arg.js';
import { type Progress, startProgress } from './progress.js';
import { declaredRegisterOptions, poolOptions, type UdfFlags } from './udf-options.js';

/** The flags of `pyudf apply` (see apply-command.ts). */
export interface ApplyFlags extends UdfFlags {
  readonly input: string;
  readonly output: string;
  readonly inputFormat?: string;
  readonly outputFormat?: string;
  readonly maxInFlight?: number;
  readonly progress: boolean;
  /** Input columns to copy into the output (`--keep a,b`, repeatable). */
  readonly keep?: readonly string[];
  /** Copy every input column into the output. */
  readonly keepAll?: boolean;
}

export async function runApply(module: string, flags: ApplyFlags): Promise<ExitCode> {
  requireModule(module);
  const inputFormat = formatOf(flags.input, flags.inputFormat, '--input-format');
  const outputFormat = formatOf(flags.output, flags.outputFormat, '--output-format');
  const batchSize = flags.batchSize ?? DEFAULT_BATCH_SIZE;
  const keep = keepSpec(flags);
  await checkOutput(flags.output);

  // From here SIGINT/SIGTERM abort the run: every wait below gives way at once, the output is dropped,
  // and what the run started (the schema reader, the pool) is stopped before the process exits 130.
  using interrupt = onInterrupt();
  const { signal } = interrupt;
  const workers = new ApplyPool(interrupt);
  // Runs Python in a temp directory that is removed when it ends: an interrupted run waits for that.
  const schemas = declaredRegisterOptions(module, flags);
  const started = Date.now();
  let rows = 0;
  let progress: Progress | undefined;
  try {
    const model = await abortable(schemas, signal);
    // A declared input schema also types CSV columns, which would otherwise be inferred.
    const source = await abortable(openInput(flags.input, inputFormat, model.input ? { batchSize, schema: model.input } : { batchSize }), signal);
    // --keep reads the first batch now, so that a name the input lacks fails before the pool starts.
    const carried = keep ? await abortable(CarriedColumns.open(source.batches, keep, model), signal) : undefined;
    let rowsRead = 0;
    // The reader runs ahead of the writer by the batches in flight, so the share of the input read is
    // scaled by the share of those rows written, for a percentage and ETA of what is actually done.
    const done = (): number | undefined => {
      const read = source.progress();
      if (read === undefined) return undefined;
      return rowsRead === 0 ? 0 : read * (rows / rowsRead);
    };
    progress = flags.progress ? startProgress({ fraction: done, totalRows: source.totalRows }) : undefined;
    const pool = await workers.start(poolOptions(module, flags));
    const udf = await abortable(pool.register(model), signal);
    const maxInFlight = flags.maxInFlight ?? 2 * pool.readyWorkers;
    // A stdin whose writer stalls must not hold an interrupted run either.
    const input = counted(abortableIterable(carried ? carried.inputs : source.batches, signal), (n) => { rowsRead += n; });
    const results = udf.stream(input, { maxInFlight, signal });
    const joined = carried ? carried.outputs(results) : results;
    const written = counted(consistent(joined, udf.name), (n) => { rows += n; progress?.add(n); });
    await writeOutput(written, flags.output, outputFormat, { signal });
  } catch (error) {
    progress?.stop();
    if (!signal.aborted) {
      await workers.close();
      throw error;
    }
    const deadline = Date.now() + INTERRUPT_STOP_MS;
    await settlesWithin(schemas, deadline - Date.now());
    await workers.stop(deadline);
    throw error instanceof AbortError ? error : new AbortError({ cause: error });
  }
  // The output is complete and in place; an interrupt now only stops the workers sooner.
  await workers.close();
  const seconds = (Date.now() - started) / 1000;
  const where = flags.output === STDIO ? 'stdout' : flags.output;
  const summary = `pyudf: wrote ${rows} rows to ${where} in ${seconds.toFixed(1)} s (${Math.round(rows / Math.max(seconds, 1e-3))} rows/s)`;
  if (progress) progress.stop(summary);
  else process.stderr.write(`${summary}\n`);
  if (rows === 0) process.stderr.write('pyudf: the input has no rows, so the output is empty (no schema could be written)\n');
  return EXIT.OK;
}

async function* counted(batches: AsyncIterable<RecordBatch>, add: (rows: number) => void): AsyncGenerator<RecordBatch> {
  for await (const batch of batches) {
    add(batch.numRows);
    yield batch;
  }
}

/** Checks that every result batch has the first one's schema: a file holds one schema. */
async function* consistent(batches: AsyncIterable<RecordBatch>, udf: string): AsyncGenerator<RecordBatch> {
  let first: RecordBatch | undefined;
  for await (const batch of batches) {
    if (first) checkSchema(first.schema, batch.schema, 'output', udf);
    first ??= batch;
    yield batch;
  }
}
