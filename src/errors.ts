// Every error pyudf throws: one base class, a stable `code` per class, and the fields a user acts on.

export type PyUdfErrorCode =
  | 'ERR_PYTHON'
  | 'ERR_WORKER_CRASHED'
  | 'ERR_UDF_TIMEOUT'
  | 'ERR_PROTOCOL'
  | 'ERR_SCHEMA'
  | 'ERR_ROW_COUNT'
  | 'ERR_POOL_CLOSED'
  | 'ERR_PYTHON_ENV'
  | 'ERR_INVALID_OPTION'
  | 'ERR_INVALID_INPUT'
  | 'ERR_ABORTED'
  | 'ERR_RAY_UNAVAILABLE';

/** Marks pyudf's errors; a registered symbol, so that two installed copies of pyudf recognise each other's. */
const PYUDF_ERROR = Symbol.for('pyudf.error');

export interface PyUdfErrorOptions {
  readonly cause?: unknown;
  /** Which batch of the call, or which item of a stream, failed. */
  readonly batchIndex?: number | undefined;
}

/** Base class of every error pyudf throws; `code` is stable across versions. */
export abstract class PyUdfError extends Error {
  abstract readonly code: PyUdfErrorCode;
  /** Which batch of the call, or which item of a stream, failed, when the failure belongs to one. */
  readonly batchIndex: number | undefined;

  constructor(message: string, options: PyUdfErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.batchIndex = options.batchIndex;
  }

  /** The same error (class, fields, message, stack) with another `batchIndex`; this one is left as it is. */
  withBatchIndex(batchIndex: number): this {
    const copy = Object.create(Object.getPrototypeOf(this) as object, Object.getOwnPropertyDescriptors(this)) as this;
    Object.defineProperty(copy, 'batchIndex', { value: batchIndex, enumerable: true, writable: false, configurable: true });
    return copy;
  }
}
Object.defineProperty(PyUdfError.prototype, PYUDF_ERROR, { value: true });

/** True for an error thrown by any installed copy of pyudf (where `instanceof` would see two classes). */
export function isPyUdfError(value: unknown): value is PyUdfError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[PYUDF_ERROR] === true;
}

/** One frame of a Python traceback, outermost first. */
export interface PythonFrame {
  readonly file: string;
  /** null where Python knows no line number. */
  readonly line: number | null;
  readonly function: string;
}

/** Which hook raised: loading the module, `init`, or `apply`. */
export type PythonPhase = 'load' | 'init' | 'apply';

export interface PythonErrorOptions extends PyUdfErrorOptions {
  readonly pythonType: string;
  readonly pythonMessage: string;
  /** The formatted traceback, as Python prints it. */
  readonly traceback: string;
  readonly frames: readonly PythonFrame[];
  readonly phase: PythonPhase;
  readonly udf: string;
}

/** A Python exception raised by the UDF's module, `init` or `apply`. The worker keeps serving. */
export class PythonError extends PyUdfError {
  readonly code = 'ERR_PYTHON' as const;
  readonly pythonType: string;
  readonly pythonMessage: string;
  readonly traceback: string;
  readonly frames: readonly PythonFrame[];
  readonly phase: PythonPhase;
  readonly udf: string;

  constructor(options: PythonErrorOptions) {
    const { pythonType, pythonMessage, traceback, frames, phase, udf, batchIndex } = options;
    const where = frames.at(-1);
    const at = where ? ` (${where.file}${where.line === null ? '' : `:${where.line}`} in ${where.function})` : '';
    const batch = batchIndex === undefined ? '' : ` on batch ${batchIndex}`;
    super(`${pythonType}: ${pythonMessage}${at} — raised in ${phase}() of UDF "${udf}"${batch}\n${traceback}`, options);
    this.pythonType = pythonType;
    this.pythonMessage = pythonMessage;
    this.traceback = traceback;
    this.frames = frames;
    this.phase = phase;
    this.udf = udf;
  }
}

export interface WorkerCrashedErrorOptions extends PyUdfErrorOptions {
  readonly workerId: string;
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  /** The last lines the worker wrote to stderr (a faulthandler stack dump on a segfault). */
  readonly stderrTail: readonly string[];
  /** Times the work was tried. Default 1. */
  readonly attempts?: number;
  /** Appended to the message, e.g. " before it was ready". */
  readonly detail?: string;
}

/** A worker process died (signal, `os._exit`, OOM kill) while it held this work, and retries ran out. */
export class WorkerCrashedError extends PyUdfError {
  readonly code = 'ERR_WORKER_CRASHED' as const;
  readonly workerId: string;
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  readonly stderrTail: readonly string[];
  readonly attempts: number;

