// Global set-up of the test run: fails the run if its tests left pyudf's temp or shared-memory directories behind.
import { readdirSync } from 'node:fs';
import os from 'node:os';
import { removeAbandoned } from '../src/transport/abandoned.js';
import { SHARED_MEMORY_ROOT } from '../src/transport/shared-memory.js';

/** Kept on purpose between runs: the trained Keras model (test/integration/keras.test.ts), the benchmarks' cache. */
const CACHES = new Set(['pyudf-test-cache', 'pyudf-bench']);
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

export default function setup(): () => void {
  const before = new Set(ours());
  return () => {
    // What a pool killed by a test (SIGKILL of its Node process) left is the next pool's to remove: do that now.
    for (const root of ROOTS) removeAbandoned(root);
    const left = ours().filter((entry) => !before.has(entry));
    if (left.length === 0) return;
    // vitest reports an error thrown here but still exits 0: set the exit code as well.
    process.exitCode = 1;
    throw new Error(`the tests left ${left.length} pyudf directories or files behind:\n${left.join('\n')}`);
  };
}
