// The scheduler's view of one worker: its life-cycle state, its UDFs, and the batches it holds.
import type { BatchTask } from '../backend/batch-task.js';
import type { Executor } from './executor.js';

/**
 * `starting`: launched, not connected yet. `initializing`: connected, loading the registered UDFs.
 * `ready`: serving batches. `stopping`: being ended (a timed-out call); takes no new work.
 * `dead`: exited (a replacement takes a new slot).
 */
export type WorkerState = 'starting' | 'initializing' | 'ready' | 'stopping' | 'dead';

export class ExecutorSlot<E extends Executor = Executor> {
  state: WorkerState = 'starting';
  /** UDFs whose `init` succeeded in this worker. */
  readonly udfs = new Set<number>();
  /** UDFs this worker is loading or has been given to load next: they count towards a UDF's `instances` already. */
  readonly loading = new Set<number>();
  /** Batches sent to this worker and not settled yet. */
  readonly running = new Set<BatchTask>();
  /** Set once this worker's death was blamed on a UDF (the batch it was running), so that no other is. */
  blamed = false;

  constructor(readonly executor: E) {}

  get id(): string {
    return this.executor.id;
  }

  get alive(): boolean {
    return this.state !== 'dead';
  }

  /** Starting or loading UDFs: once ready it serves every registered UDF short of its `instances`. */
  get coming(): boolean {
    return this.state === 'starting' || this.state === 'initializing';
  }

  /** UDFs loaded or being loaded here: what `instances` balancing counts. */
  get load(): number {
    return this.udfs.size + this.loading.size;
  }

  /**
   * Holds the UDF, or is loading it, and will keep it: a worker being ended does not count, since its
   * replacement takes the UDF over.
   */
  holds(udfId: number): boolean {
    return this.alive && this.state !== 'stopping' && this.executor.accepting && (this.udfs.has(udfId) || this.loading.has(udfId));
  }

  canServe(udfId: number): boolean {
    return this.state === 'ready' && this.udfs.has(udfId) && this.executor.accepting;
  }
}
