// The seam between pyudf's front ends (Udf, streams, server, CLI) and every place a UDF can run.
import type { UdfSpecMessage } from '../protocol/wire.js';
import type { BatchRequest, BatchTask } from './batch-task.js';

/** What a backend loads: the module or code, its hooks and `conf` (protocol.md §3.2), and its limits. */
export interface UdfSpec extends UdfSpecMessage {
  /**
   * A worker whose resident memory passes this many MiB while it runs this UDF's `init` or a batch of it
   * is killed and replaced (below the pool's own limit, which always applies). Not sent to Python.
   */
  readonly memoryLimitMb?: number | null;
  /** How many workers load this UDF; null or absent: every worker. Not sent to Python. */
  readonly instances?: number | null;
}

/** What every backend reports; a backend's own stats add its details (processes, actors, …). */
export interface BackendStats {
  /** Which backend: `'local'` for worker processes on this machine. */
  readonly backend: string;
  /** Batches waiting for a free worker. */
  readonly queued: number;
  /** Batches sent to a worker and not answered yet. */
  readonly inFlight: number;
  /** Workers serving (started, with every registered UDF initialised). */
  readonly readyWorkers: number;
  /** Workers started to replace ones that died. */
  readonly restarts: number;
}

/**
 * Runs registered UDFs somewhere: local worker processes today. Everything above this interface
 * (`Udf`, the micro-batcher, streams, the server, metrics, the CLI) depends on it alone.
 *
 * Contract: `register` resolves once the UDF's `init` ran wherever it will serve, and rejects with a
 * `PythonError` (nothing stays registered) otherwise. Every task `submit` returns settles exactly once:
 * with the result table, or with a typed `PyUdfError`. `close` waits for submitted work, then releases
 * every process, socket and file the backend holds.
 */
export interface Backend<S extends BackendStats = BackendStats> extends AsyncDisposable {
  /** Loads a UDF and runs its `init`; resolves with the id `submit` takes. */
  register(spec: UdfSpec): Promise<number>;
  /** Frees a UDF's state wherever it is loaded; work for it that is still queued fails. */
  unregister(udfId: number): Promise<void>;
  /** Queues one batch. The task's `result` settles exactly once. */
  submit(request: BatchRequest): BatchTask;
  /** Fails tasks that are no longer wanted; queued ones are never sent. */
  cancel(tasks: readonly BatchTask[], reason: Error): void;
  /** True while some worker has the UDF initialised and can serve it. */
  isServing(udfId: number): boolean;
  stats(): S;
  /** Whether the backend keeps Node's event loop alive while no submitted work awaits an answer (default true). */
  keepAlive(keep: boolean): void;
  /** Drains submitted work, then stops every worker. Safe to call more than once. */
  close(): Promise<void>;
}
