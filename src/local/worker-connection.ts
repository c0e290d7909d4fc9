// The handle of one local worker: its child process, over the protocol half it shares with other backends. The only code that touches the child.
import type { UdfSpec } from '../backend/backend.js';
import type { ExecutorExit } from '../scheduler/executor.js';
import { type MemoryLimit, watchMemory } from './memory-watch.js';
import { LocalWorkerExit } from './worker-exit.js';
import { type WorkerLink, WorkerPeer } from './worker-peer.js';
import { WorkerProcess, type WorkerProcessOptions } from './worker-process.js';

export type { WorkerLink } from './worker-peer.js';

export interface WorkerConnectionOptions extends WorkerProcessOptions {
  /** A worker whose resident memory passes this many MiB is killed; null: no limit. */
  readonly memoryLimitMb?: number | null;
  /** The heartbeat timeout of the pool's socket, named in the report of a worker killed for missing it. */
  readonly livenessTimeoutMs?: number | null;
}

export class WorkerConnection extends WorkerPeer {
  readonly exited: Promise<ExecutorExit>;
  private readonly process: WorkerProcess;
  private readonly udfMemoryLimits = new Map<number, MemoryLimit>();

  constructor(
    link: WorkerLink,
    private readonly options: WorkerConnectionOptions,
  ) {
    super(link, { id: options.id, ...(options.token === undefined ? {} : { token: options.token }), livenessTimeoutMs: options.livenessTimeoutMs ?? null });
    this.process = new WorkerProcess(options);
    const pid = this.process.pid;
    const stopWatching = pid === undefined ? undefined : watchMemory(pid, () => this.memoryLimit(), (usedMb, limit) => this.killFor(
      ` after using ${Math.round(usedMb)} MB, over ${limit.owner} (raise the limit, or give it less per batch: a smaller batchSize)`,
    ));
    this.exited = this.process.exited.then((exit) => {
      stopWatching?.();
      return this.settleExit(new LocalWorkerExit(this.id, options.python, exit, this.process.stderrTail, this.protocolError, this.killReason));
    });
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  protected get alive(): boolean {
    return this.process.isAlive;
  }

  /** Whether the child process and its pipes keep Node's event loop alive. */
  keepAlive(keep: boolean): void {
    this.process.keepAlive(keep);
  }

  override register(udfId: number, spec: UdfSpec): Promise<void> {
    const { memoryLimitMb } = spec;
    if (memoryLimitMb) this.udfMemoryLimits.set(udfId, { mb: memoryLimitMb, owner: `memoryLimitMb=${memoryLimitMb} of UDF "${spec.name}"` });
    return super.register(udfId, spec);
  }

  override unregister(udfId: number): Promise<void> {
    this.udfMemoryLimits.delete(udfId);
    return super.unregister(udfId);
  }

  kill(): void {
    this.killed = true;
    this.process.kill('SIGKILL');
  }

  /** SHUTDOWN (SIGTERM for a worker not connected yet), then SIGTERM and SIGKILL, `graceMs` apart. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    if (!(await this.sendShutdown())) this.process.kill('SIGTERM');
    if (!(await this.process.waitForExit(graceMs))) await this.process.terminate(graceMs);
    await this.exited;
  }

  /**
   * The lowest limit that applies now: the pool's, and that of the UDF whose init or batch the worker is
   * running (the oldest request: it answers in order; batches queued behind it are not running yet).
   * Both are compared with the whole process's resident memory, every loaded model included.
   */
  private memoryLimit(): MemoryLimit | undefined {
    const { memoryLimitMb } = this.options;
    const pool = memoryLimitMb ? { mb: memoryLimitMb, owner: `memoryLimitMb=${memoryLimitMb}` } : undefined;
    const running = this.running;
    const udf = running && this.udfMemoryLimits.get(running.kind === 'call' ? running.task.request.udfId : running.udfId);
    return udf && (!pool || udf.mb < pool.mb) ? udf : pool;
  }
}
