// Keeps the workers running: launch, start timeout, restart with back-off, and shutdown.
import type { PyUdfError } from '../errors.js';
import { type Executor, type ExecutorExit, type Launcher } from './executor.js';
import { ExecutorSlot } from './executor-slot.js';

/** Consecutive failed worker starts, for a reason a restart will not change, after which queued work fails instead of waiting. */
export const MAX_START_FAILURES = 3;
const MAX_RESTART_DELAY_MS = 5_000;
/**
 * A crash this long after the previous one (or after any batch succeeded since) starts a new run of
 * crashes: the back-off starts again from zero.
 */
export const STABLE_PERIOD_MS = 10_000;

/** No wait after a first failure; then 200 ms, 400 ms, … up to 5 s for each further one in a row. */
export function restartDelayMs(failures: number): number {
  return failures === 0 ? 0 : Math.min(100 * 2 ** failures, MAX_RESTART_DELAY_MS);
}

export interface SupervisorOptions {
  /** How long a launched worker may take to connect before it is killed (a failed start). */
  readonly startTimeoutMs: number;
  /** Passed to each worker's `stop()` at shutdown. */
  readonly shutdownTimeoutMs: number;
  /**
   * Wait before launching a replacement, given the failures in a row: failed starts, plus crashes of
   * serving workers less than `stablePeriodMs` apart beyond the first. Default `restartDelayMs`.
   */
  readonly restartDelay?: (failures: number) => number;
  /** Default STABLE_PERIOD_MS. */
  readonly stablePeriodMs?: number;
}

/** What the scheduler does when a worker connects or exits. */
export interface SupervisorEvents<E extends Executor> {
  started(slot: ExecutorSlot<E>): void;
  exited(slot: ExecutorSlot<E>, exit: ExecutorExit): void;
}

export class Supervisor<E extends Executor> {
  readonly slots = new Map<string, ExecutorSlot<E>>();
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private nextId = 0;
  private restartCount = 0;
  private startFailures = 0;
  private lastStartError: PyUdfError | undefined;
  private lastStartPermanent = false;
  /** Crashes of serving workers, each less than the stable period after the one before. */
  private crashStreak = 0;
  private lastCrashAt = -Infinity;
  private stopping = false;

  constructor(
    private readonly launcher: Launcher<E>,
    private readonly options: SupervisorOptions,
    private readonly events: SupervisorEvents<E>,
  ) {}

  get restarts(): number {
    return this.restartCount;
  }

  /** True while a replacement worker waits for its back-off delay. */
  get restartPending(): boolean {
    return this.restartTimers.size > 0;
  }

  /**
   * The last start error once workers failed to start MAX_START_FAILURES times in a row for a reason
   * a restart will not change (the environment): then waiting is pointless.
   */
  get brokenStart(): PyUdfError | undefined {
    return this.startFailures >= MAX_START_FAILURES && this.lastStartPermanent ? this.lastStartError : undefined;
  }

  /** Launches `count` workers; resolves once all connected, rejects with the first start error. */
  async startAll(count: number): Promise<void> {
    await Promise.all(Array.from({ length: count }, () => this.launch()));
  }

  /** A worker got as far as serving: the back-off for failed starts starts again from zero. */
  markServing(): void {
    this.startFailures = 0;
  }

  /** A batch succeeded: workers do serve between crashes, so crashes are no loop to back off from. */
  markProgress(): void {
    this.crashStreak = 0;
  }

  /** Ends a worker at once; it takes no new work meanwhile. */
  kill(slot: ExecutorSlot<E>): void {
    if (!slot.alive) return;
    slot.state = 'stopping';
    slot.executor.kill();
  }

  /** Stops launching, then stops every worker (each escalates to a kill after the grace time). */
  async shutdown(): Promise<void> {
    this.stopping = true;
    for (const timer of this.restartTimers) clearTimeout(timer);
    this.restartTimers.clear();
    await Promise.all([...this.slots.values()].map((slot) => slot.executor.stop(this.options.shutdownTimeoutMs)));
  }

  /** Launches one worker; the promise resolves when it connected and rejects with its start error. */
  private launch(): Promise<void> {
    const slot = new ExecutorSlot(this.launcher.launch(`w${this.nextId++}`));
    this.slots.set(slot.id, slot);
    let timedOut = false;
    const { startTimeoutMs } = this.options;
    const timer = setTimeout(() => {
      timedOut = true;
      slot.executor.kill();
    }, startTimeoutMs);
    return new Promise<void>((resolve, reject) => {
      void slot.executor.started.then(() => {
        clearTimeout(timer);
        if (timedOut || slot.state !== 'starting') return;
        resolve();
        this.events.started(slot);
      });
      void slot.executor.exited.then((exit) => {
        clearTimeout(timer);
        const wasStarting = slot.coming;
        slot.state = 'dead';
        slot.udfs.clear();
        slot.loading.clear();
        this.slots.delete(slot.id);
        if (wasStarting) {
          this.startFailures++;
          this.lastStartError = exit.startError(timedOut ? `, as it did not connect within startTimeoutMs=${startTimeoutMs}` : ' before it was ready');
          this.lastStartPermanent = exit.permanent && !timedOut;
          reject(this.lastStartError);
        } else if (!this.stopping) {
          this.countCrash();
        }
        if (!this.stopping) this.scheduleRestart();
        this.events.exited(slot, exit);
      });
    });
  }

  private countCrash(): void {
    const now = performance.now();
    if (now - this.lastCrashAt > (this.options.stablePeriodMs ?? STABLE_PERIOD_MS)) this.crashStreak = 0;
    this.crashStreak++;
    this.lastCrashAt = now;
  }

  private scheduleRestart(): void {
    // Back off on repeated failures, so a broken environment or a crash loop does not spin the CPU.
    const delay = (this.options.restartDelay ?? restartDelayMs)(this.startFailures + Math.max(0, this.crashStreak - 1));
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      if (this.stopping) return;
      this.restartCount++;
      this.launch().catch(() => undefined); // a failed restart is counted and reported by the exit handler
    }, delay);
    this.restartTimers.add(timer);
  }
}
