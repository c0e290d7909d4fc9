// The Keras digits model (examples/digits_model.py) on 10k rows end to end through udf.apply, against
// the same predict on the same batches inside Python (the compute floor).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Field, FixedSizeList, Float32, makeData, RecordBatch, Schema, Struct, Table, tableFromIPC } from 'apache-arrow';
import { createPool } from '../../dist/index.js';
import { CACHE_DIR, PYTHON, quietLogger, ROOT } from '../lib/config.mjs';
import { verify } from '../lib/check.mjs';
import { tableChecksum } from '../lib/data.mjs';
import { wholeTableFloor } from '../lib/floor.mjs';
import { runPython } from '../lib/procs.mjs';
import { summarise } from '../lib/stats.mjs';
import { sequential } from '../lib/timing.mjs';

const MODULE = path.join(ROOT, 'examples', 'digits_model.py');
const MODEL_PATH = path.join(CACHE_DIR, 'digits.keras');
/** A multiple of 32, so each batch gives exactly model.predict's numbers (see digits_model.predict). */
const BATCH_ROWS = 1024;
const PIXELS = 64;
const QUIET_TF = { TF_CPP_MIN_LOG_LEVEL: '3' };

/** The 1797 digits repeated to `rows` rows, as one contiguous pixels column. */
function digitsTable(rows) {
  const digits = tableFromIPC(readFileSync(path.join(CACHE_DIR, 'digits.arrow'))).select(['pixels']);
  const source = digits.getChild('pixels').data.map((d) => d.children[0].values);
  const all = new Float32Array(source.reduce((n, v) => n + v.length, 0));
  source.reduce((at, v) => { all.set(v, at); return at + v.length; }, 0);
  const values = new Float32Array(rows * PIXELS);
  for (let at = 0; at < values.length; at += all.length) values.set(all.subarray(0, Math.min(all.length, values.length - at)), at);
  const type = new FixedSizeList(PIXELS, new Field('item', new Float32(), true));
  const pixels = makeData({ type, length: rows, nullCount: 0, child: makeData({ type: new Float32(), length: values.length, data: values }) });
  const schema = new Schema([new Field('pixels', type, false)]);
  return new Table(new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children: [pixels] })));
}

export async function run(s, log) {
  await runPython([MODULE, MODEL_PATH], { env: QUIET_TF }); // trains on the first run only (~20 s)
  const rows = s.kerasRows;
  const table = digitsTable(rows);
  const conf = { model_path: MODEL_PATH };
  const results = [];

  const { floor, expected, row } = await wholeTableFloor(table, {
    module: MODULE, conf, env: QUIET_TF, system: 'compute floor (in-Python)', batchRows: BATCH_ROWS, s,
  });
  results.push(row);
  log(`in-Python: ${floor.medianLatencyMs.toFixed(1)} ms per ${rows} rows`);

  for (const workers of s.kerasOneWorker ? [2, 1] : [2]) {
    const pool = await createPool({ workers, python: PYTHON, logger: quietLogger, env: QUIET_TF });
    try {
      const udf = await pool.register({ module: MODULE, conf, batchSize: BATCH_ROWS });
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
