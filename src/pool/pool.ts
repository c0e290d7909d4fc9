// The pool: N Python workers behind one ROUTER socket, least-outstanding dispatch, restart and drain.
import type { Table, TypeMap } from 'apache-arrow';
import {
  ProtocolError, PoolClosedError, PythonEnvError, PyUdfError, UdfTimeoutError, WorkerCrashedError,
} from '../errors.js';
import { findPython } from '../python/find-python.js';
import { installCommand } from '../python/package-paths.js';
import { workerEnv } from '../python/worker-env.js';
import {
  CALL, decodeHeader, decodeJson, encodeHeader, encodeJson, ENV_ERROR_PREFIX, ERROR, EXIT_ENV, FLAG_BODY_IN_FILE, type Header,
  READY, REGISTER, REGISTERED, RESULT, SHUTDOWN, UNREGISTER, UNREGISTERED, type UdfSpecMessage,
  WORKER_INFO_KEYS, type WorkerInfo,
} from '../protocol/wire.js';
import { StreamDecoder } from '../protocol/arrow-ipc.js';
import { type RegisterOptions, Udf, resolveUdfSpec } from '../udf/udf.js';
import { type WorkerExit, WorkerProcess } from '../worker/worker-process.js';
import { CallTask, type CallTaskInit } from './call-task.js';
import { type PoolOptions, type ResolvedPoolOptions, resolvePoolOptions } from './options.js';
import { errorFromPayload } from './remote-error.js';
import { type SlotState, WorkerSlot } from './worker-slot.js';
import { RouterTransport } from '../transport/router.js';
import { SharedMemoryFiles } from '../transport/shared-memory.js';

export interface WorkerStats {
  readonly id: string;
  readonly pid: number | undefined;
  readonly state: SlotState;
  /** Batches sent to this worker and not answered yet. */
  readonly inFlight: number;
  /** UDFs initialised in this worker. */
  readonly udfs: number;
}

export interface PoolStats {
  /** Batches waiting for a free worker. */
  readonly queued: number;
  readonly restarts: number;
  readonly workers: readonly WorkerStats[];
  /** Results that came through /dev/shm files (`sharedMemoryMinBytes`) instead of the socket. */
  readonly sharedMemory: {
    /** The pool's directory of result files; null when every result uses the socket. */
    readonly dir: string | null;
    readonly resultsReceived: number;
  };
}

interface RegisteredUdf {
  readonly id: number;
  readonly spec: UdfSpecMessage;
}

/** Consecutive failed worker starts after which queued work fails instead of waiting. */
const MAX_START_FAILURES = 3;
const MAX_RESTART_DELAY_MS = 5_000;

/** Starts a pool and waits until every worker is connected. */
export async function createPool(options: PoolOptions = {}): Promise<Pool> {
  const resolved = resolvePoolOptions(options);
  const transport = await RouterTransport.bind();
  const files = resolved.sharedMemoryMinBytes === null ? undefined : await SharedMemoryFiles.create(resolved.sharedMemoryMinBytes);
  let pool: Pool;
  try {
    pool = new Pool(resolved, transport, files);
  } catch (error) {
    // No interpreter, say: nothing was started, but the socket and the directories exist already.
    await transport.close();
    await files?.close();
    throw error;
  }
  await pool.start();
  return pool;
}

/** A set of Python worker processes that serve registered UDFs. Create it with `createPool()`. */
export class Pool implements AsyncDisposable {
  readonly python: string;
  private readonly env: Record<string, string>;
  private readonly slots = new Map<string, WorkerSlot>();
  private readonly registry = new Map<number, RegisteredUdf>();
  private readonly queue: CallTask[] = [];
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private readonly receiving: Promise<void>;
  private readonly results = new StreamDecoder();
  private nextWorker = 0;
  private nextRequest = 1;
  private nextUdf = 1;
  private startFailures = 0;
  private lastStartError: PyUdfError | undefined;
  private closing = false;
  private stopping = false;
  private closed: Promise<void> | undefined;
  private drainWaiters: (() => void)[] = [];
  private restartCount = 0;
  private fileResults = 0;

  /** @internal use createPool() */
  constructor(
    private readonly options: ResolvedPoolOptions,
    private readonly transport: RouterTransport,
    private readonly files?: SharedMemoryFiles,
  ) {
    this.python = findPython(options.python).python;
    this.env = workerEnv(options.threadsPerWorker, options.env);
    this.receiving = transport.receiveLoop((id, frames) => this.onMessage(id, frames)).catch((error: unknown) => {
      // The socket failed under us: nothing more can arrive, so fail what waits rather than hang.
      this.options.logger(`pyudf transport failed: ${String(error)}`, { worker: 'pool', stream: 'stderr' });
      for (const slot of this.slots.values()) slot.process.kill('SIGKILL');
    });
  }

