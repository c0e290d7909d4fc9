// npm run bench [-- --quick] [-- --only identity,keras]: runs the workloads, each in its own process,
// prints one table of medians and ratios plus the targets of issues 4, 12 and 13, writes bench/results/latest.json
// and draws the chart (bench/chart.svg after a full run; bench/results/chart-quick.svg after --quick).
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BENCH_DIR, PYTHON, ROOT, parseArgs } from './lib/config.mjs';
import { renderChart } from './lib/chart.mjs';
import { waitForIdle } from './lib/idle.mjs';
import { evaluateTargets, resultTable, targetLines } from './lib/report.mjs';

const WORKLOADS = ['identity', 'large-table', 'body-path', 'keras', 'cpu-bound', 'concurrent-calls', 'serve', 'memory', 'ray'];
const USAGE = `usage: node bench/run.mjs [--quick] [--only ${WORKLOADS.join(',')}] [--chart FILE]`;

const args = parseArgs();
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
// TensorFlow takes ~10 s to start in each of three processes, and Ray ~15 s: --quick leaves them to the
// full run (or to --quick --only keras,ray).
const QUICK_SKIPS = ['keras', 'ray'];
const selected = args.only ?? (args.quick ? WORKLOADS.filter((w) => !QUICK_SKIPS.includes(w)) : WORKLOADS);
const unknown = selected.filter((w) => !WORKLOADS.includes(w));
if (unknown.length) throw new Error(`unknown workload ${unknown.join(', ')}; ${USAGE}`);
if (!existsSync(path.join(ROOT, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm run bench does)');

let current; // the workload process running now, ended by its pid on Ctrl-C
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    if (current?.exitCode === null) process.kill(current.pid, 'SIGTERM');
    process.exit(130);
  });
}

function runWorkload(name, out) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [
      path.join(BENCH_DIR, 'lib', 'run-workload.mjs'), name, ...(args.quick ? ['--quick'] : []), '--out', out,
    ], { stdio: ['ignore', 'inherit', 'inherit'], cwd: ROOT });
    current = child;
    const limit = setTimeout(() => process.kill(child.pid, 'SIGTERM'), (args.quick ? 180 : 420) * 1000);
    child.once('exit', (code, signal) => {
      clearTimeout(limit);
      if (code === 0) resolve(); else reject(new Error(`workload ${name} failed (${code ?? signal})`));
    });
  });
}

const text = (cmd, argv) => {
  try { return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return undefined; }
};
const meta = {
  date: new Date().toISOString(),
  quick: args.quick,
  node: process.version,
  python: text(PYTHON, ['-c', 'import sys, pyarrow, zmq; print(sys.version.split()[0], "pyarrow", pyarrow.__version__, "pyzmq", zmq.__version__)']),
  cpu: os.cpus()[0]?.model,
  cpus: os.availableParallelism(),
  memoryBytes: os.totalmem(),
  commit: text('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']),
  dirty: Boolean(text('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src', 'python'])),
};

const started = performance.now();
const tmp = await mkdtemp(path.join(os.tmpdir(), 'pyudf-bench-run-'));
const workloads = [];
try {
  for (const name of selected) {
    const busy = await waitForIdle({
      maxWaitMs: args.quick ? 10_000 : 60_000,
      onWait: (b) => process.stderr.write(`  waiting for the CPUs to go idle (${(b * 100).toFixed(0)}% busy)\n`),
    });
    process.stderr.write(`${name}${busy > 0.15 ? ` (the machine was ${(busy * 100).toFixed(0)}% busy before it started: numbers may be low)` : ''}\n`);
    const out = path.join(tmp, `${name}.json`);
    await runWorkload(name, out);
    workloads.push({ ...JSON.parse(await readFile(out, 'utf8')), busyBefore: busy });
  }
} finally {
  await rm(tmp, { recursive: true, force: true });
}

const targets = evaluateTargets(workloads, { quick: args.quick });
const seconds = (performance.now() - started) / 1000;
console.log(`\npyudf benchmarks${args.quick ? ' (--quick)' : ''}: ${meta.cpus} × ${meta.cpu}, Node ${meta.node}, Python ${meta.python}; ${seconds.toFixed(0)} s\n`);
console.log(resultTable(workloads));
console.log('\npyudf ÷ this: the reference row\'s rows/s over this row\'s, at the same rows/call (> 1: pyudf is faster).');
console.log('\ntargets (issues 4, 12 and 13; ratios: median of the per-round ratios of alternating rounds):');
console.log(targetLines(targets));

const resultsDir = path.join(BENCH_DIR, 'results');
await mkdir(resultsDir, { recursive: true });
await writeFile(path.join(resultsDir, 'latest.json'), `${JSON.stringify({ meta: { ...meta, seconds }, workloads, targets }, null, 1)}\n`);
const identity = workloads.find((w) => w.workload === 'identity');
if (identity) {
  const chart = args.chart ?? (args.quick ? path.join(resultsDir, 'chart-quick.svg') : path.join(BENCH_DIR, 'chart.svg'));
  const note = `${meta.cpus} × ${meta.cpu}, Node ${meta.node}, Python ${meta.python}; ${meta.date.slice(0, 10)}${args.quick ? ' (--quick)' : ''}; npm run bench`;
  await writeFile(chart, renderChart(identity.rows, note));
  console.log(`\nwrote ${path.relative(ROOT, path.join(resultsDir, 'latest.json'))} and ${path.relative(ROOT, chart)}`);
} else {
  console.log(`\nwrote ${path.relative(ROOT, path.join(resultsDir, 'latest.json'))}`);
}
