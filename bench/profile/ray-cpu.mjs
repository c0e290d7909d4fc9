// node bench/profile/ray-cpu.mjs [--seconds 8]: where the CPU goes when the same apply runs on 2 local
// workers and on 2 Ray actors (a Ray the pool starts): CPU ms per call of Node, the workers or actors,
// and every other process (Ray's raylet, GCS, …), read from /proc around a loop of back-to-back calls.
import { readdirSync, readFileSync } from 'node:fs';
import { createPool } from '../../dist/index.js';
import { PYTHON, quietLogger, udfPath } from '../lib/config.mjs';
import { identityTable } from '../lib/data.mjs';
import { parseStat } from '../lib/proc-cpu.mjs';
import { BATCH_ROWS, DIGITS_CONF, DIGITS_MODULE, digitsTable, QUIET_TF, trainDigits } from '../lib/digits.mjs';

const flag = process.argv.indexOf('--seconds');
const seconds = flag > 0 ? Number(process.argv[flag + 1]) : 8;

/** CPU ms (user + system) of every process now, by pid, with its command name. */
function cpuByPid() {
  const out = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      out.set(Number(name), parseStat(readFileSync(`/proc/${name}/stat`, 'utf8')));
    } catch { /* ended meanwhile */ }
  }
  return out;
}

async function profile(label, pool, udf, table) {
  await udf.apply(table);
  const workers = new Set(pool.stats().workers.map((w) => w.pid));
  const before = cpuByPid();
  const start = performance.now();
  let calls = 0;
  while (performance.now() - start < seconds * 1000) { await udf.apply(table); calls++; }
  const wallMs = performance.now() - start;
  const groups = new Map();
  for (const [pid, { comm, ms }] of cpuByPid()) {
    const used = ms - (before.get(pid)?.ms ?? 0);
    if (used <= 0) continue;
    const group = pid === process.pid ? 'node (pool)' : workers.has(pid) ? 'workers/actors' : comm;
    groups.set(group, (groups.get(group) ?? 0) + used);
  }
  const rows = [...groups].sort((a, b) => b[1] - a[1]).map(([g, ms]) => `${g} ${(ms / calls).toFixed(1)}`);
  console.log(`${label}: ${(wallMs / calls).toFixed(1)} ms wall per call; CPU ms per call: ${rows.join(', ')}`);
}

await trainDigits();
const local = await createPool({ workers: 2, python: PYTHON, logger: quietLogger, env: QUIET_TF });
const ray = await createPool({ python: PYTHON, logger: quietLogger, env: QUIET_TF, backend: { type: 'ray', actors: 2 } });
try {
  const cases = [
    ['1M-row identity', { module: udfPath('identity.py') }, identityTable(1_000_000)],
    ['Keras 10k rows', { module: DIGITS_MODULE, conf: DIGITS_CONF, batchSize: BATCH_ROWS }, digitsTable(10_000)],
  ];
  for (const [what, options, table] of cases) {
    for (const [backend, pool] of [['local', local], ['Ray', ray]]) await profile(`${what}, ${backend}`, pool, await pool.register(options), table);
  }
} finally {
  await Promise.all([local.close(), ray.close()]);
}
