// The public surface of pyudf.
export { createPool, Pool } from './pool/pool.js';
export type { PoolStats, WorkerStats } from './pool/pool.js';
export type { SlotState as WorkerState } from './pool/worker-slot.js';
export type { PoolOptions } from './pool/options.js';
export { Udf, DEFAULT_BATCH_SIZE, DEFAULT_MAX_BATCH_BYTES } from './udf/udf.js';
export type { ApplyOptions, JsonValue, RegisterOptions } from './udf/udf.js';
export type { Logger, LogStream } from './worker/worker-process.js';
export {
  AbortError, InvalidInputError, InvalidOptionError, PoolClosedError, ProtocolError, PythonEnvError, PythonError,
  PyUdfError, RowCountError, SchemaError, UdfTimeoutError, WorkerCrashedError,
} from './errors.js';
export type { PyUdfErrorCode, PythonFrame, PythonPhase, SchemaSide } from './errors.js';
