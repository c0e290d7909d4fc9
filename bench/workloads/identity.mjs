// Identity UDF over 10 float64 columns at 1, 64, 1k and 64k rows per call, sequential calls: pyudf, the
// raw ZeroMQ echo, python-shell, Tornado JSON and two physical floors (a JSON line over a stdio pipe,
// one Buffer.copy of the bytes), all alive at once and timed in alternating rounds; then the compute
// floor (the same apply inside Python).
import { tableFromArrays, tableFromIPC, tableToIPC } from 'apache-arrow';
import { createPool } from '../../dist/index.js';
import { PYTHON, quietLogger, udfPath } from '../lib/config.mjs';
import { columnsDigest, verify } from '../lib/check.mjs';
import { expectedChecksum, identityColumns, identityTable, oipChecksum, oipRequest, plainColumns, tableChecksum } from '../lib/data.mjs';
import { computeFloor, floorTiming } from '../lib/floor.mjs';
import { jsonClient, startTornado } from '../lib/http.mjs';
import { copyOnce, PipeEcho } from '../lib/pipe-echo.mjs';
import { alternatingRounds, roundRatios } from '../lib/rounds.mjs';
import { ShellUdf } from '../lib/shell-udf.mjs';
import { summarise } from '../lib/stats.mjs';
import { ZmqEcho } from '../lib/zmq-echo.mjs';

export const SIZES = [1, 64, 1024, 65536];
const MODULE = udfPath('identity.py');
const ECHO = 'raw ZeroMQ echo';
const PIPE = 'floor: JSON line over a pipe';
const COPY = 'floor: Buffer.copy';

export async function run(s, log) {
  const results = [];
  const comparisons = [];
  const tableDigest = (table) => ({ rows: table.numRows, checksum: tableChecksum(table) });
  let pool;
  let echo;
  let shell;
  let tornado;
  let client;
  let pipe;
  try {
    pool = await createPool({ workers: 2, python: PYTHON, logger: quietLogger });
    const udf = await pool.register({ module: MODULE });
    // One at a time, so that `finally` closes whatever started before one of them failed.
    echo = await ZmqEcho.start(1);
    shell = await ShellUdf.start(MODULE);
    tornado = await startTornado({ module: MODULE, procs: 1 });
    pipe = await PipeEcho.start();
    client = jsonClient(`${tornado.url}/v2/models/identity/infer`);
    const header = Buffer.alloc(16);
    for (const [i, rows] of SIZES.entries()) {
      const columns = identityColumns(rows);
      const table = tableFromArrays(columns);
      const plain = plainColumns(columns);
      // The bytes pyudf sends for this table; echoed back, not decoded (only the check decodes).
      const body = tableToIPC(table, 'stream');
      const expected = { rows, checksum: expectedChecksum(rows) };
      const systems = [
        { name: 'pyudf', call: () => udf.apply(table), digest: tableDigest },
        { name: ECHO, call: () => echo.roundTrip([header, body]), digest: ([, reply]) => tableDigest(tableFromIPC(reply)) },
        { name: 'python-shell', call: () => shell.request(plain), digest: columnsDigest },
        { name: 'Tornado JSON', call: () => client.post(oipRequest(plain)), digest: oipChecksum },
        { name: PIPE, call: () => pipe.roundTrip(plain), digest: columnsDigest },
        { name: COPY, call: copyOnce(body), repeat: 1000 },
      ];
      const checks = new Map();
      for (const { name, call, digest } of systems) if (digest) checks.set(name, verify(expected, digest(await call())));
      // V8 compiles apache-arrow's paths after ~1 s of small calls: the first size warms every system longer.
      const timed = await alternatingRounds(systems, { rounds: s.rounds, minMs: s.minMs, warmupMs: i === 0 ? s.jitWarmupMs : s.warmupMs, rowsPerCall: rows });
      for (const { name } of systems) {
        const row = summarise({ system: name, rowsPerCall: rows, ...timed.get(name), extra: { check: checks.get(name) } });
        log(`${name} ${rows} rows/call: ${row.medianLatencyMs.toFixed(3)} ms, ${Math.round(row.rowsPerSec)} rows/s`);
        results.push(row);
      }
      const ok = checks.get('pyudf').ok && checks.get(ECHO).ok;
      if (rows === 1) {
        comparisons.push({ id: '13', what: '1-row apply, median latency ÷ the raw ZeroMQ echo round trip\'s', ratio: roundRatios(timed.get('pyudf'), timed.get(ECHO), 'latency'), target: { op: '<=', value: 1.3 }, ok });
        comparisons.push({ id: '13', what: '1-row apply, median latency ÷ a JSON line over a stdio pipe (the floor for small messages)', ratio: roundRatios(timed.get('pyudf'), timed.get(PIPE), 'latency'), target: null, ok });
      }
      if (rows === 65536) {
        comparisons.push({ id: '13', what: '64k rows per call, rows/s ÷ the raw ZeroMQ echo\'s', ratio: roundRatios(timed.get('pyudf'), timed.get(ECHO)), target: { op: '>=', value: 0.6 }, ok });
        comparisons.push({ id: '13', what: '64k rows per call, rows/s ÷ one Buffer.copy of the bytes (the floor for large messages)', ratio: roundRatios(timed.get('pyudf'), timed.get(COPY)), target: null, ok });
      }
    }
  } finally {
    client?.close();
    await Promise.all([pool?.close(), echo?.close(), shell?.close(), tornado?.close(), pipe?.close()]);
  }

  const floor = await computeFloor(identityTable(SIZES.at(-1)), {
    module: MODULE, args: ['--mode', 'calls', '--sizes', SIZES.join(','), ...floorTiming(s)],
  });
  for (const [i, r] of floor.entries()) {
    results.push({
      system: 'compute floor', rowsPerCall: r.rowsPerCall, medianLatencyMs: r.medianLatencyMs, p99LatencyMs: null,
      rowsPerSec: r.rowsPerSec, raw: { repeatLatenciesMs: r.repeatLatenciesMs },
      check: verify({ rows: SIZES[i], checksum: expectedChecksum(SIZES[i]) }, { rows: r.rows, checksum: r.checksum }),
    });
  }
  log('compute floor done');
  return { reference: 'pyudf', rows: results, comparisons };
}
