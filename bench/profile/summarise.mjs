// Prints where the time went in a profile directory written by apply-loop.mjs: Node's top self-time
// functions and time by package, the worker's phases per call, and the head of its cProfile.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const dir = path.resolve(process.argv[2] ?? 'bench/results/profile');
const TOP = 15;

function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const functions = new Map();
  const packages = new Map();
  let total = 0;
  for (const [id, us] of self) {
    const { callFrame: f } = byId.get(id);
    total += us;
    const where = f.url ? `${f.url.replace(/^file:\/\/.*node_modules\//, '').replace(/^file:\/\/.*\/(dist|bench)\//, '$1/')}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    functions.set(key, (functions.get(key) ?? 0) + us);
    const pkg = !f.url ? f.functionName : f.url.includes('node_modules/')
      ? f.url.split('node_modules/')[1].split('/')[0] : f.url.startsWith('node:') ? 'node internals' : f.url.includes('/dist/') ? 'pyudf (dist)' : f.url.includes('/bench/') ? 'bench' : f.url;
    packages.set(pkg, (packages.get(pkg) ?? 0) + us);
  }
  const sorted = (m) => [...m].sort((a, b) => b[1] - a[1]);
  return { total, functions: sorted(functions), packages: sorted(packages) };
}

const files = readdirSync(dir);
for (const loop of files.filter((f) => /^loop-\d+\.json$/.test(f)).sort((a, b) => parseInt(a.slice(5)) - parseInt(b.slice(5)))) {
  const rows = loop.match(/\d+/)[0];
  const summary = JSON.parse(readFileSync(path.join(dir, loop), 'utf8'));
  const per = (us) => `${(us / summary.calls).toFixed(1).padStart(8)} µs/call`;
  console.log(`\n=== ${rows} rows/call: ${summary.calls} calls, ${(summary.perCallMs * 1000).toFixed(0)} µs per call wall ===`);
  if (summary.cpuUsPerCall) {
    const threads = (side) => Object.entries(summary.cpuUsPerCall[side]).sort((a, b) => b[1] - a[1]).map(([n, us]) => `${n} ${us}`).join(', ');
    console.log('CPU µs per call by thread (/proc; the profilers included):');
    console.log(`  Node:   ${threads('node')}`);
    console.log(`  worker: ${threads('worker')}`);
  }
  const node = selfTimes(JSON.parse(readFileSync(path.join(dir, `node-${rows}.cpuprofile`), 'utf8')));
  console.log(`Node self time by package (profile ${(node.total / 1000).toFixed(0)} ms):`);
  for (const [pkg, us] of node.packages.slice(0, 10)) console.log(`  ${(100 * us / node.total).toFixed(1).padStart(5)}%  ${per(us)}  ${pkg}`);
  console.log('Node top self-time functions:');
  for (const [fn, us] of node.functions.slice(0, TOP)) console.log(`  ${(100 * us / node.total).toFixed(1).padStart(5)}%  ${per(us)}  ${fn}`);
  const phasesFile = path.join(dir, `worker-${rows}.phases.json`);
  if (existsSync(phasesFile)) {
    const phases = JSON.parse(readFileSync(phasesFile, 'utf8'));
    console.log(`Worker phases (${phases.calls} CALLs; perf_counter${phases.cprofile ? ', under cProfile' : ''}):`);
    for (const [name, s] of Object.entries(phases.seconds).sort((a, b) => b[1] - a[1])) {
      console.log(`  ${((s * 1e6) / phases.calls).toFixed(1).padStart(8)} µs/call  ${name}`);
    }
    const pstatsFile = path.join(dir, `worker-${rows}.pstats.txt`);
    if (!phases.cprofile || !existsSync(pstatsFile)) continue;
    const pstats = readFileSync(pstatsFile, 'utf8').split('\n');
    const head = pstats.findIndex((l) => l.includes('tottime'));
    console.log('Worker cProfile, by tottime (message handling only, not the wait in recv):');
    console.log(pstats.slice(head, head + 16).map((l) => `  ${l}`).join('\n'));
  }
}