  /** @internal */
  async start(): Promise<void> {
    const slots = Array.from({ length: this.options.workers }, () => this.spawn());
    try {
      await Promise.all(slots.map((slot) => this.waitUntilConnected(slot)));
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** Number of workers currently serving. */
  get readyWorkers(): number {
    return [...this.slots.values()].filter((s) => s.state === 'ready').length;
  }

  /** Process ids of the live workers (for monitoring; never needed to use the pool). */
  get workerPids(): number[] {
    return [...this.slots.values()].filter((s) => s.state !== 'dead').flatMap((s) => s.process.pid ?? []);
  }

  /** Workers started to replace ones that died. */
  get restarts(): number {
    return this.restartCount;
  }

  /** A snapshot of the pool for monitoring: each worker's state and batches in flight, and the queue. */
  stats(): PoolStats {
    return {
      queued: this.queue.length,
      restarts: this.restartCount,
      workers: [...this.slots.values()].map((slot) => ({
        id: slot.id, pid: slot.process.pid, state: slot.state, inFlight: slot.calls.size, udfs: slot.udfs.size,
      })),
      sharedMemory: { dir: this.files?.dir ?? null, resultsReceived: this.fileResults },
    };
  }

  /**
   * Loads a Python module (or inline code) in every worker and calls its `init(conf)` once per worker.
   * Rejects with PythonError if loading or `init` fails anywhere; nothing stays registered then.
   */
  async register<In extends TypeMap = TypeMap, Out extends TypeMap = TypeMap>(
    options: RegisterOptions<In, Out>,
  ): Promise<Udf<In, Out>> {
    this.assertOpen();
    const { spec, settings } = resolveUdfSpec(options as unknown as RegisterOptions, this.options.retries);
    const entry: RegisteredUdf = { id: this.nextUdf++, spec };
    this.registry.set(entry.id, entry);
    const targets = [...this.slots.values()].filter((s) => s.state === 'ready' || s.state === 'initializing');
    const outcomes = await Promise.allSettled(targets.map((slot) => this.registerOn(slot, entry)));
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failure) {
      this.registry.delete(entry.id);
      await this.unregisterEverywhere(entry.id);
      throw failure.reason;
    }
    return new Udf<In, Out>(this, entry.id, settings);
  }

  /** Drains queued and running calls, then stops every worker: SHUTDOWN, SIGTERM, SIGKILL. */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- used by Udf ---------------------------------------------------------------------------

  /** @internal Queues one batch of a call; the result promise settles exactly once. */
  submit(init: CallTaskInit): CallTask {
    const task = new CallTask(init);
    if (this.closing) {
      task.reject(new PoolClosedError('the pool is closed; create a new pool to run more work'));
      return task;
    }
    if (this.startFailures >= MAX_START_FAILURES && this.lastStartError) {
      task.reject(this.lastStartError);
      return task;
    }
    this.queue.push(task);
    this.dispatch();
    return task;
  }

  /** @internal Removes queued batches of a call that no longer needs them. */
  cancel(tasks: readonly CallTask[], reason: Error): void {
    for (const task of tasks) {
      const index = this.queue.indexOf(task);
      if (index >= 0) this.queue.splice(index, 1);
      task.reject(reason);
    }
    this.notifyIfDrained();
  }

  /** @internal True while some worker has the UDF initialised and serving. */
  isServing(udfId: number): boolean {
    return !this.closing && [...this.slots.values()].some((slot) => slot.canServe(udfId));
  }

  /** @internal Frees a UDF's state in every worker. */
  async unregister(udfId: number): Promise<void> {
    this.registry.delete(udfId);
    if (!this.stopping) await this.unregisterEverywhere(udfId);
  }

  // ---- workers -------------------------------------------------------------------------------

  private spawn(): WorkerSlot {
    const process = new WorkerProcess({
      id: `w${this.nextWorker++}`,
      python: this.python,
      endpoint: this.transport.endpoint,
      env: this.env,
      logger: this.options.logger,
      stderrTailLines: this.options.stderrTailLines,
      sharedMemory: this.files ? { dir: this.files.dir, minBytes: this.files.minBytes } : undefined,
    });
    const slot = new WorkerSlot(process);
    this.slots.set(slot.id, slot);
    void process.exited.then((exit) => this.onExit(slot, exit));
    return slot;
  }

  /** Resolves when the worker sent READY; rejects with a typed error if it exits or times out first. */
  private waitUntilConnected(slot: WorkerSlot): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        slot.process.kill('SIGKILL');
        reject(this.startError(slot, undefined, ` did not connect within startTimeoutMs=${this.options.startTimeoutMs}`));
      }, this.options.startTimeoutMs);
      slot.connected = () => { clearTimeout(timer); resolve(); };
      void slot.process.exited.then((exit) => {
        clearTimeout(timer);
        reject(this.startError(slot, exit, ' before it was ready'));
      });
    });
  }

  private startError(slot: WorkerSlot, exit: WorkerExit | undefined, detail: string): PyUdfError {
    if (slot.protocolError instanceof ProtocolError) return slot.protocolError;
    const tail = slot.process.stderrTail;
    if (exit?.spawnError) {
      return new PythonEnvError(
        this.python, `cannot run the Python interpreter (${exit.spawnError.code ?? exit.spawnError.message})`,
        'install Python 3.9 or newer, or point the "python" option or $PYUDF_PYTHON at an interpreter', { cause: exit.spawnError },
      );
    }
    const envLine = [...tail].reverse().find((line) => line.startsWith(ENV_ERROR_PREFIX));
    if (exit?.exitCode === EXIT_ENV && envLine) {
      return new PythonEnvError(this.python, `the worker cannot import ${envLine.slice(ENV_ERROR_PREFIX.length)}`, installCommand(this.python));
    }
    return new WorkerCrashedError(slot.id, exit?.exitCode, exit?.signal, tail, 1, detail);
  }

  private async onReady(slot: WorkerSlot, info: WorkerInfo): Promise<void> {
    slot.info = info;
    slot.state = 'initializing';
    slot.connected?.();
    // Snapshot now: UDFs registered from here on are sent to this slot by register() itself.
    const entries = [...this.registry.values()];
    await Promise.allSettled(entries.map((entry) => this.registerOn(slot, entry).catch((error: unknown) => {
      this.options.logger(`re-registering UDF "${entry.spec.name}" failed: ${String(error)}`, { worker: slot.id, stream: 'stderr' });
    })));
    if (slot.state !== 'initializing') return;
    slot.state = 'ready';
    // Only a worker that got as far as serving resets the back-off: one whose init crashes it does not.
    this.startFailures = 0;
    this.dispatch();
    this.failUnservable();
  }

  private registerOn(slot: WorkerSlot, entry: RegisteredUdf): Promise<void> {
    return this.control(slot, REGISTER, entry.id, [encodeJson(entry.spec)]).then(() => {
      // The UDF may have been closed while its init ran.
      if (this.registry.has(entry.id) && slot.state !== 'dead') slot.udfs.add(entry.id);
    });
  }

  private async unregisterEverywhere(udfId: number): Promise<void> {
    const holders = [...this.slots.values()].filter((s) => s.udfs.has(udfId) && s.state !== 'dead');
    await Promise.allSettled(holders.map((slot) => {
      slot.udfs.delete(udfId);
      return this.control(slot, UNREGISTER, udfId, []);
    }));
  }

  private control(slot: WorkerSlot, kind: typeof REGISTER | typeof UNREGISTER, udfId: number, body: Buffer[]): Promise<void> {
    const requestId = this.nextRequest++;
    return new Promise<void>((resolve, reject) => {
      slot.controls.set(requestId, { udfId, resolve, reject });
      this.sendTo(slot, [encodeHeader(kind, requestId, udfId), ...body]);
    });
  }

  /**
   * Sends to a worker. A send fails only when the worker cannot be reached (it died, or its connection
   * broke): the worker is then ended, so that its exit handler settles what it held, with a typed
   * WorkerCrashedError and retries, instead of a raw ZeroMQ error.
   */
  private sendTo(slot: WorkerSlot, frames: (Buffer | Uint8Array)[]): void {
    this.transport.send(slot.id, frames).catch(() => slot.process.kill('SIGKILL'));
  }

  private onExit(slot: WorkerSlot, exit: WorkerExit): void {
    const wasStarting = slot.state === 'starting' || slot.state === 'initializing';
    slot.state = 'dead';
    slot.udfs.clear();
    this.slots.delete(slot.id);
    const crash = (attempts: number): WorkerCrashedError =>
      new WorkerCrashedError(slot.id, exit.exitCode, exit.signal, slot.process.stderrTail, attempts);
    for (const control of slot.controls.values()) control.reject(crash(1));
    slot.controls.clear();
    const retried: CallTask[] = [];
    for (const task of slot.calls.values()) {
      if (task.settled) continue;
      if (task.attempts <= task.call.retries) retried.push(task);
      else task.reject(crash(task.attempts));
    }
    slot.calls.clear();
    // Retried batches go to the front: they are the oldest work.
    this.queue.unshift(...retried);
    if (wasStarting) {
      this.startFailures++;
      this.lastStartError = this.startError(slot, exit, ' before it was ready');
    }
    if (!this.stopping) this.scheduleRestart();
    this.dispatch();
    this.failUnservable();
    this.notifyIfDrained();
  }

  private scheduleRestart(): void {
    // Back off on repeated start failures, so a broken environment does not spin the CPU.
    const delay = this.startFailures === 0 ? 0 : Math.min(100 * 2 ** this.startFailures, MAX_RESTART_DELAY_MS);
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      if (this.stopping) return;
      this.restartCount++;
      this.spawn();
    }, delay);
    this.restartTimers.add(timer);
  }

  // ---- dispatch ------------------------------------------------------------------------------

  private dispatch(): void {
    for (let i = 0; i < this.queue.length; i++) {
      const task = this.queue[i]!;
      const slot = this.leastBusy(task.call.udfId);
      if (!slot) continue;
      this.queue.splice(i--, 1);
      this.send(slot, task);
    }
  }

  private leastBusy(udfId: number): WorkerSlot | undefined {
    let best: WorkerSlot | undefined;
    for (const slot of this.slots.values()) {
      if (!slot.canServe(udfId) || slot.calls.size >= this.options.maxInFlightPerWorker) continue;
      if (!best || slot.calls.size < best.calls.size) best = slot;
    }
    return best;
  }

  private send(slot: WorkerSlot, task: CallTask): void {
    const requestId = this.nextRequest++;
    task.attempts++;
    task.sentAt = performance.now();
    slot.calls.set(requestId, task);
    if (task.call.timeoutMs !== undefined) {
      task.timer = setTimeout(() => this.onTimeout(slot, requestId, task), task.call.timeoutMs);
    }
    this.sendTo(slot, [encodeHeader(CALL, requestId, task.call.udfId), ...task.encoded()]);
  }

  private onTimeout(slot: WorkerSlot, requestId: number, task: CallTask): void {
    slot.calls.delete(requestId);
    task.reject(new UdfTimeoutError(task.call.udfName, task.call.timeoutMs ?? 0));
    // Running Python cannot be interrupted safely; replace the worker.
    slot.process.kill('SIGKILL');
    this.notifyIfDrained();
  }

  /** Fails queued work that no live or starting worker will ever be able to run. */
  private failUnservable(): void {
    const brokenStart = this.startFailures >= MAX_START_FAILURES ? this.lastStartError : undefined;
    const live = [...this.slots.values()];
    for (let i = 0; i < this.queue.length; i++) {
      const task = this.queue[i]!;
      // A worker that is starting, or about to be restarted, will register every UDF in the registry.
      const servable = this.registry.has(task.call.udfId) && (this.restartTimers.size > 0
        || live.some((s) => s.canServe(task.call.udfId) || s.state === 'starting' || s.state === 'initializing'));
      if (servable && !brokenStart) continue;
      this.queue.splice(i--, 1);
      task.reject(brokenStart ?? new PoolClosedError(`UDF "${task.call.udfName}" is no longer registered on any worker`));
    }
  }

  // ---- messages ------------------------------------------------------------------------------

  private onMessage(workerId: string, frames: Buffer[]): void {
    const slot = this.slots.get(workerId);
    if (!slot) return; // a late message from a worker already replaced
    let header: Header;
    try {
      header = decodeHeader(frames[0]);
      this.handle(slot, header, frames);
    } catch (error) {
      const protocolError = error instanceof ProtocolError ? error : new ProtocolError(String(error), { cause: error });
      this.failWorker(slot, protocolError);
    }
  }

  private handle(slot: WorkerSlot, header: Header, frames: Buffer[]): void {
    switch (header.kind) {
      case READY: {
        const info = decodeJson<WorkerInfo>(frames[1], 'READY', WORKER_INFO_KEYS);
        void this.onReady(slot, info);
        return;
      }
      case REGISTERED:
      case UNREGISTERED: {
        const control = this.takeControl(slot, header);
        control.resolve();
        return;
      }
      case RESULT: {
        const task = this.takeCall(slot, header);
        const inFile = (header.flags & FLAG_BODY_IN_FILE) !== 0;
        if (!task) {
          // A late answer to a call that timed out: its file must not stay in memory.
          const file = inFile ? this.files?.resolve(frames[1]) : undefined;
          if (file) this.files?.discard(file);
          return;
        }
        const table = this.settleOnProtocolError(task, () => {
          const body = inFile ? this.takeResultFile(frames, task.call.udfName) : frames[1] ?? new Uint8Array();
          try {
            return this.results.decode(body);
          } catch (cause) {
            throw new ProtocolError(`RESULT body of UDF "${task.call.udfName}" is not an Arrow IPC stream`, { cause });
          }
        });
        task.resolve(table);
        this.afterCall();
        return;
      }
      case ERROR: {
        if (slot.controls.has(header.requestId)) {
          const control = this.takeControl(slot, header);
          let error: Error;
          try {
            error = errorFromPayload(frames[1], this.registry.get(control.udfId)?.spec.name ?? `#${control.udfId}`);
          } catch (undecodable) {
            control.reject(undecodable as Error);
            throw undecodable;
          }
          control.reject(error);
          return;
        }
        const task = this.takeCall(slot, header);
        if (!task) {
          // An ERROR about no request of ours means the worker could not read a message we sent.
          throw errorFromPayload(frames[1], `#${header.udfId}`);
        }
        task.reject(this.settleOnProtocolError(task, () => errorFromPayload(frames[1], task.call.udfName, task.call.batchIndex)));
        this.afterCall();
        return;
      }
      default:
        throw new ProtocolError(`a worker must not send ${header.kind === CALL ? 'CALL' : `kind ${header.kind}`} messages`);
    }
  }

  /** The body of a RESULT sent as a shared-memory file: read and deleted. */
  private takeResultFile(frames: Buffer[], udfName: string): Buffer {
    const file = this.files?.resolve(frames[1]);
    if (!file || frames.length !== 2) {
      throw new ProtocolError(`RESULT of UDF "${udfName}" names no file of the pool's shared-memory directory`);
    }
    try {
      const body = this.files!.take(file);
      this.fileResults++;
      return body;
    } catch (cause) {
      throw new ProtocolError(`RESULT file of UDF "${udfName}" cannot be read: ${String(cause)}`, { cause });
    }
  }

  private takeControl(slot: WorkerSlot, header: Header) {
    const control = slot.controls.get(header.requestId);
    if (!control) throw new ProtocolError(`reply to unknown request ${header.requestId}`);
    slot.controls.delete(header.requestId);
    return control;
  }

  private takeCall(slot: WorkerSlot, header: Header): CallTask | undefined {
    const task = slot.calls.get(header.requestId);
    // A call that timed out was already removed; its late answer is dropped.
    if (!task) return undefined;
    slot.calls.delete(header.requestId);
    return task;
  }

  /** Runs a decoding step for a call already taken off its worker; a ProtocolError fails that call too. */
  private settleOnProtocolError<T>(task: CallTask, decode: () => T): T {
    try {
      return decode();
    } catch (error) {
      task.reject(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
  }

  private afterCall(): void {
    this.dispatch();
    this.notifyIfDrained();
  }

  /** A worker that broke the protocol cannot be trusted: fail its work (no retry) and replace it. */
  private failWorker(slot: WorkerSlot, error: ProtocolError): void {
    slot.protocolError = error;
    for (const task of slot.calls.values()) task.reject(error);
    slot.calls.clear();
    for (const control of slot.controls.values()) control.reject(error);
    slot.controls.clear();
    this.options.logger(`protocol error, restarting worker: ${error.message}`, { worker: slot.id, stream: 'stderr' });
    slot.process.kill('SIGKILL');
  }

  // ---- close ---------------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closing) throw new PoolClosedError('the pool is closed; create a new pool to register UDFs');
  }

  private get outstanding(): number {
    let n = this.queue.length;
    for (const slot of this.slots.values()) n += slot.calls.size;
    return n;
  }

  private notifyIfDrained(): void {
    if (this.outstanding > 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const wake of waiters) wake();
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    if (this.outstanding > 0) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    this.stopping = true;
    for (const timer of this.restartTimers) clearTimeout(timer);
    this.restartTimers.clear();
    const grace = this.options.shutdownTimeoutMs;
    await Promise.all([...this.slots.values()].map(async (slot) => {
      if (slot.state !== 'starting') await this.transport.send(slot.id, [encodeHeader(SHUTDOWN)]).catch(() => undefined);
      else slot.process.kill('SIGTERM');
      if (!(await slot.process.waitForExit(grace))) await slot.process.terminate(grace);
    }));
    await this.transport.close();
    await this.receiving;
    await this.files?.close();
  }
}
