// pyudf's two paths for large bodies: the default (bodies from 1 MiB through /dev/shm files) and every
// body on the socket (sharedMemoryMinBytes: null), at 64k rows per call and for a 1M-row table. Run in
// one process the two would share a V8 heap, whose garbage collections depend on what ran before, so
// each variant runs in fresh processes of its own (lib/body-path-child.mjs), taking turns.
import path from 'node:path';
import { BENCH_DIR } from '../lib/config.mjs';
import { runNode } from '../lib/procs.mjs';
import { summarise } from '../lib/stats.mjs';

export const VARIANTS = { 'pyudf': {}, 'pyudf, socket only': { sharedMemoryMinBytes: null } };

export async function run(s, log) {
  const rounds = s.quick ? 1 : 2;
  const runs = Object.fromEntries(Object.keys(VARIANTS).map((system) => [system, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const system of Object.keys(VARIANTS)) {
      const child = [path.join(BENCH_DIR, 'lib', 'body-path-child.mjs'), system, ...(s.quick ? ['--quick'] : [])];
      const result = JSON.parse(await runNode(child));
      log(`${system}, round ${round}: ${result.map((r) => `${r.rowsPerCall} rows/call ${(r.repeats.reduce((n, x) => n + x.rows, 0) / r.repeats.reduce((n, x) => n + x.ms, 0) * 1000 / 1e6).toFixed(2)}M rows/s`).join(', ')}`);
      runs[system].push(result);
    }
  }
  // Every round's calls and repeats pooled into one row per variant and size.
  const rows = Object.entries(runs).flatMap(([system, results]) => results[0].map((first, i) => summarise({
    system,
    rowsPerCall: first.rowsPerCall,
    latenciesMs: results.flatMap((r) => r[i].latenciesMs),
    repeats: results.flatMap((r) => r[i].repeats),
    extra: { check: results.find((r) => !r[i].check.ok)?.[i].check ?? first.check, sharedMemory: first.sharedMemory, rounds },
  })));
  return { reference: 'pyudf', rows };
}
