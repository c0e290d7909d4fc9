// Identity UDF over 10 float64 columns at 1, 64, 1k and 64k rows per call, sequential calls, on
// pyudf and every baseline: raw ZeroMQ echo, compute floor, python-shell, Tornado JSON.
import { tableFromArrays, tableFromIPC, tableToIPC } from 'apache-arrow';
import { createPool } from '../../dist/index.js';
import { PYTHON, quietLogger, udfPath } from '../lib/config.mjs';
import { columnsDigest, verify } from '../lib/check.mjs';
import { expectedChecksum, identityColumns, identityTable, oipChecksum, oipRequest, plainColumns, tableChecksum } from '../lib/data.mjs';
import { computeFloor, floorTiming } from '../lib/floor.mjs';
import { jsonClient, startTornado } from '../lib/http.mjs';
import { ShellUdf } from '../lib/shell-udf.mjs';
import { summarise } from '../lib/stats.mjs';
import { sequential, warmUp } from '../lib/timing.mjs';
import { ZmqEcho } from '../lib/zmq-echo.mjs';

export const SIZES = [1, 64, 1024, 65536];
const MODULE = udfPath('identity.py');

export async function run(s, log) {
  const inputs = SIZES.map((rows) => ({ rows, columns: identityColumns(rows), expected: { rows, checksum: expectedChecksum(rows) } }));
  const results = [];
  const measure = async (system, input, call, digest) => {
    if (input === inputs[0]) await warmUp(call, s.jitWarmupMs);
    const start = performance.now();
    const check = verify(input.expected, digest(await call()));
    // A call slower than the whole warm-up budget (JSON at 64k rows: seconds) was warm-up enough.
    const slow = performance.now() - start > s.warmupMs;
    const timed = await sequential(call, input.rows, slow ? { ...s, warmupCalls: 0 } : s);
    const row = summarise({ system, rowsPerCall: input.rows, ...timed, extra: { check } });
    log(`${system} ${input.rows} rows/call: ${row.medianLatencyMs.toFixed(3)} ms, ${Math.round(row.rowsPerSec)} rows/s`);
    results.push(row);
  };
  const tableDigest = (table) => ({ rows: table.numRows, checksum: tableChecksum(table) });

  const pool = await createPool({ workers: 2, python: PYTHON, logger: quietLogger });
  try {
    const udf = await pool.register({ module: MODULE });
    for (const input of inputs) {
      const table = tableFromArrays(input.columns);
      await measure('pyudf', input, () => udf.apply(table), tableDigest);
    }
  } finally {
    await pool.close();
  }

  const echo = await ZmqEcho.start(1);
  try {
    const header = Buffer.alloc(16);
    for (const input of inputs) {
      // The bytes pyudf sends for this table; echoed back, not decoded (only the check decodes).
      const body = tableToIPC(tableFromArrays(input.columns), 'stream');
      await measure('raw ZeroMQ echo', input, () => echo.roundTrip([header, body]), ([, reply]) => tableDigest(tableFromIPC(reply)));
    }
  } finally {
    await echo.close();
  }

  const floor = await computeFloor(identityTable(SIZES.at(-1)), {
    module: MODULE, args: ['--mode', 'calls', '--sizes', SIZES.join(','), ...floorTiming(s)],
  });
  for (const [i, r] of floor.entries()) {
    results.push({
      system: 'compute floor', rowsPerCall: r.rowsPerCall, medianLatencyMs: r.medianLatencyMs, p99LatencyMs: null,
      rowsPerSec: r.rowsPerSec, raw: { repeatLatenciesMs: r.repeatLatenciesMs },
      check: verify(inputs[i].expected, { rows: r.rows, checksum: r.checksum }),
    });
  }
  log('compute floor done');

  const shell = await ShellUdf.start(MODULE);
  try {
    for (const input of inputs) {
      const plain = plainColumns(input.columns);
      await measure('python-shell', input, () => shell.request(plain), columnsDigest);
    }
  } finally {
    await shell.close();
  }

  const tornado = await startTornado({ module: MODULE, procs: 1 });
  const client = jsonClient(`${tornado.url}/v2/models/identity/infer`);
  try {
    for (const input of inputs) {
      const plain = plainColumns(input.columns);
      await measure('Tornado JSON', input, () => client.post(oipRequest(plain)), oipChecksum);
    }
  } finally {
    client.close();
    await tornado.close();
  }
  return { reference: 'pyudf', rows: results };
}
