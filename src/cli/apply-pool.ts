// The pool of `pyudf apply`: started, then drained at the end of a run, or stopped at once after an interrupt.
import type { BackendStats } from '../backend/backend.js';
import { createPool, type Pool, type PoolStats } from '../pool/pool.js';
import type { PoolOptions, RayPoolOptions } from '../pool/options.js';
import { abortable, type Interrupt, settlesWithin } from './interrupt.js';

/** After an interrupt: how long batches already being computed may take to finish before their workers are killed. */
export const INTERRUPT_GRACE_MS = 1_000;
/** After an interrupt: the longest an interrupted run waits for what it started to stop, before it exits anyway. */
export const INTERRUPT_STOP_MS = 4_000;

export class ApplyPool {
  private starting: Promise<Pool<BackendStats>> | undefined;
  private pool: Pool<BackendStats> | undefined;
  private readonly forget: () => void;

  constructor(private readonly interrupt: Interrupt) {
    // A second Ctrl-C exits at once: the workers are killed on the way out rather than left to notice.
    this.forget = interrupt.onForcedExit(() => this.killWorkers());
  }

  /** Starts the pool; rejects with AbortError at once on an interrupt, while the pool goes on starting (for stop()). */
  start(options: PoolOptions | RayPoolOptions): Promise<Pool<BackendStats>> {
    const starting = createPool(options);
    this.starting = starting;
    starting.then((pool) => { this.pool = pool; }, () => undefined);
    return abortable(starting, this.interrupt.signal);
  }

  /** Drains the pool's work and stops its workers; an interrupt meanwhile stops them at once instead (stop()). */
  async close(): Promise<void> {
    const { signal } = this.interrupt;
    if (signal.aborted) return this.stop(Date.now() + INTERRUPT_STOP_MS);
    if (!this.pool) return;
    const closed = this.pool.close();
    await new Promise<void>((resolve) => {
      signal.addEventListener('abort', () => resolve(), { once: true });
      closed.then(() => resolve(), () => resolve());
    });
    if (signal.aborted) return this.stop(Date.now() + INTERRUPT_STOP_MS);
    await closed;
    this.forget();
  }

  /**
   * After an interrupt: the pool is closed without waiting for the work still queued (cancelled by the
   * abort) or for long batches: workers still computing after INTERRUPT_GRACE_MS are killed. A pool
   * still starting is let finish starting, then closed, so that no worker, socket or shared-memory
   * directory outlives the run. Gives up at `deadline` (epoch ms): the workers then die with this process.
   */
  async stop(deadline: number): Promise<void> {
    // A pool that failed to start has stopped its workers itself.
    if (!this.starting || !(await settlesWithin(this.starting, deadline - Date.now())) || !this.pool) return;
    const closed = this.pool.close();
    if (!(await settlesWithin(closed, Math.min(INTERRUPT_GRACE_MS, deadline - Date.now())))) {
      this.killWorkers();
      // The pool sees its workers die, then removes its socket and shared-memory directories.
      if (!(await settlesWithin(closed, deadline - Date.now()))) this.killWorkers();
    }
    this.forget();
  }

  private killWorkers(): void {
    const stats = this.pool?.stats();
    // Local worker processes only: Ray's actors (maybe on other machines) are Ray's to end, at close().
    if (stats?.backend !== 'local') return;
    for (const worker of (stats as PoolStats).workers) {
      if (worker.state === 'dead' || worker.pid === undefined) continue;
      try {
        process.kill(worker.pid, 'SIGKILL');
      } catch { /* gone already */ }
    }
  }
}
