// Where a `pyudf serve` request's time goes, against Tornado: both under the same 64 keep-alive HTTP
// clients (1-row Open Inference Protocol JSON, the `serve` workload's load, run in its own process),
// one at a time, with the CPU milliseconds per request of every server-side process read from /proc
// and a V8 CPU profile of pyudf's Node process:
//   node bench/profile/serve-cpu.mjs [--seconds 6] [--out DIR]   then: node bench/profile/summarise.mjs DIR
import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { createPool, createServer } from '../../dist/index.js';
import { BENCH_DIR, PYTHON, quietLogger, udfPath } from '../lib/config.mjs';
import { cell, columnNames, oipRequest } from '../lib/data.mjs';
import { startTornado } from '../lib/http.mjs';
import { httpLoad } from '../lib/http-load.mjs';
import { processCpuMs, threadCpuMs } from '../lib/proc-cpu.mjs';

const argv = process.argv.slice(2);
const option = (name, fallback) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : fallback; };
const seconds = Number(option('seconds', '6'));
const out = path.resolve(option('out', path.join(BENCH_DIR, 'results', 'profile')));
await mkdir(out, { recursive: true });
const CLIENTS = 64;
const WORKERS = 2;
const MODULE = udfPath('identity.py');
const ROW = Object.fromEntries(columnNames.map((name, c) => [name, [cell(0, c)]]));
const settings = { concurrentMs: seconds * 1000, concurrentWarmupMs: 2000, concurrentRepeats: 1 };

/** CPU ms per thread name with `byThread`, else of the whole process as {all}. */
const cpuMs = (pid, byThread) => (byThread ? threadCpuMs(pid) : { all: processCpuMs(pid) });

/** Loads `url` for `seconds` and returns the CPU µs per request of each of `procs` ({label: [pid, byThread]}). */
async function measure(url, procs, during) {
  const before = Object.fromEntries(Object.entries(procs).map(([label, [pid, byThread]]) => [label, cpuMs(pid, byThread)]));
  const [result] = await during(httpLoad({ urls: [url], body: oipRequest(ROW), callers: CLIENTS, settings }));
  const requests = result.latenciesMs.length;
  const perRequest = {};
  for (const [label, [pid, byThread]] of Object.entries(procs)) {
    for (const [thread, ms] of Object.entries(cpuMs(pid, byThread))) {
      const us = Math.round(((ms - (before[label][thread] ?? 0)) / requests) * 1000);
      if (us > 0) perRequest[byThread ? `${label} ${thread}` : label] = us;
    }
  }
  const ms = result.repeats.reduce((n, r) => n + r.ms, 0);
  return { requests, requestsPerSec: requests / (ms / 1000), cpuUsPerRequest: perRequest };
}

// The server's own pool (as `serve` gets it), passed in so that its workers' pids are known.
const pool = await createPool({ workers: WORKERS, python: PYTHON, logger: quietLogger });
const server = createServer({ model: { module: MODULE, name: 'identity' }, pool, port: 0, logger: quietLogger });
let tornado;
try {
  const { url } = await server.listen();
  const workers = pool.stats().workers.map((w) => w.pid);
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  const pyudf = await measure(`${url}/v2/models/identity/infer`, {
    node: [process.pid, true], ...Object.fromEntries(workers.map((pid, i) => [`worker ${i + 1}`, [pid, false]])),
  }, async (load) => {
    // Profile the measured load only, not its warm-up: start once the warm-up is over.
    const started = new Promise((resolve) => setTimeout(resolve, settings.concurrentWarmupMs + 500));
    const profiling = started.then(() => session.post('Profiler.start'));
    const result = await load;
    await profiling;
    const { profile } = await session.post('Profiler.stop');
    await writeFile(path.join(out, 'node-serve.cpuprofile'), JSON.stringify(profile));
    return result;
  });
  session.disconnect();
  tornado = await startTornado({ module: MODULE, procs: WORKERS });
  const baseline = await measure(`${tornado.url}/v2/models/identity/infer`,
    Object.fromEntries(tornado.pids.map((pid, i) => [`tornado ${i + 1}`, [pid, false]])), (load) => load);
  const report = { clients: CLIENTS, pyudf, tornado: baseline };
  await writeFile(path.join(out, 'serve-cpu.json'), JSON.stringify(report, null, 1));
  for (const [name, r] of Object.entries({ 'pyudf serve': pyudf, [`Tornado ×${WORKERS}`]: baseline })) {
    const total = Object.values(r.cpuUsPerRequest).reduce((a, b) => a + b, 0);
    console.log(`${name}: ${Math.round(r.requestsPerSec)} requests/s; CPU µs per request: ${total} in all`);
    for (const [label, us] of Object.entries(r.cpuUsPerRequest)) console.log(`  ${label.padEnd(28)} ${String(us).padStart(6)}`);
  }
} finally {
  await server.close();
  await pool.close();
  await tornado?.close();
}
