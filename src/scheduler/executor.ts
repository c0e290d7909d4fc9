// What the scheduler needs of one worker, wherever it runs: the contract a backend's worker handle fulfils.
import type { Table } from 'apache-arrow';
import type { PyUdfError } from '../errors.js';
import type { BatchTask } from '../backend/batch-task.js';
import type { UdfSpec } from '../backend/backend.js';

/** How a worker ended, turned into the errors the scheduler reports for it. */
export interface ExecutorExit {
  /** The error for work the worker held when it died; `attempts`: how often that work was tried; `detail` is appended. */
  crashError(attempts: number, detail?: string): PyUdfError;
  /** The error for a worker that ended before it was ready; `detail` says how, e.g. " before it was ready". */
  startError(detail: string): PyUdfError;
  /**
   * True when the worker could not start for a reason a restart will not change (no interpreter, a
   * missing package): after a few such starts in a row, queued work fails fast with the start error.
   */
  readonly permanent: boolean;
}

/**
 * One worker. `started` resolves when it can take `register` and `run`; `exited` resolves once it
 * is gone (it never rejects). Every `register`, `unregister` and `run` promise settles: a worker that
 * dies holding one rejects it with `ExecutorLostError`, so that the scheduler decides what happens to
 * the work (retry or fail); a Python failure rejects it with the typed error. The scheduler assumes no
 * order between those rejections and `exited`: whichever comes first settles the work.
 */
export interface Executor {
  readonly id: string;
  readonly started: Promise<void>;
  readonly exited: Promise<ExecutorExit>;
  /** False once the worker is being ended (killed, or it broke the protocol): it must get no new work. */
  readonly accepting: boolean;
  register(udfId: number, spec: UdfSpec): Promise<void>;
  unregister(udfId: number): Promise<void>;
  run(task: BatchTask): Promise<Table>;
  /** Ends the worker at once (a timed-out call, a broken start); `exited` follows. */
  kill(): void;
  /** Ends the worker gracefully, escalating to `kill()` after `graceMs`; resolves once it exited. */
  stop(graceMs: number): Promise<void>;
}

/** Starts workers; a backend gives the scheduler one. */
export interface Launcher<E extends Executor = Executor> {
  launch(id: string): E;
}

/** Rejects an executor's pending promises when it dies; the scheduler retries or fails the work. */
export class ExecutorLostError extends Error {
  constructor(readonly exit: ExecutorExit) {
    super('the worker ended while it held this request');
  }
}
