// The public surface of pyudf.
export { createPool, Pool } from './pool/pool.js';
export type { PoolStats, WorkerStats } from './pool/pool.js';
export type { SlotState as WorkerState } from './pool/worker-slot.js';
export type { PoolOptions } from './pool/options.js';
export {
  Udf, DEFAULT_BATCH_SIZE, DEFAULT_MAX_BATCH_BYTES, DEFAULT_MAX_BATCH_ROWS, DEFAULT_MAX_DELAY_MS,
} from './udf/udf.js';
export type { ApplyOptions, BatchEvent, CallOptions, JsonValue, RegisterOptions } from './udf/udf.js';
export { DEFAULT_MAX_IN_FLIGHT } from './udf/stream.js';
export type { StreamItem, StreamOptions, StreamSource } from './udf/stream.js';
export type { Row } from './udf/rows.js';
export type { Logger, LogStream } from './worker/worker-process.js';
export {
  AbortError, InvalidInputError, InvalidOptionError, PoolClosedError, ProtocolError, PythonEnvError, PythonError,
  PyUdfError, RowCountError, SchemaError, UdfTimeoutError, WorkerCrashedError,
} from './errors.js';
export type { PyUdfErrorCode, PythonFrame, PythonPhase, SchemaSide } from './errors.js';
export { ARROW_STREAM, createServer, installSignalHandlers, ModelServer } from './serve/index.js';
export type {
  ModelMetadata, OipDatatype, ServableUdf, ServeLogger, ServeLogLevel, ServeOptions, ServerAddress, SignalHandlerOptions, TensorMetadata,
} from './serve/index.js';
