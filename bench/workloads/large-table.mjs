// A 1M-row table (10 float64 columns, 80 MB) through one udf.apply on the default pool, against the
// raw ZeroMQ echo of the very same pieces (the batches pyudf cuts and sends), pipelined the same way;
// both alive at once and timed in alternating rounds.
import { Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import { createPool, DEFAULT_BATCH_SIZE } from '../../dist/index.js';
import { PYTHON, quietLogger, udfPath } from '../lib/config.mjs';
import { verify } from '../lib/check.mjs';
import { expectedChecksum, identityTable, tableChecksum } from '../lib/data.mjs';
import { alternatingRounds, roundRatios } from '../lib/rounds.mjs';
import { summarise } from '../lib/stats.mjs';
import { ZmqEcho } from '../lib/zmq-echo.mjs';

const WORKERS = 2;
const IN_FLIGHT_PER_WORKER = 2; // pyudf's maxInFlightPerWorker default
const PYUDF = `pyudf ${WORKERS} workers`;
const ECHO = `raw ZeroMQ echo ×${WORKERS}`;

export async function run(s, log) {
  const rows = s.largeRows;
  const table = identityTable(rows);
  const expected = { rows, checksum: expectedChecksum(rows) };
  const digestTables = (tables) => tables.reduce((d, t) => ({ rows: d.rows + t.numRows, checksum: d.checksum + tableChecksum(t) }), { rows: 0, checksum: 0 });
  const pieces = [];
  for (let start = 0; start < rows; start += DEFAULT_BATCH_SIZE) {
    pieces.push(tableToIPC(new Table(table.slice(start, start + DEFAULT_BATCH_SIZE).batches), 'stream'));
  }
  let pool;
  let echo;
  try {
    pool = await createPool({ workers: WORKERS, python: PYTHON, logger: quietLogger });
    const udf = await pool.register({ module: udfPath('identity.py') });
    echo = await ZmqEcho.start(WORKERS);
    const systems = [
      { name: PYUDF, call: () => udf.apply(table), check: async () => digestTables([await udf.apply(table)]), extra: { batchRows: DEFAULT_BATCH_SIZE } },
      {
        name: ECHO, call: () => echo.pipelined(pieces, IN_FLIGHT_PER_WORKER),
        check: async () => digestTables((await echo.pipelined(pieces, IN_FLIGHT_PER_WORKER)).map((b) => tableFromIPC(b))),
        extra: { bytes: pieces.reduce((n, p) => n + p.byteLength, 0) },
      },
    ];
    const checks = new Map();
    for (const { name, check } of systems) checks.set(name, verify(expected, await check()));
    const timed = await alternatingRounds(systems, { rounds: s.rounds, minMs: s.roundMs, warmupMs: s.warmupMs, rowsPerCall: rows });
    const results = systems.map(({ name, extra }) => {
      const row = summarise({ system: name, rowsPerCall: rows, ...timed.get(name), extra: { check: checks.get(name), ...extra } });
      log(`${name}: ${row.medianLatencyMs.toFixed(1)} ms, ${Math.round(row.rowsPerSec)} rows/s`);
      return row;
    });
    const comparisons = [{
      id: '13', what: `${rows / 1e6}M-row apply on ${WORKERS} workers, rows/s ÷ ${WORKERS} echo processes' of the same ${pieces.length} pieces`,
      ratio: roundRatios(timed.get(PYUDF), timed.get(ECHO)), target: { op: '>=', value: 0.7 }, ok: checks.get(PYUDF).ok && checks.get(ECHO).ok,
    }];
    return { reference: PYUDF, rows: results, comparisons };
  } finally {
    await Promise.all([pool?.close(), echo?.close()]);
  }
}
