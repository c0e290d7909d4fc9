// The local backend: worker processes on this machine, behind one ZeroMQ socket, scheduled by the shared Scheduler.
import type { Backend, BackendStats, UdfSpec } from '../backend/backend.js';
import type { BatchRequest, BatchTask } from '../backend/batch-task.js';
import type { Logger } from '../log/logger.js';
import { MAX_RESULT_BYTES } from '../protocol/wire.js';
import { findPython } from '../python/find-python.js';
import { workerEnv } from '../python/worker-env.js';
import type { WorkerState } from '../scheduler/executor-slot.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { RouterTransport } from '../transport/router.js';
import { SharedMemoryFiles } from '../transport/shared-memory.js';
import { ProcessLauncher } from './process-launcher.js';
import type { WorkerConnection } from './worker-connection.js';

/** The local backend's settings (createPool() validates them and applies the defaults). */
export interface LocalBackendSettings {
  readonly workers: number;
  readonly python: string | undefined;
  readonly env: Readonly<Record<string, string>>;
  readonly threadsPerWorker: number | null;
  readonly maxInFlightPerWorker: number;
  readonly startTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  readonly logger: Logger;
  readonly stderrTailLines: number;
  readonly sharedMemoryMinBytes: number | null;
  readonly memoryLimitMb: number | null;
  readonly livenessTimeoutMs: number | null;
}

export interface WorkerStats {
  readonly id: string;
  readonly pid: number | undefined;
  readonly state: WorkerState;
  /** Batches sent to this worker and not answered yet. */
  readonly inFlight: number;
  /** UDFs initialised in this worker. */
  readonly udfs: number;
  /** Their ids (`Udf.id`): with `instances`, which workers hold which UDF. */
  readonly udfIds: readonly number[];
}

export interface LocalBackendStats extends BackendStats {
  readonly backend: 'local';
  /** The Python interpreter the workers run. */
  readonly python: string;
  readonly workers: readonly WorkerStats[];
  /** Results that came through /dev/shm files (`sharedMemoryMinBytes`) instead of the socket. */
  readonly sharedMemory: {
    /** The pool's directory of result files; null when every result uses the socket. */
    readonly dir: string | null;
    readonly resultsReceived: number;
  };
}

/** Binds the socket, starts the workers and waits until every one is connected. */
export async function createLocalBackend(settings: LocalBackendSettings): Promise<LocalBackend> {
  // Before anything is created: a missing interpreter leaves nothing to clean up.
  const python = findPython(settings.python).python;
  const env = workerEnv(settings.threadsPerWorker, settings.env);
  const { livenessTimeoutMs } = settings;
  // Several heartbeats per timeout, so one late pong does not end a worker; not more than one a second.
  const heartbeat = livenessTimeoutMs === null ? null : { intervalMs: Math.max(50, Math.min(1_000, Math.floor(livenessTimeoutMs / 4))), timeoutMs: livenessTimeoutMs };
  const transport = await RouterTransport.bind(MAX_RESULT_BYTES, heartbeat);
  const files = settings.sharedMemoryMinBytes === null ? undefined : await SharedMemoryFiles.create(settings.sharedMemoryMinBytes);
  const launcher = new ProcessLauncher(transport, files, {
    python, env, logger: settings.logger, stderrTailLines: settings.stderrTailLines, memoryLimitMb: settings.memoryLimitMb, heartbeat,
  });
  const backend = new LocalBackend(python, launcher, new Scheduler(launcher, settings), files);
  await backend.start();
  return backend;
}

export class LocalBackend implements Backend<LocalBackendStats> {
  private closed: Promise<void> | undefined;

  /** @internal use createLocalBackend() */
  constructor(
    readonly python: string,
    private readonly launcher: ProcessLauncher,
    private readonly scheduler: Scheduler<WorkerConnection>,
    private readonly files: SharedMemoryFiles | undefined,
  ) {}

  /** @internal */
  async start(): Promise<void> {
    try {
      await this.scheduler.start();
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  register(spec: UdfSpec): Promise<number> {
    return this.scheduler.register(spec);
  }

  unregister(udfId: number): Promise<void> {
    return this.scheduler.unregister(udfId);
  }

  submit(request: BatchRequest): BatchTask {
    return this.scheduler.submit(request);
  }

  cancel(tasks: readonly BatchTask[], reason: Error): void {
    this.scheduler.cancel(tasks, reason);
  }

  isServing(udfId: number): boolean {
    return this.scheduler.isServing(udfId);
  }

  stats(): LocalBackendStats {
    const { scheduler } = this;
    return {
      backend: 'local',
      python: this.python,
      queued: scheduler.queued,
      inFlight: scheduler.inFlight,
      readyWorkers: scheduler.readyWorkers,
      restarts: scheduler.restarts,
      workers: scheduler.workers.map((slot) => ({
        id: slot.id, pid: slot.executor.pid, state: slot.state, inFlight: slot.running.size, udfs: slot.udfs.size, udfIds: [...slot.udfs],
      })),
      sharedMemory: { dir: this.files?.dir ?? null, resultsReceived: this.launcher.replies.resultsFromFiles },
    };
  }

  keepAlive(keep: boolean): void {
    this.launcher.keepAlive(keep);
  }

  /** Drains queued and running batches, then stops every worker (SHUTDOWN, SIGTERM, SIGKILL) and frees the socket and files. */
  close(): Promise<void> {
    this.closed ??= this.scheduler.close().then(() => this.launcher.close());
    return this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
