// In-process workers for scheduler tests: no Python, no sockets; each test scripts what its workers do.
import { type Table, tableFromArrays } from 'apache-arrow';
import { type PyUdfError, WorkerCrashedError } from '../../src/errors.js';
import type { UdfSpec } from '../../src/backend/backend.js';
import type { BatchTask } from '../../src/backend/batch-task.js';
import { type Executor, type ExecutorExit, ExecutorLostError, type Launcher } from '../../src/scheduler/executor.js';

/** How a fake worker answers a batch: a table, an error, or nothing yet (the test settles it later). */
export type RunBehaviour = (task: BatchTask, worker: FakeWorker) => Table | Error | 'hold';

export interface FakeBehaviour {
  /**
   * Whether a launched worker connects (default: at once), dies before it is ready (`'die-env'`: for a
   * reason a restart will not change, such as a missing package), or never connects.
   */
  readonly start?: (worker: FakeWorker) => 'connect' | 'die' | 'die-env' | 'never';
  readonly run?: RunBehaviour;
  /** An error `init` raises, `'die'` for an init that kills the worker, or undefined for success. */
  readonly register?: (udfId: number, spec: UdfSpec, worker: FakeWorker) => Error | 'die' | undefined;
  /** How long each `init` takes, so that workers load side by side (default: none, it answers at once). */
  readonly registerDelayMs?: number;
  /**
   * When a worker dies, whether `exited` resolves before its held batches are rejected (the default)
   * or after: the scheduler must not depend on either order.
   */
  readonly exitFirst?: boolean;
}

/** Doubles the column `x`: what the fake UDF computes. */
export function doubled(task: BatchTask): Table {
  const x = task.request.input.getChild('x')!.toArray() as Float64Array;
  return tableFromArrays({ y: x.map((v) => v * 2) });
}

export class FakeExit implements ExecutorExit {
  constructor(readonly workerId: string, readonly signal: string | undefined, readonly permanent = false) {}
  crashError(attempts: number, detail = ''): PyUdfError {
    return new WorkerCrashedError({ workerId: this.workerId, exitCode: undefined, signal: this.signal, stderrTail: [], attempts, detail });
  }
  startError(detail: string): PyUdfError {
    return new WorkerCrashedError({ workerId: this.workerId, exitCode: 1, signal: undefined, stderrTail: ['boom'], detail });
  }
}

interface Held {
  readonly task: BatchTask;
  readonly resolve: (table: Table) => void;
  readonly reject: (error: Error) => void;
}

export class FakeWorker implements Executor {
  readonly started: Promise<void>;
  readonly exited: Promise<ExecutorExit>;
  /** Batches this worker was given, in order. */
  readonly received: BatchTask[] = [];
  readonly registered = new Set<number>();
  /** UDF ids this worker was asked to unload, in order. */
  readonly unregistered: number[] = [];
  readonly held: Held[] = [];
  stoppedGracefully = false;
  killed = false;
  private connect!: () => void;
  private exit!: (exit: ExecutorExit) => void;
  private dead = false;

  constructor(readonly id: string, private readonly behaviour: FakeBehaviour) {
    this.started = new Promise((resolve) => { this.connect = resolve; });
    this.exited = new Promise((resolve) => { this.exit = resolve; });
    const start = behaviour.start?.(this) ?? 'connect';
    queueMicrotask(() => {
      if (start === 'connect') this.connect();
      else if (start === 'die' || start === 'die-env') this.die('SIGKILL', start === 'die-env');
    });
  }

  get alive(): boolean {
    return !this.dead;
  }

  get accepting(): boolean {
    return !this.dead && !this.killed;
  }

  async register(udfId: number, spec: UdfSpec): Promise<void> {
    this.assertAlive();
    if (this.behaviour.registerDelayMs) {
      await new Promise((resolve) => setTimeout(resolve, this.behaviour.registerDelayMs));
      this.assertAlive();
    }
    const error = this.behaviour.register?.(udfId, spec, this);
    if (error === 'die') {
      // The UDF's init kills the worker.
      const exited = this.exited;
      this.die();
      throw new ExecutorLostError(await exited);
    }
    if (error) throw error;
    this.registered.add(udfId);
  }

  async unregister(udfId: number): Promise<void> {
    this.unregistered.push(udfId);
    this.registered.delete(udfId);
  }

  run(task: BatchTask): Promise<Table> {
    // Like a real worker: work sent after the process ended (before its exit was seen) is lost.
    if (this.dead) return Promise.reject(new ExecutorLostError(new FakeExit(this.id, 'SIGKILL')));
    this.received.push(task);
    return new Promise<Table>((resolve, reject) => {
      const answer = (this.behaviour.run ?? doubled)(task, this);
      if (answer === 'hold') this.held.push({ task, resolve, reject });
      else if (answer instanceof Error) reject(answer);
      else resolve(answer);
    });
  }

  /** Answers the oldest held batch. */
  answer(): void {
    const held = this.held.shift()!;
    held.resolve(doubled(held.task));
  }

  /** The worker process ends: whatever it holds is lost. */
  die(signal = 'SIGKILL', permanent = false): void {
    if (this.dead) return;
    this.dead = true;
    const exit = new FakeExit(this.id, signal, permanent);
    const exitFirst = this.behaviour.exitFirst ?? true;
    if (exitFirst) this.exit(exit);
    for (const held of this.held.splice(0)) held.reject(new ExecutorLostError(exit));
    if (!exitFirst) this.exit(exit);
  }

  /** The worker sent something malformed: its batches fail with `error`, it takes no more work, and it is being killed. */
  breakProtocol(error: Error): void {
    this.killed = true;
    for (const held of this.held.splice(0)) held.reject(error);
  }

  kill(): void {
    this.killed = true;
    this.die();
  }

  async stop(): Promise<void> {
    this.stoppedGracefully = true;
    this.die('SIGTERM');
    await this.exited;
  }

  private assertAlive(): void {
    if (this.dead) throw new ExecutorLostError(new FakeExit(this.id, 'SIGKILL'));
  }
}

export class FakeLauncher implements Launcher<FakeWorker> {
  readonly workers: FakeWorker[] = [];
  /** performance.now() of each launch, to check back-off. */
  readonly launchedAt: number[] = [];

  constructor(public behaviour: FakeBehaviour = {}) {}

  launch(id: string): FakeWorker {
    const worker = new FakeWorker(id, this.behaviour);
    this.workers.push(worker);
    this.launchedAt.push(performance.now());
    return worker;
  }

  get live(): FakeWorker[] {
    return this.workers.filter((w) => w.alive);
  }
}
