// node bench/compare-builds.mjs --base DIR: this checkout's build against another's (DIR, built, e.g. a
// `git worktree` of main), in one process, alternating rounds; prints the median ratio, its spread, and
// the same for the base against itself (the noise floor of this machine). ROUNDS=N, ONLY="<workload label>".
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { tableFromArrays } from 'apache-arrow';
import { PYTHON, quietLogger, ROOT } from './lib/config.mjs';
import { identityTable } from './lib/data.mjs';

const baseFlag = process.argv.indexOf('--base');
const baseDir = baseFlag > 0 ? process.argv[baseFlag + 1] : undefined;
if (!baseDir) {
  console.error('usage: node bench/compare-builds.mjs --base DIR   (DIR: another checkout, built with npm run build)');
  process.exit(2);
}
const ROUNDS = Number(process.env.ROUNDS ?? 31);
const load = (dir, copy) => import(`${pathToFileURL(path.resolve(dir, 'dist', 'index.js')).href}?${copy}`);
const CODE = 'def apply(state, batch):\n    return batch\n';
const rows = (n) => tableFromArrays({ x: Float64Array.from({ length: n }, (_, i) => i), y: Int32Array.from({ length: n }, (_, i) => i) });
const WORKLOADS = [
  ['1 row', rows(1), 400],
  ['64k rows', rows(65_536), 100],
  // 5 MB results: through /dev/shm files (sharedMemoryMinBytes' default, 1 MiB).
  ['64k rows x 10 float64', identityTable(65_536), 20],
  ['1M rows x 10 float64', identityTable(1_000_000), 3],
].filter(([label]) => !process.env.ONLY || label === process.env.ONLY);

async function udfOf(api) {
  const pool = await api.createPool({ workers: 2, python: PYTHON, logger: quietLogger });
  return { pool, udf: await pool.register({ code: CODE, name: 'identity' }) };
}

/** Mean ms per sequential apply over `calls` calls. */
async function timed(udf, table, calls) {
  const started = performance.now();
  for (let i = 0; i < calls; i++) await udf.apply(table);
  return (performance.now() - started) / calls;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** B's time over A's, per round; A and B take turns going first. */
async function ratios(a, b, table, calls) {
  await timed(a, table, calls);
  await timed(b, table, calls);
  const out = [];
  for (let round = 0; round < ROUNDS; round++) {
    const [first, second] = round % 2 ? [b, a] : [a, b];
    const t1 = await timed(first, table, calls);
    const t2 = await timed(second, table, calls);
    out.push(round % 2 ? t1 / t2 : t2 / t1);
  }
  return out;
}

const describe = (xs) => `median ${median(xs).toFixed(3)} (rounds ${Math.min(...xs).toFixed(2)}..${Math.max(...xs).toFixed(2)})`;
const sides = {
  base: await udfOf(await load(baseDir, 'base')),
  baseAgain: await udfOf(await load(baseDir, 'control')),
  current: await udfOf(await load(ROOT, 'current')),
};
try {
  for (const [label, table, calls] of WORKLOADS) {
    const change = await ratios(sides.base.udf, sides.current.udf, table, calls);
    const control = await ratios(sides.base.udf, sides.baseAgain.udf, table, calls);
    console.log(`${label}: this ÷ base ${describe(change)}; base ÷ base ${describe(control)}`);
  }
} finally {
  await Promise.all(Object.values(sides).map(({ pool }) => pool.close()));
}
