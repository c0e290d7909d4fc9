// Shared test fixtures: the project's Python, pools that are always closed, and process checks.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach } from 'vitest';
import { createPool, type Pool, type PoolOptions, type PoolStats } from '../src/index.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const PYTHON = path.join(ROOT, '.venv', 'bin', 'python');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures');
export const fixture = (name: string): string => path.join(FIXTURES, name);

/** Log lines collected from the pool and its workers instead of cluttering the test output. */
export interface CapturedLog { source: string; level: string; stream?: string; line: string }

const openPools = new Set<Pool<PoolStats>>();

/**
 * Starts a pool on the project's .venv Python; every pool started in a test is closed after it, and
 * the test fails if any of its worker processes is still alive after close().
 */
export async function startPool(options: PoolOptions = {}, logs: CapturedLog[] = []): Promise<Pool<PoolStats>> {
  const pool = await createPool({
    python: PYTHON,
    workers: 2,
    logger: (line, meta) => logs.push({ ...meta, line }),
    ...options,
  });
  openPools.add(pool);
  return pool;
}

afterEach(async () => {
  const pools = [...openPools];
  openPools.clear();
  for (const pool of pools) {
    const pids = workerPids(pool);
    await pool.close();
    const alive = pids.filter(isAlive);
    if (alive.length) throw new Error(`worker processes left behind after close(): ${alive.join(', ')}`);
  }
});

/** Process ids of a local pool's live workers. */
export function workerPids(pool: Pool<PoolStats>): number[] {
  return pool.stats().workers.filter((w) => w.state !== 'dead').flatMap((w) => w.pid ?? []);
}

const tempDirs: string[] = [];

/** A fresh private directory under the OS temp dir, removed once the test file's tests are done. */
export function tempDir(prefix: string): string {
  // The run's mark (test/leftovers.ts) lets the run check that it removed every directory it made.
  const dir = mkdtempSync(path.join(os.tmpdir(), `pyudf-${prefix}${process.env['PYUDF_TEST_RUN'] ?? '-'}`));
  tempDirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
