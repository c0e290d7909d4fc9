// Pool options, their documented defaults, and validation at the boundary.
import os from 'node:os';
import { InvalidOptionError } from '../errors.js';
import { defaultLogger, type Logger } from '../log/logger.js';
import { defaultThreadsPerWorker } from '../python/worker-env.js';
import { DEFAULT_SHARED_MEMORY_MIN_BYTES } from '../local/index.js';
import { type RayBackendOptions, validateRayOptions } from '../ray/index.js';
import { nonNegativeInteger, positiveInteger } from '../validate.js';

/** The local backend: worker processes on this machine (the default). */
export interface LocalBackendOptions {
  readonly type: 'local';
}

export interface PoolOptions {
  /** Where the workers run: `{ type: 'local' }` (the default), or on Ray (see `RayPoolOptions`). */
  readonly backend?: LocalBackendOptions;
  /** Worker processes. Default: the number of CPU cores (`os.availableParallelism()`). */
  readonly workers?: number;
  /** Python interpreter. Default: $PYUDF_PYTHON, else the nearest .venv/bin/python at or above the current directory (one owned by you or root, not writable by others), else python3. */
  readonly python?: string;
  /** Extra environment variables for the workers; they win over everything pyudf sets. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Threads each worker's numeric libraries may use (OMP/MKL/OpenBLAS/TF variables).
   * Default: floor(cores / workers), at least 1. `null` leaves those variables untouched.
   */
  readonly threadsPerWorker?: number | null;
  /** Batches sent to one worker before it answers; 2 overlaps the next transfer with compute. Default 2. */
  readonly maxInFlightPerWorker?: number;
  /** Times a batch is re-sent to another worker after its worker died. Default 1. */
  readonly retries?: number;
  /** How long a starting worker (at creation or as a replacement) may take to connect. Default 60 000 ms. */
  readonly startTimeoutMs?: number;
  /** On close(): wait this long after SHUTDOWN, then SIGTERM, then this long again, then SIGKILL. Default 5 000 ms. */
  readonly shutdownTimeoutMs?: number;
  /**
   * Receives the pool's diagnostics (`source: 'pool'`) and each line its workers print (`source: 'w0'`, …,
   * with `stream`). Default: written to stderr prefixed with `[pyudf <source>]`.
   */
  readonly logger?: Logger;
  /** Stderr lines kept per worker for crash reports. Default 50. */
  readonly stderrTailLines?: number;
  /**
   * Results of at least this many bytes come back through files in /dev/shm instead of the socket
   * (far less garbage collection in Node); smaller ones, and every result where /dev/shm is missing
   * or full, use the socket. Default 1 MiB; `null` keeps every result on the socket. Each worker keeps
   * its last file of up to 64 MiB to overwrite with its next result (protocol.md §3.7), so that much
   * of /dev/shm per worker stays in use between calls.
   */
  readonly sharedMemoryMinBytes?: number | null;
  /**
   * A worker whose resident memory passes this many MiB (sampled every 100 ms) is killed and replaced;
   * the batch it ran fails with a WorkerCrashedError that says so (after its retries). Default null: no limit.
   */
  readonly memoryLimitMb?: number | null;
  /**
   * A worker whose process stops answering the socket's heartbeats for this long (stopped by SIGSTOP or a
   * debugger, frozen) is killed and replaced, and its batches retried. Busy workers are not affected:
   * heartbeats are answered by libzmq's own thread, not by Python. Default 10 000 ms; `null`: no heartbeats.
   */
  readonly livenessTimeoutMs?: number | null;
}

/**
 * A pool whose workers are Ray actors: `createPool({ backend: { type: 'ray', address, actors, actorOptions } })`.
 * `workers` is the default for `backend.actors`; `python` runs the pool's Ray driver (the actors run the
 * cluster's Python); `env` reaches the driver and the actors; `threadsPerWorker` defaults to the actor's
 * `num_cpus` (at least 1), `null` leaving the thread variables to Ray. Results always come over the
 * socket (no shared-memory files) and actor memory is Ray's to limit.
 */
export interface RayPoolOptions extends Omit<PoolOptions, 'backend' | 'sharedMemoryMinBytes' | 'memoryLimitMb' | 'stderrTailLines'> {
  readonly backend: RayBackendOptions;
}

export type ResolvedPoolOptions = Required<Omit<PoolOptions, 'python' | 'backend'>> & { readonly python: string | undefined };

/** The pool options of a Ray pool, resolved, and the Ray backend's own. */
export interface ResolvedRayPoolOptions extends Omit<ResolvedPoolOptions, 'workers' | 'threadsPerWorker'> {
  readonly ray: RayBackendOptions;
  readonly workers: number | undefined;
  readonly threadsPerWorker: number | null;
}

const LOCAL_ONLY_OPTIONS = ['sharedMemoryMinBytes', 'memoryLimitMb', 'stderrTailLines'] as const;

