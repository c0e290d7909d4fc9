// 64 concurrent single-row callers: udf.call() (coalesced into shared batches) against python-shell
// (one JSON line per row) and the Tornado and FastAPI JSON services (one keep-alive HTTP request per
// row). All run at once and take turns, round by round, so a busy spell on the machine hits them alike.
import { createPool } from '../../dist/index.js';
import { PYTHON, quietLogger, udfPath } from '../lib/config.mjs';
import { columnsDigest, verify } from '../lib/check.mjs';
import { cell, columnNames, oipChecksum, oipRequest } from '../lib/data.mjs';
import { jsonClient, startFastApi, startTornado } from '../lib/http.mjs';
import { bestPerRound, roundRatios } from '../lib/rounds.mjs';
import { ShellUdf } from '../lib/shell-udf.mjs';
import { summarise } from '../lib/stats.mjs';
import { concurrentRounds } from '../lib/timing.mjs';

export const CALLERS = 64;
const MODULE = udfPath('identity.py');
const WORKERS = 2;

/** Caller k always sends row k, so every answer can be checked against what was sent. */
const rows = Array.from({ length: CALLERS }, (_, k) => Object.fromEntries(columnNames.map((name, c) => [name, cell(k, c)])));
const expected = { rows: CALLERS, checksum: rows.reduce((s, row) => s + Object.values(row).reduce((a, b) => a + b, 0), 0) };
const asColumns = (row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, [v]]));
const rowDigest = (row) => ({ rows: 1, checksum: Object.values(row).reduce((a, b) => a + b, 0) });

async function checkAll(call, digest) {
  const answers = await Promise.all(rows.map((_, k) => call(k)));
  return verify(expected, answers.map(digest).reduce((d, a) => ({ rows: d.rows + a.rows, checksum: d.checksum + a.checksum }), { rows: 0, checksum: 0 }));
}

export async function run(s, log) {
  let pool;
  let shell;
  let tornado;
  let fastapi;
  let client;
  let fastClient;
  try {
    pool = await createPool({ workers: WORKERS, python: PYTHON, logger: quietLogger });
    const udf = await pool.register({ module: MODULE });
    let batches = 0;
    udf.observe(() => batches++);
    shell = await ShellUdf.start(MODULE);
    tornado = await startTornado({ module: MODULE, procs: WORKERS });
    client = jsonClient(`${tornado.url}/v2/models/identity/infer`, CALLERS);
    fastapi = await startFastApi({ module: MODULE, procs: WORKERS });
    fastClient = jsonClient(`${fastapi.url}/v2/models/identity/infer`, CALLERS);
    const plain = rows.map(asColumns);
    const bodies = plain.map(oipRequest);
    const systems = [
      { system: 'pyudf call()', call: (k) => udf.call(rows[k]), digest: rowDigest, extra: { workers: WORKERS } },
      { system: 'python-shell', call: (k) => shell.request(plain[k]), digest: columnsDigest, extra: { processes: 1 } },
      { system: `Tornado JSON ×${WORKERS}`, call: (k) => client.post(bodies[k]), digest: oipChecksum, extra: { processes: WORKERS } },
      { system: `FastAPI JSON ×${WORKERS}`, call: (k) => fastClient.post(bodies[k]), digest: oipChecksum, extra: { processes: WORKERS } },
    ];
    for (const system of systems) system.check = await checkAll(system.call, system.digest);
    const before = batches;
    const measured = await concurrentRounds(systems.map((x) => x.call), CALLERS, s);
    const comparisons = [{
      id: '13', what: `64 concurrent callers, pyudf call() rows/s ÷ the better of Tornado and FastAPI (${WORKERS} processes each) in each round`,
      ratio: roundRatios(measured[0], bestPerRound(measured[2], measured[3])), target: { op: '>=', value: 2 },
      ok: [0, 2, 3].every((i) => systems[i].check.ok),
    }];
    return {
      reference: 'pyudf call()',
      comparisons,
      rows: systems.map(({ system, check, extra }, i) => {
        const row = summarise({ system, rowsPerCall: 1, ...measured[i], extra: { check, callers: CALLERS, ...extra } });
        if (i === 0) row.pyudfBatches = batches - before; // shared batches the calls were coalesced into
        log(`${system}: p50 ${row.medianLatencyMs.toFixed(2)} ms, p99 ${row.p99LatencyMs.toFixed(2)} ms, ${Math.round(row.rowsPerSec)} rows/s`);
        return row;
      }),
    };
  } finally {
    client?.close();
    fastClient?.close();
    await Promise.all([pool?.close(), shell?.close(), tornado?.close(), fastapi?.close()]);
  }
}
