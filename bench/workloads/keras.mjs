// The Keras digits model (examples/digits_model.py) on 10k rows end to end through udf.apply, against
// the same predict on the same batches inside Python (the compute floor).
import { createPool } from '../../dist/index.js';
import { PYTHON, quietLogger } from '../lib/config.mjs';
import { verify } from '../lib/check.mjs';
import { tableChecksum } from '../lib/data.mjs';
import { BATCH_ROWS, DIGITS_CONF, DIGITS_MODULE, digitsTable, QUIET_TF, trainDigits } from '../lib/digits.mjs';
import { wholeTableFloor } from '../lib/floor.mjs';
import { summarise } from '../lib/stats.mjs';
import { sequential } from '../lib/timing.mjs';

export async function run(s, log) {
  await trainDigits();
  const rows = s.kerasRows;
  const table = digitsTable(rows);
  const conf = DIGITS_CONF;
  const results = [];

  const { floor, expected, row } = await wholeTableFloor(table, {
    module: DIGITS_MODULE, conf, env: QUIET_TF, system: 'compute floor (in-Python)', batchRows: BATCH_ROWS, s,
  });
  results.push(row);
  log(`in-Python: ${floor.medianLatencyMs.toFixed(1)} ms per ${rows} rows`);

  for (const workers of s.kerasOneWorker ? [2, 1] : [2]) {
    const pool = await createPool({ workers, python: PYTHON, logger: quietLogger, env: QUIET_TF });
    try {
      const udf = await pool.register({ module: DIGITS_MODULE, conf, batchSize: BATCH_ROWS });
      const call = () => udf.apply(table);
      const out = await call(); // TensorFlow builds its graph on the first call
      const check = verify(expected, { rows: out.numRows, checksum: tableChecksum(out) }, 1e-6);
      const timed = await sequential(call, rows, { ...s, warmupCalls: 2, warmupMs: 0 });
      const system = `pyudf ${workers} worker${workers > 1 ? 's' : ''}`;
      const row = summarise({ system, rowsPerCall: rows, ...timed, extra: { check, batchRows: BATCH_ROWS } });
      log(`${system}: ${row.medianLatencyMs.toFixed(1)} ms per ${rows} rows`);
      results.push(row);
    } finally {
      await pool.close();
    }
  }
  return { reference: 'pyudf 2 workers', rows: results };
}
