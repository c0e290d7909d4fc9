// `pyudf serve` (createServer) under 64 concurrent keep-alive HTTP clients sending 1-row Open
// Inference Protocol JSON requests, against the Tornado and FastAPI JSON services given the same
// requests. All servers run at once and take turns, round by round; the clients run in a separate
// process, so the load generator never shares pyudf's event loop.
import { createServer } from '../../dist/index.js';
import { PYTHON, quietLogger, udfPath } from '../lib/config.mjs';
import { verify } from '../lib/check.mjs';
import { cell, columnNames, oipRequest } from '../lib/data.mjs';
import { startFastApi, startTornado } from '../lib/http.mjs';
import { bestPerRound, roundRatios } from '../lib/rounds.mjs';
import { httpLoad } from '../lib/http-load.mjs';
import { summarise } from '../lib/stats.mjs';

const CLIENTS = 64;
const WORKERS = 2;
const MODULE = udfPath('identity.py');
const ROW = Object.fromEntries(columnNames.map((name, c) => [name, [cell(0, c)]]));
const EXPECTED = { rows: 1, checksum: Object.values(ROW).reduce((s, [v]) => s + v, 0) };

export async function run(s, log) {
  const server = createServer({
    model: { module: MODULE, name: 'identity' }, port: 0, logger: quietLogger,
    poolOptions: { workers: WORKERS, python: PYTHON, logger: quietLogger },
  });
  let tornado;
  let fastapi;
  try {
    const { url } = await server.listen();
    tornado = await startTornado({ module: MODULE, procs: WORKERS });
    fastapi = await startFastApi({ module: MODULE, procs: WORKERS });
    const systems = [
      { system: 'pyudf serve', url: `${url}/v2/models/identity/infer`, extra: { workers: WORKERS } },
      { system: `Tornado JSON ×${WORKERS}`, url: `${tornado.url}/v2/models/identity/infer`, extra: { processes: WORKERS } },
      { system: `FastAPI JSON ×${WORKERS}`, url: `${fastapi.url}/v2/models/identity/infer`, extra: { processes: WORKERS } },
    ];
    const measured = await httpLoad({ urls: systems.map((x) => x.url), body: oipRequest(ROW), callers: CLIENTS, settings: s });
    const rows = systems.map(({ system, extra }, i) => {
      const { check, ...timed } = measured[i];
      const row = summarise({ system, rowsPerCall: 1, ...timed, extra: { check: verify(EXPECTED, check), clients: CLIENTS, ...extra } });
      log(`${system}: p50 ${row.medianLatencyMs.toFixed(2)} ms, p99 ${row.p99LatencyMs.toFixed(2)} ms, ${Math.round(row.rowsPerSec)} req/s`);
      return row;
    });
    const comparisons = [{
      id: '13', what: `64 HTTP clients, pyudf serve requests/s ÷ the better of Tornado and FastAPI (${WORKERS} processes each) in each round`,
      ratio: roundRatios(measured[0], bestPerRound(measured[1], measured[2])), target: { op: '>=', value: 2 },
      ok: rows.every((row) => row.check.ok),
    }];
    return { reference: 'pyudf serve', rows, comparisons };
  } finally {
    await server.close();
    await Promise.all([tornado?.close(), fastapi?.close()]);
  }
}