export function resolveRayPoolOptions(options: RayPoolOptions): ResolvedRayPoolOptions {
  const ray = options.backend;
  validateRayOptions(ray);
  for (const key of LOCAL_ONLY_OPTIONS) {
    if ((options as unknown as Record<string, unknown>)[key] !== undefined) {
      throw new InvalidOptionError(key, key === 'memoryLimitMb'
        ? 'does not apply to Ray actors: reserve memory with backend.actorOptions.memory (Ray kills workers when a node runs out)'
        : 'applies only to local workers, not to Ray actors');
    }
  }
  if (options.workers !== undefined && ray.actors !== undefined && options.workers !== ray.actors) {
    throw new InvalidOptionError('workers', `is the default for backend.actors; give one of them (got ${options.workers} and ${ray.actors})`);
  }
  const { backend: _backend, ...poolOptions } = options;
  const { workers: _workers, threadsPerWorker: _threads, ...common } = resolvePoolOptions(poolOptions);
  // As many threads as the CPUs Ray reserves for the actor: TensorFlow's own default (every core of
  // the node) oversubscribes a node shared by several actors (measured: 45% more CPU per Keras call).
  const threadsPerWorker = options.threadsPerWorker === undefined ? Math.max(1, Math.floor(ray.actorOptions?.num_cpus ?? 1)) : options.threadsPerWorker;
  return { ...common, ray, workers: options.workers, threadsPerWorker };
}

export function resolvePoolOptions(options: PoolOptions = {}): ResolvedPoolOptions {
  const backend = (options as { readonly backend?: { readonly type?: unknown } }).backend;
  if (backend !== undefined && backend.type !== 'local') {
    throw new InvalidOptionError('backend.type', `must be 'local' or 'ray', got ${JSON.stringify(backend.type)}`);
  }
  const workers = options.workers ?? os.availableParallelism();
  positiveInteger('workers', workers);
  const resolved: ResolvedPoolOptions = {
    workers,
    python: options.python,
    env: options.env ?? {},
    threadsPerWorker: options.threadsPerWorker === undefined ? defaultThreadsPerWorker(workers) : options.threadsPerWorker,
    maxInFlightPerWorker: options.maxInFlightPerWorker ?? 2,
    retries: options.retries ?? 1,
    startTimeoutMs: options.startTimeoutMs ?? 60_000,
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? 5_000,
    logger: options.logger ?? defaultLogger,
    stderrTailLines: options.stderrTailLines ?? 50,
    sharedMemoryMinBytes: options.sharedMemoryMinBytes === undefined ? DEFAULT_SHARED_MEMORY_MIN_BYTES : options.sharedMemoryMinBytes,
    memoryLimitMb: options.memoryLimitMb ?? null,
    livenessTimeoutMs: options.livenessTimeoutMs === undefined ? 10_000 : options.livenessTimeoutMs,
  };
  if (resolved.livenessTimeoutMs !== null) {
    positiveInteger('livenessTimeoutMs', resolved.livenessTimeoutMs);
    // Under 100 ms a busy machine misses heartbeats; libzmq takes at most 2^31 - 1.
    if (resolved.livenessTimeoutMs < 100 || resolved.livenessTimeoutMs > 2 ** 31 - 1) {
      throw new InvalidOptionError('livenessTimeoutMs', `must be from 100 to ${2 ** 31 - 1} ms, or null for no heartbeats; got ${resolved.livenessTimeoutMs}`);
    }
  }
  if (resolved.memoryLimitMb !== null) positiveInteger('memoryLimitMb', resolved.memoryLimitMb);
  if (resolved.sharedMemoryMinBytes !== null) nonNegativeInteger('sharedMemoryMinBytes', resolved.sharedMemoryMinBytes);
  if (resolved.threadsPerWorker !== null) positiveInteger('threadsPerWorker', resolved.threadsPerWorker);
  positiveInteger('maxInFlightPerWorker', resolved.maxInFlightPerWorker);
  nonNegativeInteger('retries', resolved.retries);
  positiveInteger('startTimeoutMs', resolved.startTimeoutMs);
  nonNegativeInteger('shutdownTimeoutMs', resolved.shutdownTimeoutMs);
  nonNegativeInteger('stderrTailLines', resolved.stderrTailLines);
  if (options.python !== undefined && (typeof options.python !== 'string' || options.python === '')) {
    throw new InvalidOptionError('python', 'must be a non-empty path or command name');
  }
  if (typeof resolved.logger !== 'function') throw new InvalidOptionError('logger', 'must be a function (message, meta) => void');
  for (const [key, value] of Object.entries(resolved.env)) {
    if (typeof value !== 'string') throw new InvalidOptionError(`env.${key}`, `must be a string, got ${typeof value}`);
  }
  return resolved;
}
