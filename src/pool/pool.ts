// The pool: the front door users hold (register, stats, close), over one backend that runs the UDFs.
import type { TypeMap } from 'apache-arrow';
import { PoolClosedError } from '../errors.js';
import type { Backend, BackendStats } from '../backend/backend.js';
import { createLocalBackend, type LocalBackendStats } from '../local/index.js';
import { createRayBackend, type RayBackendStats } from '../ray/index.js';
import { type RegisterOptions, resolveUdfSpec } from '../udf/register-options.js';
import { Udf } from '../udf/udf.js';
import { type PoolOptions, type RayPoolOptions, resolvePoolOptions, resolveRayPoolOptions } from './options.js';

/** What `pool.stats()` reports for a pool of local worker processes (what `createPool()` makes). */
export type PoolStats = LocalBackendStats;

/**
 * Starts a pool of local Python worker processes (or, with `backend: { type: 'ray', … }`, of Ray actors)
 * and waits until every worker is connected.
 */
export function createPool(options: RayPoolOptions): Promise<Pool<RayBackendStats>>;
export function createPool(options?: PoolOptions): Promise<Pool<LocalBackendStats>>;
export function createPool(options?: PoolOptions | RayPoolOptions): Promise<Pool<BackendStats>>;
export async function createPool(options: PoolOptions | RayPoolOptions = {}): Promise<Pool<BackendStats>> {
  if (options.backend?.type === 'ray') {
    const resolved = resolveRayPoolOptions(options as RayPoolOptions);
    const backend = await createRayBackend(resolved);
    return new Pool<RayBackendStats>(backend, { retries: resolved.retries });
  }
  const resolved = resolvePoolOptions(options as PoolOptions);
  const backend = await createLocalBackend(resolved);
  return new Pool(backend, { retries: resolved.retries });
}

/** Settings a pool applies to every UDF registered on it. */
export interface PoolDefaults {
  /** Re-sends of a batch whose worker died, unless the UDF sets its own `retries`. */
  readonly retries: number;
}

/**
 * Python workers that serve registered UDFs, wherever the backend runs them. Create one with
 * `createPool()`; `S` is what its backend's `stats()` reports (by default, local worker processes').
 * Code that takes any pool types it `Pool<BackendStats>`.
 */
export class Pool<S extends BackendStats = LocalBackendStats> implements AsyncDisposable {
  private closed: Promise<void> | undefined;
  /** UDFs registered here and not closed: close() sends the rows their micro-batchers hold before draining. */
  private readonly udfs = new Set<Udf>();

  constructor(readonly backend: Backend<S>, private readonly defaults: PoolDefaults) {}

  /** Workers serving now. */
  get readyWorkers(): number {
    return this.backend.stats().readyWorkers;
  }

  /** Workers started to replace ones that died. */
  get restarts(): number {
    return this.backend.stats().restarts;
  }

  /**
   * Lets Node exit while the pool is idle, as `server.unref()` does: a script that ends without
   * `close()` then exits instead of waiting for the workers, which end with it. Calls in flight still
   * keep Node running until they are answered. Returns the pool.
   */
  unref(): this {
    this.backend.keepAlive(false);
    return this;
  }

  /** Undoes `unref()`: the pool keeps Node running until `close()` (the default). Returns the pool. */
  ref(): this {
    this.backend.keepAlive(true);
    return this;
  }

  /** A snapshot for monitoring: queue, batches in flight, restarts, and the backend's own details. */
  stats(): S {
    return this.backend.stats();
  }

  /**
   * Loads a Python module (or inline code) in every worker and calls its `init(conf)` once per worker;
   * resolves once `init` ran on at least one (with every worker restarting, it waits for the first).
   * Rejects with PythonError if loading or `init` fails anywhere, or WorkerCrashedError if every worker
   * it was sent to died; nothing stays registered then (protocol.md §8).
   */
  async register<In extends TypeMap = TypeMap, Out extends TypeMap = TypeMap>(
    options: RegisterOptions<In, Out>,
  ): Promise<Udf<In, Out>> {
    if (this.closed) throw new PoolClosedError('the pool is closed; create a new pool to register UDFs');
    const { spec, settings } = resolveUdfSpec(options as unknown as RegisterOptions, this.defaults.retries);
    const udfId = await this.backend.register(spec);
    const udf = new Udf<In, Out>(this.backend, udfId, settings, () => this.udfs.delete(udf as unknown as Udf));
    this.udfs.add(udf as unknown as Udf);
    return udf;
  }

  /**
   * Drains queued and running calls, rows waiting in `call()`'s micro-batches included, then stops
   * every worker. Safe to call more than once.
   */
  close(): Promise<void> {
    if (!this.closed) {
      for (const udf of this.udfs) udf.poolClosing();
      this.closed = this.backend.close();
    }
    return this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
