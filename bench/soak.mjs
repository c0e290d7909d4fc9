// npm run soak -- --minutes N: one pool, one deterministic UDF, served over HTTP, under mixed load
// (apply, stream, call, Open Inference Protocol JSON and Arrow requests) for N minutes while workers
// are SIGKILLed at random. Every answer is checked; errors are counted by code; Node's and the
// workers' RSS, fds and threads are sampled. Prints a summary, writes bench/results/soak-<time>.json,
// and exits 1 on a wrong result, an untyped error, a hung call, growth past the leak rules, or
// anything left behind (a process, a temp directory); 130 on Ctrl-C (after the partial summary).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BENCH_DIR, PYTHON, ROOT } from './lib/config.mjs';

const USAGE = `usage: npm run soak -- [options]   (or: node bench/soak.mjs [options], after npm run build)
  --minutes N          how long the load runs (default 10; fractions allowed, e.g. 0.5)
  --workers N          Python workers in the pool (default 2)
  --kill-every-ms N    SIGKILL a random ready worker about every N ms (uniform in 0.5–1.5 × N; default 3000; 0: never)
  --retries N          re-sends of a batch whose worker died (default 3)
  --seed N             seed of the load's random sizes (default: random, printed)
  --apply-clients N    concurrent apply() clients, 1 to 200k rows each (default 2)
  --stream-clients N   concurrent stream() clients, 2–8 tables of 1 to 20k rows (default 1)
  --callers N          concurrent call() callers, one row each (default 32)
  --http-clients N     concurrent fetch clients, JSON or Arrow bodies of 1–1000 rows (default 8)
  --max-error-rate F   typed errors above this fraction of all operations fail the run (default 0.01; 1: never)
  --out FILE           where to write the JSON report (default bench/results/soak-<timestamp>.json)
  --verbose            print the pool's and the server's log lines as they come`;

function parseArgs(argv) {
  const args = {
    minutes: 10, workers: 2, killEveryMs: 3000, retries: 3, seed: Math.floor(Math.random() * 2 ** 31),
    applyClients: 2, streamClients: 1, callers: 32, httpClients: 8, maxErrorRate: 0.01, out: undefined, verbose: false,
  };
  const numeric = {
    '--minutes': ['minutes', 0, false], '--workers': ['workers', 1, true], '--kill-every-ms': ['killEveryMs', 0, true],
    '--retries': ['retries', 0, true], '--seed': ['seed', 0, true], '--apply-clients': ['applyClients', 0, true],
    '--stream-clients': ['streamClients', 0, true], '--callers': ['callers', 0, true], '--http-clients': ['httpClients', 0, true],
    '--max-error-rate': ['maxErrorRate', 0, false],
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++i];
    if (flag === '--help' || flag === '-h') args.help = true;
    else if (flag === '--verbose') args.verbose = true;
    else if (flag === '--out') args.out = value();
    else if (numeric[flag]) {
      const [key, min, integer] = numeric[flag];
      const text = value();
      const n = Number(text);
      if (text === undefined || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n)) || (key === 'minutes' && n <= 0)) {
        throw new UsageError(`${flag} needs ${integer ? 'an integer' : 'a number'} ${key === 'minutes' ? '> 0' : `≥ ${min}`}, got ${text}`);
      }
      args[key] = n;
    } else throw new UsageError(`unknown argument ${argv[i]}`);
  }
  return args;
}

class UsageError extends Error {}

