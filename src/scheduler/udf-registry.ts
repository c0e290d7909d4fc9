// The registered UDFs: loaded on their workers (every one, or `instances` of them) at register(), again on replacements, and failed when they keep killing workers.
import type { UdfSpec } from '../backend/backend.js';
import { PythonError, type PyUdfError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { type Executor, type ExecutorExit, ExecutorLostError } from './executor.js';
import type { ExecutorSlot } from './executor-slot.js';

/**
 * Deaths a UDF may cause in a row (no batch or init of it succeeding in between) before it is marked
 * failed. A batch counts from the second worker it kills; an init, from the first.
 */
export const UDF_CRASH_LIMIT = 3;

interface Entry {
  readonly spec: UdfSpec;
  /** How many live workers load it: `spec.instances`, or Infinity for every worker (also when `instances` is at least the pool's size). */
  readonly quota: number;
  /** Consecutive worker deaths blamed on this UDF's batches (reset by a batch that succeeds) and on its init (reset by an init that succeeds). */
  readonly crashes: { batch: number; init: number };
  /** Set once the UDF killed UDF_CRASH_LIMIT workers in a row: its work fails at once with this. */
  failure: PyUdfError | undefined;
  /** A register() waiting for a worker to load the UDF (none was ready when it was called). */
  waiting: { readonly resolve: () => void; readonly reject: (error: Error) => void } | undefined;
}

export class UdfRegistry {
  private readonly entries = new Map<number, Entry>();
  private nextId = 1;

  /** `workers`: the live workers, read whenever the registry acts on all of them; `poolSize`: how many the pool keeps. */
  constructor(
    private readonly workers: () => Iterable<ExecutorSlot>,
    private readonly poolSize: number,
    private readonly logger: Logger,
    private readonly crashLimit = UDF_CRASH_LIMIT,
  ) {}

  /** Registered and not failed: a worker that starts will load it while fewer than its `instances` hold it. */
  has(udfId: number): boolean {
    const entry = this.entries.get(udfId);
    return entry !== undefined && entry.failure === undefined;
  }

  /** Why the UDF's work fails at once, if it was marked failed. */
  failure(udfId: number): PyUdfError | undefined {
    return this.entries.get(udfId)?.failure;
  }

  /**
   * Adds a UDF and loads it on every connected worker, or on `spec.instances` of them (the ones with
   * the fewest UDFs; starting ones load it when ready while it is short), resolving once its `init` ran
   * on at least one. If `init` raises anywhere, or every worker it was sent to died, it is unloaded
   * everywhere, forgotten, and the error is thrown.
   */
  async register(spec: UdfSpec): Promise<number> {
    const udfId = this.nextId++;
    // Asking for the whole pool (or more) means every worker, whatever the pool's size later.
    const quota = spec.instances == null || spec.instances >= this.poolSize ? Infinity : spec.instances;
    const entry: Entry = { spec, quota, crashes: { batch: 0, init: 0 }, failure: undefined, waiting: undefined };
    this.entries.set(udfId, entry);
    const targets = this.leastLoaded([...this.workers()].filter((slot) => slot.state === 'ready' || slot.state === 'initializing'), quota);
    if (targets.length === 0) {
      // Every worker is starting or restarting: the first one ready loads it (loadAll), and answers for it.
      await new Promise<void>((resolve, reject) => { entry.waiting = { resolve, reject }; });
      return udfId;
    }
    const outcomes = await Promise.allSettled(targets.map((slot) => this.loadOn(slot, udfId)));
    const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    // A worker that died meanwhile is replaced and loads it then; init raising is the UDF's own fault.
    const raised = failures.find((f) => f.reason instanceof PythonError);
    const failure = raised ?? (failures.length === outcomes.length ? failures[0] : undefined);
    if (failure) {
      await this.unregister(udfId);
      throw failure.reason;
    }
    return udfId;
  }

  /**
   * Loads every registered UDF on a worker that just connected, one after another, so that a worker
   * that dies is blamed on the UDF whose init was running; failures are logged, not thrown.
   */
  async loadAll(slot: ExecutorSlot): Promise<void> {
    // Snapshot now: UDFs registered from here on are loaded on this worker by register() itself. Each
    // one short of its instances is claimed at once, so that two new workers do not both take the last place.
    const ids = [...this.entries]
      .filter(([udfId, entry]) => entry.failure === undefined && this.holders(udfId) < entry.quota)
      .map(([udfId]) => udfId);
    for (const udfId of ids) slot.loading.add(udfId);
    for (const udfId of ids) {
      if (!slot.executor.accepting) break;
      try {
        await this.loadOn(slot, udfId);
      } catch (error) {
        const entry = this.entries.get(udfId);
        this.logger(`loading UDF "${entry?.spec.name ?? udfId}" failed: ${String(error)}`, { level: 'error', source: slot.id });
        // A register() waiting for this worker fails with the UDF's own error; a crash may be the worker's.
        if (entry?.waiting && error instanceof PythonError) {
          entry.waiting.reject(error);
          void this.unregister(udfId);
        }
      }
    }
    for (const udfId of ids) slot.loading.delete(udfId);
  }

  /**
   * A worker died while it ran this UDF's batch (tried `attempts` times) or init; after `crashLimit`
   * in a row the UDF is failed: its work fails at once with this crash, until it is registered again.
   */
  crashed(udfId: number, exit: ExecutorExit, attempts: number, during: 'batch' | 'init' = 'batch'): void {
    const entry = this.entries.get(udfId);
    if (!entry || entry.failure) return;
    const crashes = ++entry.crashes[during];
    if (crashes < this.crashLimit) return;
    const failure = exit.crashError(attempts,
      ` while running ${during === 'init' ? 'the init of ' : ''}UDF "${entry.spec.name}" (${crashes} workers in a row died running it); its calls now fail at once: fix it and register it again`);
    entry.failure = failure;
    this.logger(failure.message.split('\n')[0]!, { level: 'error', source: 'pool' });
    entry.waiting?.reject(failure);
    void this.unloadEverywhere(udfId);
  }

  /** A batch of the UDF succeeded: its run of crashes is over. */
  succeeded(udfId: number): void {
    const entry = this.entries.get(udfId);
    if (entry) entry.crashes.batch = 0;
  }

  /** Forgets a UDF; unless `unload` is false (the workers are stopping anyway) frees it in every worker. */
  async unregister(udfId: number, unload = true): Promise<void> {
    this.entries.delete(udfId);
    if (unload) await this.unloadEverywhere(udfId);
  }

  /** Fails register() calls still waiting for a worker (the pool is closing, or no worker can start). */
  abandonWaiting(reason: Error): void {
    for (const [udfId, entry] of this.entries) {
      if (!entry.waiting) continue;
      entry.waiting.reject(reason);
      this.entries.delete(udfId);
    }
  }

  /** Live workers that hold the UDF or are loading it (a worker being ended does not count: its replacement takes over). */
  private holders(udfId: number): number {
    let n = 0;
    for (const slot of this.workers()) if (slot.holds(udfId)) n++;
    return n;
  }

  /** The first `count` of `slots` by fewest UDFs held or loading, ready ones before those still loading, then in launch order. */
  private leastLoaded(slots: ExecutorSlot[], count: number): ExecutorSlot[] {
    if (count >= slots.length) return slots;
    const rank = (slot: ExecutorSlot) => (slot.state === 'ready' ? 0 : 1);
    // Array.prototype.sort is stable: equal workers keep launch order.
    return [...slots].sort((a, b) => a.load - b.load || rank(a) - rank(b)).slice(0, count);
  }

  private async loadOn(slot: ExecutorSlot<Executor>, udfId: number): Promise<void> {
    const entry = this.entries.get(udfId);
    if (!entry) {
      slot.loading.delete(udfId);
      return;
    }
    // Counted as held from now on (synchronously, before anything else can choose workers for it).
    slot.loading.add(udfId);
    try {
      await slot.executor.register(udfId, entry.spec);
    } catch (error) {
      if (!(error instanceof ExecutorLostError)) throw error;
      // The worker died while it ran this init: a UDF whose init keeps doing so is failed like any other.
      this.crashed(udfId, error.exit, 1, 'init');
      throw entry.failure ?? error.exit.crashError(1);
    } finally {
      slot.loading.delete(udfId);
    }
    if (!slot.alive) return;
    if (this.has(udfId)) {
      entry.crashes.init = 0;
      slot.udfs.add(udfId);
      entry.waiting?.resolve();
      entry.waiting = undefined;
    } else {
      // Unregistered or failed while its init ran: free what this worker just loaded.
      slot.executor.unregister(udfId).catch(() => undefined);
    }
  }

  private async unloadEverywhere(udfId: number): Promise<void> {
    const holders = [...this.workers()].filter((slot) => slot.udfs.has(udfId) && slot.alive);
    await Promise.allSettled(holders.map((slot) => {
      slot.udfs.delete(udfId);
      return slot.executor.unregister(udfId);
    }));
  }
}
