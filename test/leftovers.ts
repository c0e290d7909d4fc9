// Global set-up of the test run: fails the run if its tests left pyudf's temp or shared-memory directories behind.
import { readdirSync } from 'node:fs';
import os from 'node:os';
import { removeAbandoned } from '../src/transport/abandoned.js';
import { SHARED_MEMORY_ROOT } from '../src/transport/shared-memory.js';

/** Kept on purpose between runs: the benchmarks' cache, and the demo's trained model (examples/README.md). */
const CACHES = new Set(['pyudf-bench', 'pyudf-demo']);
const ROOTS = [os.tmpdir(), SHARED_MEMORY_ROOT];

function ours(): string[] {
  return ROOTS.flatMap((root) => {
    try {
      return readdirSync(root).filter((name) => name.startsWith('pyudf-') && !CACHES.has(name)).map((name) => `${root}/${name}`);
    } catch {
      return [];
    }
  });
}

/** Names the temp directories of this run (test/helpers.ts tempDir()), so that another run's are not taken for ours. */
export const RUN_ENV = 'PYUDF_TEST_RUN';

export default function setup(): () => void {
  const before = new Set(ours());
  const run = `-run${process.pid}-`;
  process.env[RUN_ENV] = run;
  return () => {
    // What a pool killed by a test (SIGKILL of its Node process) left is the next pool's to remove: do that now.
    for (const root of ROOTS) removeAbandoned(root);
    const added = ours().filter((entry) => !before.has(entry));
    const others = added.filter((entry) => !entry.includes(run));
    // Another test run on this machine may be making its own: named, not failed on.
    if (others.length) process.stderr.write(`pyudf directories that appeared during the run, not this run's: ${others.join(', ')}\n`);
    const left = added.filter((entry) => entry.includes(run));
    if (left.length === 0) return;
    // vitest reports an error thrown here but still exits 0: set the exit code as well.
    process.exitCode = 1;
    throw new Error(`the tests left ${left.length} pyudf directories or files behind:\n${left.join('\n')}`);
  };
}
