// Shared test fixtures: the project's Python, pools that are always closed, and process checks.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, inject, it } from 'vitest';
import { createPool, type Pool, type PoolOptions, type PoolStats, type RayBackendStats, type RayPoolOptions } from '../src/index.js';
import { isAlive, isRunning, PYTHON, ROOT, waitFor } from './processes.js';
import { RAY_TEST_ENV } from './ray-cluster.js';

export { isAlive, isRunning, PYTHON, ROOT, waitFor } from './processes.js';
export { RAY_TEST_ENV, type RayCluster, startRayCluster } from './ray-cluster.js';
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

/** What stats() reports on either backend. */
export type AnyPoolStats = PoolStats | RayBackendStats;

/** Process ids of a pool's live workers (a Ray pool's actors on this machine). */
export function workerPids(pool: Pool<AnyPoolStats>): number[] {
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


/**
 * Starts a Ray pool like startPool() does a local one; closed after each test, and the test fails if
 * an actor process it placed on this machine is still running 15 s after close().
 */
export async function startRayPool(options: RayPoolOptions, logs: CapturedLog[] = []): Promise<Pool<RayBackendStats>> {
  const pool = await createPool({ python: PYTHON, logger: (line, meta) => logs.push({ ...meta, line }), ...options });
  openRayPools.add(pool);
  return pool;
}

const openRayPools = new Set<Pool<RayBackendStats>>();

afterEach(async () => {
  const pools = [...openRayPools];
  openRayPools.clear();
  for (const pool of pools) {
    const pids = pool.stats().workers.filter((w) => w.state !== 'dead').flatMap((w) => w.pid ?? []);
    await pool.close();
    await waitFor(() => !pids.some(isRunning), 15_000, `actor processes ${pids.join(', ')} to end after close()`);
  }
});

/** Where a test parametrised over backends runs its pools. */
export type BackendName = 'local' | 'ray';
export const BACKENDS: readonly BackendName[] = ['local', 'ray'];

/**
 * `it` on local workers, and nothing on Ray: for a scenario parametrised over backends that no backend
 * takes part in (options checked in Node, results converted in the worker's shared code), so that the
 * Ray run does not pay 3 s of pool start-up to test it twice.
 */
export function backendAgnostic(backend: BackendName): typeof it {
  return backend === 'local' ? it : (((): void => undefined) as unknown as typeof it);
}

/**
 * startPool() on `backend`: local worker processes, or as many Ray actors (`workers`, default 2) spread
 * over the two nodes of the run's shared Ray (test/ray-global.ts), each asking Ray for a quarter CPU.
 */
export async function startPoolOn(backend: BackendName, options: PoolOptions = {}, logs: CapturedLog[] = []): Promise<Pool<AnyPoolStats>> {
  if (backend === 'local') return startPool(options, logs);
  const { workers = 2, env, backend: _local, ...rest } = options;
  for (const key of ['sharedMemoryMinBytes', 'memoryLimitMb', 'stderrTailLines', 'threadsPerWorker'] as const) {
    if (key in rest) throw new Error(`startPoolOn: ${key} is an option of local workers only`);
  }
  const pool = await startRayPool({
    ...rest,
    env: { ...RAY_TEST_ENV, ...env },
    backend: { type: 'ray', address: inject('rayAddress'), actors: workers, actorOptions: { num_cpus: 0.25, scheduling_strategy: 'SPREAD' } },
  }, logs);
  // Every scenario with two or more actors runs across both nodes: a test that passes here passes on a cluster.
  const nodes = new Set(pool.stats().workers.map((w) => w.nodeId));
  if (workers >= 2 && nodes.size !== 2) throw new Error(`startPoolOn: SPREAD placed ${workers} actors on ${nodes.size} node(s) of 2`);
  return pool;
}