let args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`${error.message}\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!existsSync(path.join(ROOT, 'dist', 'index.js'))) {
  console.error('dist/ is missing: run `npm run build` first (npm run soak does)');
  process.exit(2);
}

const { createPool, createServer } = await import('../dist/index.js');
const { KINDS, Tally, startClients } = await import('./soak/clients.mjs');
const { UDF_SOURCE } = await import('./soak/data.mjs');
const { sample } = await import('./soak/resources.mjs');
const {
  LEAK_RULES, evaluateLeaks, operationTable, resourceTable, ruleText, sampleIntervalSeconds, warmupSeconds, windowSamples, workerLines,
} = await import('./soak/report.mjs');
const { mib } = await import('./lib/format.mjs');

const MODEL = 'soak';
const runSeconds = args.minutes * 60;
const warmupS = warmupSeconds(runSeconds);
const intervalS = sampleIntervalSeconds(runSeconds);
const windowSize = windowSamples(runSeconds);
const PROGRESS_EVERY_S = 10;
/** How long, after the load stops, the operations still running may take before they count as hung. */
const DRAIN_LIMIT_MS = 120_000;
const CLOSE_LIMIT_MS = 60_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line) => process.stderr.write(`[soak] ${line}\n`);

// ---- state shared with the signal handlers ------------------------------------------------------

const control = { stopping: false };
const tally = new Tally();
const inFlight = new Set();
const pidsSeen = new Set();
const kills = { count: 0, skipped: 0, events: [] };
const logs = { counts: {}, examples: [] };
const unhandled = [];
let pool;
let udf;
let server;
let tmp;
let interrupted; // 'SIGINT' or 'SIGTERM' once asked to stop
let stopLoad;
const stopRequested = new Promise((resolve) => { stopLoad = resolve; });

/** The pool's and the server's logger: counts lines by source and level, keeps a few warnings and errors. */
function logger(message, meta = {}) {
  const source = meta.source === 'pool' || meta.source === 'server' ? meta.source : 'worker';
  const key = `${source}${meta.stream ? `.${meta.stream}` : ''}.${meta.level ?? 'info'}`;
  logs.counts[key] = (logs.counts[key] ?? 0) + 1;
  if ((meta.level !== 'info' || meta.stream === 'stderr') && logs.examples.length < 20) {
    logs.examples.push(`[${meta.source}] ${meta.level}: ${String(message).split('\n')[0].slice(0, 300)}`);
  }
  if (args.verbose) process.stderr.write(`[pyudf ${meta.source}] ${meta.level}: ${message}\n`);
}

/** Children of this process (pid → command line), from /proc. */
function ownChildren() {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) children.set(Number(name), readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ').trim());
    } catch { /* gone meanwhile */ }
  }
  return children;
}

const isOwnChild = (pid) => ownChildren().has(pid);

function notePids() {
  if (!pool) return;
  for (const w of pool.stats().workers) if (w.pid !== undefined) pidsSeen.add(w.pid);
}

// Ctrl-C: stop the load, close everything, print the partial summary, exit 130. A second one ends
// the workers this run started (each by its pid), removes the temp directory and exits at once.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (!interrupted) {
      interrupted = signal;
      log(`${signal}: stopping the load and closing (again to quit at once)`);
      stopLoad();
      return;
    }
    for (const pid of ownChildren().keys()) {
      if (pidsSeen.has(pid)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    process.exit(130);
  });
}

process.on('unhandledRejection', (reason) => {
  // Not the soak's own doing (every operation is awaited): a rejection pyudf left unhandled.
  if (unhandled.length < 10) unhandled.push(String(reason?.stack ?? reason).slice(0, 2000));
  else unhandled.push('…');
});

// ---- the run --------------------------------------------------------------------------------

const text = (cmd, argv) => {
  try { return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return undefined; }
};
const meta = {
  date: new Date().toISOString(),
  node: process.version,
  python: text(PYTHON, ['-c', 'import sys, pyarrow, zmq; print(sys.version.split()[0], "pyarrow", pyarrow.__version__, "pyzmq", zmq.__version__)']),
  cpu: os.cpus()[0]?.model,
  cpus: os.availableParallelism(),
  commit: text('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']),
  dirty: Boolean(text('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src', 'python'])),
  pid: process.pid,
};

const counts = { apply: args.applyClients, stream: args.streamClients, call: args.callers, http: args.httpClients };
log(`${args.minutes} min, ${args.workers} workers, kill every ~${args.killEveryMs || '∞'} ms, retries ${args.retries}, seed ${args.seed}; `
  + `clients: ${counts.apply} apply, ${counts.stream} stream, ${counts.call} call, ${counts.http} HTTP`);

const samples = [];
let startSample;
let idleSample;
let loadSeconds = 0;
let hung = [];
const closeErrors = [];
let setupError;
let timers = [];

function takeSample(label) {
  notePids();
  const s = sample(pool, (performance.now() - (tally.startedAt ?? performance.now())) / 1000, label);
  return s;
}

/** Kills one ready worker, by the pid pool.stats() gives, if it is this process's child. */
function killOne() {
  const ready = pool.stats().workers.filter((w) => w.state === 'ready' && w.pid !== undefined);
  if (ready.length === 0) {
    kills.skipped++;
    return;
  }
  const victim = ready[Math.floor(Math.random() * ready.length)];
  pidsSeen.add(victim.pid);
  if (!isOwnChild(victim.pid)) {
    kills.skipped++;
    return;
  }
  try {
    process.kill(victim.pid, 'SIGKILL');
    kills.count++;
    kills.events.push({ atS: Math.round((performance.now() - tally.startedAt) / 100) / 10, id: victim.id, pid: victim.pid });
  } catch {
    kills.skipped++;
  }
}

function scheduleKills() {
  if (args.killEveryMs === 0) return;
  const next = () => {
    const timer = setTimeout(() => {
      if (control.stopping) return;
      killOne();
      next();
    }, args.killEveryMs * (0.5 + Math.random()));
    timers.push(timer);
  };
  next();
}

async function withLimit(promise, ms, what) {
  let timer;
  const limit = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms); });
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}

try {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'pyudf-soak-'));
  const module = path.join(tmp, 'soak_udf.py');
  await writeFile(module, UDF_SOURCE);
  pool = await createPool({ workers: args.workers, retries: args.retries, logger });
  notePids();
  udf = await pool.register({ module, name: MODEL, retries: args.retries });
  server = createServer({ udf, host: '127.0.0.1', port: 0, logger, drainTimeoutMs: 10_000 });
  const { url } = await server.listen();
  log(`serving ${url}/v2/models/${MODEL}; python ${meta.python ?? '?'}`);

  if (!interrupted) {
    startSample = takeSample('start');
    tally.startedAt = performance.now();
    const clientsDone = startClients({ udf, url, model: MODEL, seed: args.seed, counts, tally, control, inFlight });
    timers.push(setInterval(() => samples.push(takeSample('load')), intervalS * 1000));
    timers.push(setInterval(() => {
      const s = samples.at(-1);
      const elapsed = (performance.now() - tally.startedAt) / 1000;
      log(`${elapsed.toFixed(0)}/${runSeconds.toFixed(0)} s  ${tally.progress()}, kills ${kills.count}`
        + (s ? `; Node RSS ${mib(s.node.rss)}, ${s.node.fds} fds, ${s.node.threads} threads; workers ${mib(s.workersTotal.rss)}, ${s.workersTotal.fds} fds, ${s.workersTotal.threads} threads` : ''));
    }, PROGRESS_EVERY_S * 1000));
    scheduleKills();

    await Promise.race([sleep(runSeconds * 1000), stopRequested]);
    for (const timer of timers) clearTimeout(timer);
    timers = [];
    samples.push(takeSample('stop'));
    control.stopping = true;
    log(`stopping the load (${inFlight.size} operations running)`);
    try {
      await withLimit(clientsDone, DRAIN_LIMIT_MS, 'the operations running at the stop');
    } catch (error) {
      if (!error.message.includes('did not finish')) throw error;
      const now = performance.now();
      hung = [...inFlight].map((e) => ({ kind: e.kind, client: e.client, rows: e.rows, runningForS: Math.round((now - e.started) / 100) / 10 }));
      log(`${hung.length} operations still running ${DRAIN_LIMIT_MS / 1000} s after the stop: counted as hung`);
    }
    loadSeconds = (performance.now() - tally.startedAt) / 1000;

    // Back to idle: every worker ready again, nothing queued or running; then one more sample.
    const idleBy = performance.now() + 30_000;
    while (performance.now() < idleBy) {
      const st = pool.stats();
      if (st.readyWorkers === args.workers && st.queued === 0 && st.inFlight === 0 && st.workers.every((w) => w.state === 'ready')) break;
      await sleep(100);
    }
    await sleep(1000);
    idleSample = takeSample('idle');
  }
} catch (error) {
  setupError = error;
  log(`the soak itself failed: ${error?.stack ?? error}`);
} finally {
  for (const timer of timers) clearTimeout(timer);
  control.stopping = true;
  notePids();
  for (const [what, close] of [['server.close()', () => server?.close()], ['udf.close()', () => udf?.close()], ['pool.close()', () => pool?.close()]]) {
    try {
      await withLimit(Promise.resolve(close()), CLOSE_LIMIT_MS, what);
    } catch (error) {
      closeErrors.push(`${what}: ${error?.message ?? error}`);
    }
  }
}

// ---- what was left behind ---------------------------------------------------------------------

async function leftovers() {
  const found = [];
  // Workers exit on close(); give the exit of a just-killed one a moment to be reaped.
  let children = ownChildren();
  for (let i = 0; i < 50 && [...children.keys()].some((pid) => pidsSeen.has(pid)); i++) {
    await sleep(100);
    children = ownChildren();
  }
  for (const [pid, cmd] of children) {
    if (pidsSeen.has(pid) || cmd.includes('pyudf')) found.push(`process ${pid} still running: ${cmd.slice(0, 200)}`);
  }
  for (const root of [os.tmpdir(), '/dev/shm']) {
    let names = [];
    try { names = readdirSync(root); } catch { /* no such root */ }
    for (const name of names) if (name.startsWith(`pyudf-${process.pid}-`)) found.push(`directory ${path.join(root, name)} left by the pool`);
  }
  if (tmp) {
    await rm(tmp, { recursive: true, force: true });
    if (existsSync(tmp)) found.push(`directory ${tmp} could not be removed`);
  }
  return found;
}

const left = await leftovers();
await sleep(500); // what close() started (an fs call, a socket's end) has had time to finish
// Timeouts are left out: the fetch clients' AbortSignal.timeout timers stay listed until they expire.
const active = process.getActiveResourcesInfo().filter((r) => !['TTYWrap', 'PipeWrap', 'Timeout'].includes(r));

// ---- verdict and report -----------------------------------------------------------------------

const loadSamples = samples.filter((s) => s.label === 'load' || s.label === 'stop');
const windowOptions = { warmupS, workers: args.workers, window: windowSize };
const leaks = evaluateLeaks(loadSamples, windowOptions);
const failures = [];
if (setupError) failures.push(`the soak could not run to the end: ${setupError?.message ?? setupError}`);
if (tally.wrong) failures.push(`${tally.wrong} wrong results`);
if (tally.untyped) failures.push(`${tally.untyped} untyped errors`);
// A run in which some kind of operation never succeeded tested nothing of it (typed errors alone do not fail a run).
const clientsOf = { apply: counts.apply, stream: counts.stream, call: counts.call, 'http-json': counts.http, 'http-arrow': counts.http };
if (!setupError) {
  for (const kind of KINDS) {
    if (clientsOf[kind] > 0 && tally.ops[kind].count === 0) failures.push(`no ${kind} operation succeeded`);
  }
}
const allOps = KINDS.reduce((sum, kind) => sum + tally.ops[kind].count + tally.ops[kind].errors + tally.ops[kind].wrong, 0);
const typedErrors = Object.values(tally.errorsByCode).reduce((a, b) => a + b, 0) - tally.untyped;
if (allOps > 0 && typedErrors / allOps > args.maxErrorRate) {
  failures.push(`typed errors are ${(100 * typedErrors / allOps).toFixed(2)}% of ${allOps} operations, above --max-error-rate ${args.maxErrorRate}`);
}
if (unhandled.length) failures.push(`${unhandled.length} unhandled promise rejections`);
if (hung.length) failures.push(`${hung.length} operations hung (still running ${DRAIN_LIMIT_MS / 1000} s after the load stopped)`);
for (const leak of leaks) {
  if (!leak.ok) failures.push(`leak rule failed: ${leak.rule} (baseline ${fmt(leak.baseline, leak.unit)}, end ${fmt(leak.end, leak.unit)}, limit ${fmt(leak.limit, leak.unit)})`);
}
if (idleSample && idleSample.shm.files > 0) failures.push(`${idleSample.shm.files} result files (${fmt(idleSample.shm.bytes, 'bytes')}) left in /dev/shm after the drain`);
if (idleSample && idleSample.shm.spares > args.workers) failures.push(`${idleSample.shm.spares} spare result files in /dev/shm after the drain, more than one per worker (${args.workers})`);
if (idleSample && idleSample.pool.readyWorkers !== args.workers) failures.push(`only ${idleSample.pool.readyWorkers} of ${args.workers} workers ready 30 s after the load stopped`);
for (const error of closeErrors) failures.push(`closing failed: ${error}`);
for (const item of left) failures.push(`left behind: ${item}`);

function fmt(value, unit) {
  if (value === undefined || value === null) return 'n/a';
  return unit === 'bytes' ? mib(value) : String(Math.round(value * 10) / 10);
}

const seconds = loadSeconds || 1e-9;
const operations = Object.fromEntries(KINDS.map((kind) => {
  const op = tally.ops[kind];
  return [kind, {
    count: op.count, rows: op.rows, opsPerS: op.count / seconds, rowsPerS: op.rows / seconds,
    latency: op.latency.toJSON(), errors: op.errors, wrong: op.wrong, untyped: op.untyped,
  }];
}));
const totalErrors = Object.values(tally.errorsByCode).reduce((a, b) => a + b, 0);
const lastLoad = loadSamples.at(-1);

const lines = [];
lines.push('');
lines.push(`pyudf soak${interrupted ? ` (interrupted by ${interrupted}: partial)` : ''}: ${loadSeconds.toFixed(1)} s of load of ${runSeconds.toFixed(0)} planned, `
  + `${args.workers} workers, kill every ~${args.killEveryMs ? `${args.killEveryMs} ms` : 'never'}, retries ${args.retries}, seed ${args.seed}`);
lines.push(`${meta.cpus} × ${meta.cpu}, Node ${meta.node}, Python ${meta.python ?? '?'}; clients: ${counts.apply} apply, ${counts.stream} stream, ${counts.call} call, ${counts.http} HTTP`);
lines.push('');
lines.push(operationTable(tally, seconds));
lines.push('');
lines.push(`errors by code: ${totalErrors ? Object.entries(tally.errorsByCode).sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ') : 'none'}`);
lines.push(`wrong results: ${tally.wrong}; untyped errors: ${tally.untyped}; hung operations: ${hung.length}; unhandled rejections: ${unhandled.length}`);
lines.push(`kills: ${kills.count} (skipped ${kills.skipped} with no ready worker); pool restarts: ${idleSample?.pool.restarts ?? lastLoad?.pool.restarts ?? 'n/a'}`);
for (const example of tally.wrongExamples.slice(0, 3)) lines.push(`  wrong (${example.kind}, ${example.atS.toFixed(1)} s): ${example.message}`);
for (const example of tally.untypedExamples.slice(0, 3)) lines.push(`  untyped (${example.kind}, ${example.atS.toFixed(1)} s): ${example.code}: ${example.message.split('\n')[0]}`);
for (const [code, examples] of Object.entries(tally.typedExamples)) lines.push(`  ${code} (${examples[0].kind}, ${examples[0].atS.toFixed(1)} s): ${examples[0].message.split('\n')[0].slice(0, 300)}`);
lines.push('');
lines.push(`resources (start: before the load; baseline: median of the first ${windowSize} samples after a ${warmupS.toFixed(0)} s warm-up; end: median of the last ${windowSize} under load; one sample every ${intervalS.toFixed(1)} s; worker figures only from samples with every worker ready):`);
lines.push(resourceTable({ start: startSample, loadSamples, idle: idleSample, windowOptions }));
lines.push('current workers at the end (after the drain):');
lines.push(...workerLines(idleSample ?? lastLoad));
lines.push('');
lines.push('leak rules:');
for (const leak of leaks) {
  lines.push(`  ${leak.ok ? (leak.evaluated ? 'PASS' : 'SKIP') : 'FAIL'}  ${leak.rule}`
    + (leak.evaluated ? `: baseline ${fmt(leak.baseline, leak.unit)}, end ${fmt(leak.end, leak.unit)}, limit ${fmt(leak.limit, leak.unit)}` : '')
    + (leak.note ? ` (${leak.note})` : ''));
}
lines.push(`  ${idleSample && idleSample.shm.files === 0 ? 'PASS' : idleSample ? 'FAIL' : 'SKIP'}  no result file left in /dev/shm after the drain`);
lines.push(`  ${idleSample && idleSample.shm.spares <= args.workers ? 'PASS' : idleSample ? 'FAIL' : 'SKIP'}  at most one spare result file per worker after the drain (${idleSample?.shm.spares ?? 'n/a'})`);
lines.push(`  ${left.length === 0 ? 'PASS' : 'FAIL'}  after close: no worker process, no pyudf-${process.pid}-* directory, the soak's temp directory removed`);
lines.push('other checks:');
lines.push(`  ${failures.some((f) => f.startsWith('no ') && f.endsWith(' succeeded')) ? 'FAIL' : 'PASS'}  every kind of operation succeeded at least once`);
lines.push(`  ${allOps > 0 && typedErrors / allOps > args.maxErrorRate ? 'FAIL' : 'PASS'}  typed errors ≤ ${100 * args.maxErrorRate}% of operations (${typedErrors} of ${allOps})`);
const logSummary = Object.entries(logs.counts).map(([k, n]) => `${k} ${n}`).join(', ');
lines.push(`pool/server log lines: ${logSummary || 'none'}${active.length ? `; handles still open after close: ${active.join(', ')}` : ''}`);
lines.push('');
const partial = interrupted ? ` (interrupted after ${loadSeconds.toFixed(0)} s: the checks cover a partial run)` : '';
lines.push(failures.length ? `FAIL${partial}:\n${failures.map((f) => `  - ${f}`).join('\n')}` : `PASS${partial}`);
console.log(lines.join('\n'));

const report = {
  meta: { ...meta, seconds: loadSeconds },
  options: { ...args, out: undefined },
  interrupted: interrupted ?? null,
  operations,
  errorsByCode: tally.errorsByCode,
  typedErrorExamples: tally.typedExamples,
  wrongResults: tally.wrong,
  wrongExamples: tally.wrongExamples,
  untypedErrors: tally.untyped,
  untypedExamples: tally.untypedExamples,
  unhandledRejections: unhandled,
  hung,
  kills,
  leakRules: {
    warmupS, sampleIntervalS: intervalS, windowSamples: windowSize, rules: LEAK_RULES.map(ruleText),
    results: leaks,
  },
  resources: { start: startSample, idle: idleSample, samples: loadSamples },
  leftBehind: left,
  closeErrors,
  activeHandlesAfterClose: active,
  logs,
  verdict: { ok: failures.length === 0, failures },
};
const out = args.out ?? path.join(BENCH_DIR, 'results', `soak-${meta.date.replace(/[:.]/g, '-')}.json`);
await mkdir(path.dirname(out), { recursive: true });
await writeFile(out, `${JSON.stringify(report, null, 1)}\n`);
console.log(`\nwrote ${path.relative(process.cwd(), out)}`);
process.exit(interrupted === 'SIGTERM' ? 143 : interrupted ? 130 : failures.length ? 1 : 0);
