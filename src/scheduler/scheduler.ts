// Runs batches on a set of workers: queue, balancing, retries, timeouts, cancel and drain, for any launcher.
import { PoolClosedError, type PyUdfError, UdfTimeoutError, UdfUnregisteredError } from '../errors.js';
import type { UdfSpec } from '../backend/backend.js';
import { type BatchRequest, BatchTask } from '../backend/batch-task.js';
import type { Logger } from '../log/logger.js';
import { type Balancer, leastBusy } from './balancer.js';
import { type Executor, type ExecutorExit, ExecutorLostError, type Launcher } from './executor.js';
import type { ExecutorSlot } from './executor-slot.js';
import { Supervisor, type SupervisorOptions } from './supervisor.js';
import { TaskQueue } from './task-queue.js';
import { UdfRegistry } from './udf-registry.js';

export interface SchedulerOptions extends SupervisorOptions {
  readonly workers: number;
  /** Batches sent to one worker before it answers. */
  readonly maxInFlightPerWorker: number;
  readonly logger: Logger;
  /** Picks the worker for each batch. Default: least busy. */
  readonly balancer?: Balancer;
}

/**
 * The backend-neutral core of a pool: every batch is queued, sent to a worker that serves its UDF,
 * retried elsewhere if that worker dies (retried batches first), failed if no worker ever could
 * serve it, and counted until it settles, so that close() drains before the workers stop.
 */
export class Scheduler<E extends Executor = Executor> {
  private readonly queue = new TaskQueue();
  private readonly registry: UdfRegistry;
  private readonly supervisor: Supervisor<E>;
  private readonly balancer: Balancer;
  private drainWaiters: (() => void)[] = [];
  private closing = false;
  /** Set once drained: the workers are being stopped, so UDFs need not be unloaded from them. */
  private stopping = false;
  private closed: Promise<void> | undefined;

  constructor(launcher: Launcher<E>, private readonly options: SchedulerOptions) {
    this.registry = new UdfRegistry(() => this.supervisor.slots.values(), options.workers, options.logger);
    this.balancer = options.balancer ?? leastBusy;
    this.supervisor = new Supervisor(launcher, options, {
      started: (slot) => void this.initialize(slot),
      exited: (slot, exit) => {
        // Batches the worker held and whose runs have not been rejected yet: retried or failed now.
        for (const task of slot.running) this.lost(slot, task, exit);
        slot.running.clear();
        this.afterChange();
      },
    });
  }

