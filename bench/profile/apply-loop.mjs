// Profiles udf.apply of N rows (identity UDF, 10 float64 columns) on one worker, both sides at once:
//   node bench/profile/apply-loop.mjs --rows 1 --seconds 5 --out DIR [--no-cprofile] [--workers N]
// With N > 1 workers the worker figures are the first worker's (its phases file is the last one written).
// Node: a V8 CPU profile of the measured loop only (after warm-up), DIR/node-<rows>.cpuprofile.
// Python: phase timings and cProfile of the worker (bench/profile/site/sitecustomize.py),
// DIR/worker-<rows>.phases.json and .pstats.txt. Then: node bench/profile/summarise.mjs DIR.
import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { createPool } from '../../dist/index.js';
import { BENCH_DIR, PYTHON, ROOT, udfPath } from '../lib/config.mjs';
import { threadCpuMs } from '../lib/proc-cpu.mjs';
import { identityTable } from '../lib/data.mjs';
import { warmUp } from '../lib/timing.mjs';

const argv = process.argv.slice(2);
const option = (name, fallback) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : fallback; };
const rows = Number(option('rows', '1'));
const seconds = Number(option('seconds', '5'));
const out = path.resolve(option('out', path.join(BENCH_DIR, 'results', 'profile')));
const cprofile = !argv.includes('--no-cprofile');
const workers = Number(option('workers', '1'));
await mkdir(out, { recursive: true });

const pool = await createPool({
  workers, python: PYTHON,
  env: {
    PYTHONPATH: [path.join(ROOT, 'python'), path.join(BENCH_DIR, 'profile', 'site')].join(path.delimiter),
    PYUDF_BENCH_PROFILE_OUT: path.join(out, `worker-${rows}`),
    PYUDF_BENCH_PROFILE_CPROFILE: cprofile ? '1' : '0',
  },
});
try {
  const udf = await pool.register({ module: udfPath('identity.py') });
  const table = identityTable(rows);
  await warmUp(() => udf.apply(table), 2000);
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 }); // µs
  await session.post('Profiler.start');
  let calls = 0;
  const [workerPid] = pool.stats().workers.map((w) => w.pid);
  const cpuBefore = { node: threadCpuMs(process.pid), worker: threadCpuMs(workerPid) };
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    await udf.apply(table);
    calls++;
  }
  const ms = performance.now() - start;
  const cpuAfter = { node: threadCpuMs(process.pid), worker: threadCpuMs(workerPid) };
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  await writeFile(path.join(out, `node-${rows}.cpuprofile`), JSON.stringify(profile));
  const perCall = (side) => Object.fromEntries(Object.entries(cpuAfter[side])
    .map(([name, ms]) => [name, Math.round(((ms - (cpuBefore[side][name] ?? 0)) / calls) * 1000)])
    .filter(([, us]) => us > 0));
  const cpuUsPerCall = { node: perCall('node'), worker: perCall('worker') };
  const summary = { rows, calls, ms, perCallMs: ms / calls, rowsPerSec: (rows * calls) / (ms / 1000), cpuUsPerCall };
  await writeFile(path.join(out, `loop-${rows}.json`), JSON.stringify(summary, null, 1));
  console.log(`${rows} rows/call: ${calls} calls in ${ms.toFixed(0)} ms = ${(ms / calls * 1000).toFixed(0)} µs per call (profiled)`);
} finally {
  await pool.close();
}