  constructor(options: WorkerCrashedErrorOptions) {
    const { workerId, exitCode, signal, stderrTail, attempts = 1, detail = '' } = options;
    const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode ?? 'unknown'}`;
    const tail = stderrTail.length ? `\nLast stderr lines of ${workerId}:\n${stderrTail.join('\n')}` : '';
    super(`Python worker ${workerId} ${how}${detail}${attempts > 1 ? ` (after ${attempts} attempts)` : ''}${tail}`, options);
    this.workerId = workerId;
    this.exitCode = exitCode;
    this.signal = signal;
    this.stderrTail = stderrTail;
    this.attempts = attempts;
  }
}

/** A call ran longer than its `timeoutMs`; the worker running it was killed and replaced. */
export class UdfTimeoutError extends PyUdfError {
  readonly code = 'ERR_UDF_TIMEOUT' as const;
  readonly udf: string;
  readonly timeoutMs: number;

  constructor(options: { readonly udf: string; readonly timeoutMs: number } & PyUdfErrorOptions) {
    const { udf, timeoutMs } = options;
    super(`UDF "${udf}" did not answer within timeoutMs=${timeoutMs}; its worker was restarted. Raise timeoutMs or leave it unset (no limit).`, options);
    this.udf = udf;
    this.timeoutMs = timeoutMs;
  }
}

/** A malformed or wrong-version message crossed the wire. */
export class ProtocolError extends PyUdfError {
  readonly code = 'ERR_PROTOCOL' as const;
}

/** Where a schema mismatch was found. */
export type SchemaSide = 'input' | 'output';

export interface SchemaErrorOptions extends PyUdfErrorOptions {
  readonly side: SchemaSide;
  readonly column: string;
  readonly expected: string;
  readonly actual: string;
  readonly udf: string;
  /** How to fix it, appended to the message. */
  readonly fix?: string;
}

/** A table does not match the declared `input` or `output` schema. */
export class SchemaError extends PyUdfError {
  readonly code = 'ERR_SCHEMA' as const;
  readonly side: SchemaSide;
  readonly column: string;
  readonly expected: string;
  readonly actual: string;
  readonly udf: string;

  constructor(options: SchemaErrorOptions) {
    const { side, column, expected, actual, udf, fix } = options;
    super(`${side} column "${column}" of UDF "${udf}" is ${actual}, but the declared ${side} schema says ${expected}${fix ? `: ${fix}` : ''}`, options);
    this.side = side;
    this.column = column;
    this.expected = expected;
    this.actual = actual;
    this.udf = udf;
  }
}

/** `apply` returned a different number of rows than it was given. */
export class RowCountError extends PyUdfError {
  readonly code = 'ERR_ROW_COUNT' as const;
  readonly udf: string;
  readonly expected: number;
  readonly actual: number;

  constructor(options: { readonly udf: string; readonly batchIndex: number; readonly expected: number; readonly actual: number }) {
    const { udf, batchIndex, expected, actual } = options;
    super(`apply() of UDF "${udf}" returned ${actual} rows for batch ${batchIndex} of ${expected} rows; it must return exactly one output row per input row`, options);
    this.udf = udf;
    this.expected = expected;
    this.actual = actual;
  }
}

/** What was closed (or never open) when work arrived. */
export type ClosedResource = 'pool' | 'udf' | 'server' | 'registration';

/**
 * Work reached something closed: the pool (`closed: 'pool'`), the UDF (`'udf'`), the server
 * (`'server'`), or a UDF no worker holds any more (`'registration'`). One stable code for all four;
 * `closed` (or the subclass) tells them apart.
 */
export class PoolClosedError extends PyUdfError {
  readonly code = 'ERR_POOL_CLOSED' as const;
  readonly closed: ClosedResource;

  constructor(message: string, options: PyUdfErrorOptions & { readonly closed?: ClosedResource } = {}) {
    super(message, options);
    this.closed = options.closed ?? 'pool';
  }
}

/** The UDF was closed (`udf.close()`) before or while the work was submitted. */
export class UdfClosedError extends PoolClosedError {
  constructor(message: string, options: PyUdfErrorOptions = {}) {
    super(message, { ...options, closed: 'udf' });
  }
}

/** The server was closed, or is shutting down. */
export class ServerClosedError extends PoolClosedError {
  constructor(message: string, options: PyUdfErrorOptions = {}) {
    super(message, { ...options, closed: 'server' });
  }
}

/** The UDF is registered on no worker any more, and none will load it again (it was unregistered). */
export class UdfUnregisteredError extends PoolClosedError {
  constructor(message: string, options: PyUdfErrorOptions = {}) {
    super(message, { ...options, closed: 'registration' });
  }
}

export interface PythonEnvErrorOptions extends PyUdfErrorOptions {
  readonly python: string;
  readonly problem: string;
  readonly fix: string;
}

/** The Python interpreter is missing or lacks a package the worker needs. */
export class PythonEnvError extends PyUdfError {
  readonly code = 'ERR_PYTHON_ENV' as const;
  readonly python: string;
  readonly problem: string;
  readonly fix: string;

  constructor(options: PythonEnvErrorOptions) {
    const { python, problem, fix } = options;
    super(`${problem} (interpreter: ${python}). Fix: ${fix}`, options);
    this.python = python;
    this.problem = problem;
    this.fix = fix;
  }
}

/** An option has a wrong type or value. */
export class InvalidOptionError extends PyUdfError {
  readonly code = 'ERR_INVALID_OPTION' as const;
  constructor(readonly option: string, message: string) {
    super(`Invalid option "${option}": ${message}`);
  }
}

/** The data passed to a UDF is not something it accepts. */
export class InvalidInputError extends PyUdfError {
  readonly code = 'ERR_INVALID_INPUT' as const;
}

/** The caller's AbortSignal fired. */
export class AbortError extends PyUdfError {
  readonly code = 'ERR_ABORTED' as const;
  constructor(options: PyUdfErrorOptions = {}) {
    super('The operation was aborted', options);
  }
}

/**
 * A pool on Ray cannot reach its cluster: not there at start, or lost since (its GCS stopped answering).
 * Work fails with it instead of waiting; the pool keeps trying, and serves again once the cluster is back.
 */
export class RayUnavailableError extends PyUdfError {
  readonly code = 'ERR_RAY_UNAVAILABLE' as const;
  /** The address the pool joins; null for a cluster of its own. */
  readonly address: string | null;
  readonly problem: string;

  constructor(options: { readonly address: string | null; readonly problem: string } & PyUdfErrorOptions) {
    super(`The Ray cluster ${options.address ?? '(started by the pool)'} is unavailable: ${options.problem}`, options);
    this.address = options.address;
    this.problem = options.problem;
  }
}