  /** Launches the workers; rejects with the first start error, after stopping the others. */
  async start(): Promise<void> {
    try {
      await this.supervisor.startAll(this.options.workers);
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** Every worker, starting, serving or stopping (for stats). */
  get workers(): readonly ExecutorSlot<E>[] {
    return [...this.supervisor.slots.values()];
  }

  get queued(): number {
    return this.queue.length;
  }

  get inFlight(): number {
    let n = 0;
    for (const slot of this.supervisor.slots.values()) n += slot.running.size;
    return n;
  }

  get readyWorkers(): number {
    return this.workers.filter((slot) => slot.state === 'ready').length;
  }

  get restarts(): number {
    return this.supervisor.restarts;
  }

  register(spec: UdfSpec): Promise<number> {
    if (this.closing) return Promise.reject(new PoolClosedError('the pool is closed; create a new pool to register UDFs'));
    return this.registry.register(spec);
  }

  async unregister(udfId: number): Promise<void> {
    await this.registry.unregister(udfId, !this.stopping);
    this.afterChange();
  }

  isServing(udfId: number): boolean {
    return !this.closing && this.workers.some((slot) => slot.canServe(udfId));
  }

  submit(request: BatchRequest): BatchTask {
    const task = new BatchTask(request);
    const refusal = this.closing
      ? new PoolClosedError('the pool is closed; create a new pool to run more work')
      : this.registry.failure(request.udfId) ?? this.unstartable();
    if (refusal) {
      task.reject(refusal);
      return task;
    }
    this.queue.push(task);
    this.dispatch();
    return task;
  }

  cancel(tasks: readonly BatchTask[], reason: Error): void {
    for (const task of tasks) {
      this.queue.remove(task);
      task.reject(reason);
    }
    this.notifyIfDrained();
  }

  /** Waits until nothing is queued or running, then stops every worker. Safe to call more than once. */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  /** The start error when no worker serves and none can start (a broken environment): work fails fast. */
  private unstartable(): PyUdfError | undefined {
    const broken = this.supervisor.brokenStart;
    return broken && !this.workers.some((slot) => slot.state === 'ready') ? broken : undefined;
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    this.registry.abandonWaiting(new PoolClosedError('the pool closed before any worker could load the UDF'));
    if (this.queue.length + this.inFlight > 0) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    this.stopping = true;
    await this.supervisor.shutdown();
  }

  /** A worker connected: load every registered UDF, then let it serve. */
  private async initialize(slot: ExecutorSlot<E>): Promise<void> {
    slot.state = 'initializing';
    await this.registry.loadAll(slot);
    // A worker that died or broke the protocol while loading is a failed start, not a serving one.
    if (slot.state !== 'initializing' || !slot.executor.accepting) return;
    slot.state = 'ready';
    // Only a worker that got as far as serving resets the back-off: one whose init crashes it does not.
    this.supervisor.markServing();
    this.afterChange();
  }

  private dispatch(): void {
    if (this.queue.length === 0) return;
    const limit = this.options.maxInFlightPerWorker;
    this.queue.takeWhere((task) => {
      const udfId = task.request.udfId;
      const candidates = this.workers.filter((slot) => slot.canServe(udfId) && slot.running.size < limit);
      const slot = candidates.length ? this.balancer(candidates, udfId) : undefined;
      if (!slot) return false;
      this.send(slot as ExecutorSlot<E>, task);
      return true;
    });
  }

  private send(slot: ExecutorSlot<E>, task: BatchTask): void {
    task.attempts++;
    task.sentAt = performance.now();
    slot.running.add(task);
    const { timeoutMs } = task.request;
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => this.onTimeout(slot, task), timeoutMs);
    slot.executor.run(task).then(
      (table) => {
        clearTimeout(timer);
        slot.running.delete(task);
        this.registry.succeeded(task.request.udfId);
        this.supervisor.markProgress();
        task.resolve(table);
        this.afterChange();
      },
      (error: unknown) => {
        clearTimeout(timer);
        // Not running any more: the exit handler (or the timeout) has already settled or re-queued it.
        if (!slot.running.delete(task)) return;
        if (error instanceof ExecutorLostError) {
          // The worker died holding the batch: it serves nothing more, and the batch may go elsewhere.
          if (slot.state === 'ready' || slot.coming) slot.state = 'stopping';
          this.lost(slot, task, error.exit);
        } else {
          task.reject(error instanceof Error ? error : new Error(String(error)));
        }
        this.afterChange();
      },
    );
  }

  /**
   * A batch whose worker died: sent again (ahead of fresh work) while retries last, else failed. The
   * first such batch of a worker (the oldest, which the worker was running) is blamed for the death if
   * it killed a worker before: a batch that kills every worker it meets is the UDF's doing, one
   * unlucky kill from outside (the OOM killer, an operator) is not.
   */
  private lost(slot: ExecutorSlot<E>, task: BatchTask, exit: ExecutorExit): void {
    const { udfId, retries } = task.request;
    if (!slot.blamed) {
      slot.blamed = true;
      if (task.attempts >= 2) this.registry.crashed(udfId, exit, task.attempts);
    }
    if (task.settled) return;
    const failure = this.registry.failure(udfId);
    if (failure) task.reject(failure);
    else if (task.attempts <= retries) this.queue.pushRetried(task);
    else task.reject(exit.crashError(task.attempts));
  }

  private onTimeout(slot: ExecutorSlot<E>, task: BatchTask): void {
    slot.running.delete(task);
    // The worker is killed for this batch: the others it holds are not to blame.
    slot.blamed = true;
    task.reject(new UdfTimeoutError({ udf: task.request.udfName, timeoutMs: task.request.timeoutMs ?? 0 }));
    // Running Python cannot be interrupted safely; replace the worker.
    this.supervisor.kill(slot);
    this.afterChange();
  }

  /** After any change of workers or work: send what can go, fail what never can, wake close(). */
  private afterChange(): void {
    this.dispatch();
    this.failUnservable();
    this.notifyIfDrained();
  }

  /** Fails queued work that no live, starting or about-to-restart worker will ever be able to run. */
  private failUnservable(): void {
    const broken = this.unstartable();
    if (broken) this.registry.abandonWaiting(broken);
    if (this.queue.length === 0) return;
    const restarting = this.supervisor.restartPending;
    const workers = this.workers;
    this.queue.takeWhere((task) => {
      const udfId = task.request.udfId;
      const failure = this.registry.failure(udfId);
      if (failure) {
        task.reject(failure);
        return true;
      }
      // A worker that is starting, being ended (and so replaced), or about to be restarted will load every UDF in the
      // registry that fewer workers hold than its instances: one whose holders all died or restart waits for them.
      const servable = this.registry.has(udfId)
        && (restarting || workers.some((s) => s.canServe(udfId) || s.coming || s.state === 'stopping' || !s.executor.accepting));
      if (servable && !broken) return false;
      task.reject(broken ?? new UdfUnregisteredError(`UDF "${task.request.udfName}" is no longer registered on any worker`));
      return true;
    });
  }

  private notifyIfDrained(): void {
    if (this.drainWaiters.length === 0 || this.queue.length + this.inFlight > 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const wake of waiters) wake();
  }
}
