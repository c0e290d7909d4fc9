// A CPU-bound UDF (a pure-Python loop per row; it holds the GIL, so only processes scale) through
// udf.apply with 1 and 2 workers, and the same apply in one Python process (the compute floor).
import { tableFromArrays } from 'apache-arrow';
import { createPool } from '../../dist/index.js';
import { PYTHON, quietLogger, udfPath } from '../lib/config.mjs';
import { verify } from '../lib/check.mjs';
import { tableChecksum } from '../lib/data.mjs';
import { wholeTableFloor } from '../lib/floor.mjs';
import { summarise } from '../lib/stats.mjs';

const MODULE = udfPath('cpu_bound.py');
/** Small batches, so both workers always have work and the last batch does not leave one idle long. */
const BATCH_ROWS = 64;

export async function run(s, log) {
  const rows = s.cpuRows;
  const table = tableFromArrays({ x: Float64Array.from({ length: rows }, (_, i) => 1 + i / 7) });
  const conf = { iterations: s.cpuIterations };
  const results = [];

  const { floor, expected, row } = await wholeTableFloor(table, {
    module: MODULE, conf, system: 'compute floor (1 process)', batchRows: BATCH_ROWS, s,
  });
  results.push(row);
  log(`in-Python: ${Math.round(floor.rowsPerSec)} rows/s`);

  // Both pools start first and are measured in alternation, call by call, so a slow minute on a shared
  // machine hits 1 and 2 workers alike instead of skewing their ratio.
  const systems = [];
  try {
    for (const workers of [2, 1]) {
      // One thread each: the loop is pure Python, and numeric libraries must not add threads of their own.
      const pool = await createPool({ workers, python: PYTHON, logger: quietLogger, threadsPerWorker: 1 });
      systems.push({ pool, workers, name: `pyudf ${workers} worker${workers > 1 ? 's' : ''}`, latenciesMs: [], repeats: [] });
      const udf = await pool.register({ module: MODULE, conf, batchSize: BATCH_ROWS });
      const out = await udf.apply(table);
      systems.at(-1).check = verify(expected, { rows: out.numRows, checksum: tableChecksum(out) }, 1e-12);
      systems.at(-1).call = () => udf.apply(table);
    }
    for (let r = -1; r < Math.max(s.repeats, 3); r++) { // round -1 warms up
      for (const system of systems) {
        const start = performance.now();
        await system.call();
        const ms = performance.now() - start;
        if (r < 0) continue;
        system.latenciesMs.push(ms);
        system.repeats.push({ rows, ms });
      }
    }
    for (const { name, latenciesMs, repeats, check, workers } of systems) {
      const row = summarise({ system: name, rowsPerCall: rows, latenciesMs, repeats, extra: { check, workers, batchRows: BATCH_ROWS } });
      log(`${name}: ${Math.round(row.rowsPerSec)} rows/s`);
      results.push(row);
    }
  } finally {
    await Promise.all(systems.map(({ pool }) => pool.close()));
  }
  return { reference: 'pyudf 2 workers', rows: results };
}
