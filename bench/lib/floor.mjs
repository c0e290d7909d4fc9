// Compute floor, Node side: writes the data as an Arrow file and runs baselines/compute_floor.py on it.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { baselinePath } from './config.mjs';
import { writeArrowStream } from './data.mjs';
import { verify } from './check.mjs';
import { runPython } from './procs.mjs';

/** Runs compute_floor.py on `table` with extra `args`; resolves with its `results` list. */
export async function computeFloor(table, { module, conf, args, env }) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pyudf-bench-floor-'));
  try {
    const data = path.join(dir, 'data.arrow');
    await writeArrowStream(data, table);
    const out = await runPython([
      baselinePath('compute_floor.py'), '--module', module, '--data', data,
      ...(conf === undefined ? [] : ['--conf', JSON.stringify(conf)]), ...args,
    ], { env });
    return JSON.parse(out).results;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** compute_floor.py's timing flags for these settings. */
export const floorTiming = (s) => [
  '--repeats', String(s.repeats), '--min-s', String(s.minMs / 1000), '--warmup-s', String(s.warmupMs / 1000),
];

/**
 * The compute floor of a whole-table workload (Keras, CPU-bound): the same apply in one Python process,
 * over the same batches; resolves with the result row and the checksum the pyudf runs must match.
 */
export async function wholeTableFloor(table, { module, conf, env, system, batchRows, s }) {
  const [floor] = await computeFloor(table, {
    module, conf, env,
    args: ['--mode', 'pass', '--batch-rows', String(batchRows), '--repeats', String(s.repeats), '--min-s', String(s.minMs / 1000)],
  });
  const expected = { rows: floor.rows, checksum: floor.checksum };
  const row = {
    system, rowsPerCall: table.numRows, medianLatencyMs: floor.medianLatencyMs, p99LatencyMs: null,
    rowsPerSec: floor.rowsPerSec, raw: { repeatLatenciesMs: floor.repeatLatenciesMs }, batchRows,
    check: verify({ rows: table.numRows, checksum: floor.checksum }, expected),
  };
  return { floor, expected, row };
}
