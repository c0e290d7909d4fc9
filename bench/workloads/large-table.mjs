// A 1M-row table (10 float64 columns, 80 MB) through one udf.apply on the default pool, against the
// raw ZeroMQ echo of the very same pieces (the batches pyudf cuts and sends), pipelined the same way.
import { Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import { createPool, DEFAULT_BATCH_SIZE } from '../../dist/index.js';
import { PYTHON, quietLogger, udfPath } from '../lib/config.mjs';
import { verify } from '../lib/check.mjs';
import { expectedChecksum, identityTable, tableChecksum } from '../lib/data.mjs';
import { summarise } from '../lib/stats.mjs';
import { sequential } from '../lib/timing.mjs';
import { ZmqEcho } from '../lib/zmq-echo.mjs';

const WORKERS = 2;
const IN_FLIGHT_PER_WORKER = 2; // pyudf's maxInFlightPerWorker default

export async function run(s, log) {
  const rows = s.largeRows;
  const table = identityTable(rows);
  const expected = { rows, checksum: expectedChecksum(rows) };
  const timing = { ...s, warmupCalls: 1, warmupMs: 0 };
  const results = [];
  const measure = async (system, call, digest, extra = {}) => {
    const check = verify(expected, digest(await call()));
    const row = summarise({ system, rowsPerCall: rows, ...(await sequential(call, rows, timing)), extra: { check, ...extra } });
    log(`${system}: ${row.medianLatencyMs.toFixed(1)} ms, ${Math.round(row.rowsPerSec)} rows/s`);
    results.push(row);
  };
  const digestTables = (tables) => tables.reduce((d, t) => ({ rows: d.rows + t.numRows, checksum: d.checksum + tableChecksum(t) }), { rows: 0, checksum: 0 });

  const pool = await createPool({ workers: WORKERS, python: PYTHON, logger: quietLogger });
  try {
    const udf = await pool.register({ module: udfPath('identity.py') });
    await measure(`pyudf ${WORKERS} workers`, () => udf.apply(table), (out) => digestTables([out]), { batchRows: DEFAULT_BATCH_SIZE });
  } finally {
    await pool.close();
  }

  const echo = await ZmqEcho.start(WORKERS);
  try {
    const pieces = [];
    for (let start = 0; start < rows; start += DEFAULT_BATCH_SIZE) {
      pieces.push(tableToIPC(new Table(table.slice(start, start + DEFAULT_BATCH_SIZE).batches), 'stream'));
    }
    await measure(`raw ZeroMQ echo ×${WORKERS}`, () => echo.pipelined(pieces, IN_FLIGHT_PER_WORKER),
      (bodies) => digestTables(bodies.map((b) => tableFromIPC(b))), { bytes: pieces.reduce((n, p) => n + p.byteLength, 0) });
  } finally {
    await echo.close();
  }
  return { reference: `pyudf ${WORKERS} workers`, rows: results };
}
