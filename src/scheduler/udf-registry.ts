// The registered UDFs: loaded on every worker at register(), loaded again on each replacement worker.
import type { UdfSpec } from '../backend/backend.js';
import type { Logger } from '../log/logger.js';
import { type Executor, ExecutorLostError } from './executor.js';
import type { ExecutorSlot } from './executor-slot.js';

export class UdfRegistry {
  private readonly specs = new Map<number, UdfSpec>();
  private nextId = 1;

  /** `workers`: the live workers, read whenever the registry acts on all of them. */
  constructor(private readonly workers: () => Iterable<ExecutorSlot>, private readonly logger: Logger) {}

  has(udfId: number): boolean {
    return this.specs.has(udfId);
  }

  name(udfId: number): string {
    return this.specs.get(udfId)?.name ?? `#${udfId}`;
  }

  /**
   * Adds a UDF and loads it on every connected worker (starting ones load it when ready). If it
   * fails anywhere, it is unloaded everywhere, forgotten, and the first error is thrown.
   */
  async register(spec: UdfSpec): Promise<number> {
    const udfId = this.nextId++;
    this.specs.set(udfId, spec);
    const targets = [...this.workers()].filter((slot) => slot.state === 'ready' || slot.state === 'initializing');
    const outcomes = await Promise.allSettled(targets.map((slot) => this.loadOn(slot, udfId, spec)));
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failure) {
      // Every live worker: one that connected meanwhile may have loaded it too.
      await this.unregister(udfId);
      throw failure.reason;
    }
    return udfId;
  }

  /** Loads every registered UDF on a worker that just connected; failures are logged, not thrown. */
  async loadAll(slot: ExecutorSlot): Promise<void> {
    // Snapshot now: UDFs registered from here on are loaded on this worker by register() itself.
    await Promise.all([...this.specs].map(([udfId, spec]) => this.loadOn(slot, udfId, spec).catch((error: unknown) => {
      this.logger(`loading UDF "${spec.name}" again failed: ${String(error)}`, { level: 'error', source: slot.id });
    })));
  }

  /** Forgets a UDF; unless `unload` is false (the workers are stopping anyway) frees it in every worker. */
  async unregister(udfId: number, unload = true): Promise<void> {
    this.specs.delete(udfId);
    if (unload) await this.unloadEverywhere(udfId);
  }

  private async loadOn(slot: ExecutorSlot<Executor>, udfId: number, spec: UdfSpec): Promise<void> {
    try {
      await slot.executor.register(udfId, spec);
    } catch (error) {
      throw error instanceof ExecutorLostError ? error.exit.crashError(1) : error;
    }
    if (!slot.alive) return;
    if (this.specs.has(udfId)) slot.udfs.add(udfId);
    // Unregistered while its init ran: free what this worker just loaded.
    else slot.executor.unregister(udfId).catch(() => undefined);
  }

  private async unloadEverywhere(udfId: number): Promise<void> {
    const holders = [...this.workers()].filter((slot) => slot.udfs.has(udfId) && slot.alive);
    await Promise.allSettled(holders.map((slot) => {
      slot.udfs.delete(udfId);
      return slot.executor.unregister(udfId);
    }));
  }
}
