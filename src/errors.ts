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
  | 'ERR_ABORTED';

/** Base class of every error pyudf throws; `code` is stable across versions. */
export abstract class PyUdfError extends Error {
  abstract readonly code: PyUdfErrorCode;
  /** Which batch of the call, or which item of a stream, failed, when the failure belongs to one. */
  batchIndex: number | undefined;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One frame of a Python traceback, outermost first. */
export interface PythonFrame {
  readonly file: string;
  readonly line: number;
  readonly function: string;
}

/** Which hook raised: loading the module, `init`, or `apply`. */
export type PythonPhase = 'load' | 'init' | 'apply';

/** A Python exception raised by the UDF's module, `init` or `apply`. The worker keeps serving. */
export class PythonError extends PyUdfError {
  readonly code = 'ERR_PYTHON' as const;
  constructor(
    readonly pythonType: string,
    readonly pythonMessage: string,
    /** The formatted traceback, as Python prints it. */
    readonly traceback: string,
    readonly frames: readonly PythonFrame[],
    readonly phase: PythonPhase,
    readonly udf: string,
    /** Index of the failing batch within the call (apply phase only). */
    batchIndex: number | undefined,
  ) {
    const where = frames.at(-1);
    const at = where ? ` (${where.file}:${where.line} in ${where.function})` : '';
    const batch = batchIndex === undefined ? '' : ` on batch ${batchIndex}`;
    super(`${pythonType}: ${pythonMessage}${at} — raised in ${phase}() of UDF "${udf}"${batch}\n${traceback}`);
    this.batchIndex = batchIndex;
  }
}

/** A worker process died (signal, `os._exit`, OOM kill) while it held this work, and retries ran out. */
export class WorkerCrashedError extends PyUdfError {
  readonly code = 'ERR_WORKER_CRASHED' as const;
  constructor(
    readonly workerId: string,
    readonly exitCode: number | undefined,
    readonly signal: string | undefined,
    /** The last lines the worker wrote to stderr (a faulthandler stack dump on a segfault). */
    readonly stderrTail: readonly string[],
    readonly attempts: number,
    detail = '',
  ) {
    const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode ?? 'unknown'}`;
    const tail = stderrTail.length ? `\nLast stderr lines of ${workerId}:\n${stderrTail.join('\n')}` : '';
    super(`Python worker ${workerId} ${how}${detail}${attempts > 1 ? ` (after ${attempts} attempts)` : ''}${tail}`);
  }
}

/** A call ran longer than its `timeoutMs`; the worker running it was killed and replaced. */
export class UdfTimeoutError extends PyUdfError {
  readonly code = 'ERR_UDF_TIMEOUT' as const;
  constructor(readonly udf: string, readonly timeoutMs: number) {
    super(`UDF "${udf}" did not answer within timeoutMs=${timeoutMs}; its worker was restarted. Raise timeoutMs or leave it unset (no limit).`);
  }
}

/** A malformed or wrong-version message crossed the wire. */
export class ProtocolError extends PyUdfError {
  readonly code = 'ERR_PROTOCOL' as const;
}

/** Where a schema mismatch was found. */
export type SchemaSide = 'input' | 'output';

/** A table does not match the declared `input` or `output` schema. */
export class SchemaError extends PyUdfError {
  readonly code = 'ERR_SCHEMA' as const;
  constructor(
    readonly side: SchemaSide,
    readonly column: string,
    readonly expected: string,
    readonly actual: string,
    readonly udf: string,
  ) {
    super(`${side} column "${column}" of UDF "${udf}" is ${actual}, but the declared ${side} schema says ${expected}`);
  }
}

/** `apply` returned a different number of rows than it was given. */
export class RowCountError extends PyUdfError {
  readonly code = 'ERR_ROW_COUNT' as const;
  constructor(readonly udf: string, batchIndex: number, readonly expected: number, readonly actual: number) {
    super(`apply() of UDF "${udf}" returned ${actual} rows for batch ${batchIndex} of ${expected} rows; it must return exactly one output row per input row`);
    this.batchIndex = batchIndex;
  }
}

/** The pool (or the UDF) was closed before or while the work was submitted. */
export class PoolClosedError extends PyUdfError {
  readonly code = 'ERR_POOL_CLOSED' as const;
}

/** The Python interpreter is missing or lacks a package the worker needs. */
export class PythonEnvError extends PyUdfError {
  readonly code = 'ERR_PYTHON_ENV' as const;
  constructor(readonly python: string, readonly problem: string, readonly fix: string, options?: { cause?: unknown }) {
    super(`${problem} (interpreter: ${python}). Fix: ${fix}`, options);
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
  constructor(options?: { cause?: unknown }) {
    super('The operation was aborted', options);
  }
}
