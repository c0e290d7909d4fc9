// The public surface of pyudf.
export { createPool, Pool } from './pool/pool.js';
export type { PoolDefaults, PoolStats } from './pool/pool.js';
export type { LocalBackendOptions, PoolOptions, RayPoolOptions } from './pool/options.js';
export type { ActorStats, RayActorOptions, RayBackendOptions, RayBackendStats, RaySchedulingStrategy } from './ray/index.js';
export type { Backend, BackendStats, UdfSpec } from './backend/backend.js';
export { BatchTask } from './backend/batch-task.js';
export type { BatchRequest } from './backend/batch-task.js';
export type { LocalBackendStats, WorkerState, WorkerStats } from './local/index.js';
export { Udf } from './udf/udf.js';
export type { ApplyOptions, BatchEvent, CallOptions } from './udf/udf.js';
export {
  DEFAULT_BATCH_SIZE, DEFAULT_MAX_BATCH_BYTES, DEFAULT_MAX_BATCH_ROWS, DEFAULT_MAX_DELAY_MS,
} from './udf/register-options.js';
export type { JsonValue, ModelFormat, RegisterOptions } from './udf/register-options.js';
export { DEFAULT_MAX_IN_FLIGHT } from './udf/stream.js';
export type { StreamItem, StreamOptions, StreamSource } from './udf/stream.js';
export type { PlainValue, Row, RowOf } from './udf/rows.js';
export { tensorColumn, tensorOf } from './udf/tensors.js';
export type { Tensor, TensorValues } from './udf/tensors.js';
export { defaultLogger, silentLogger } from './log/logger.js';
export type { Logger, LogLevel, LogMeta, LogStream } from './log/logger.js';
export {
  AbortError, InvalidInputError, InvalidOptionError, isPyUdfError, PoolClosedError, ProtocolError, PythonEnvError, PythonError,
  PyUdfError, RayUnavailableError, RowCountError, SchemaError, ServerClosedError, UdfClosedError, UdfTimeoutError, UdfUnregisteredError,
  WorkerCrashedError,
} from './errors.js';
export type {
  ClosedResource, PyUdfErrorCode, PyUdfErrorOptions, PythonErrorOptions, PythonEnvErrorOptions, PythonFrame, PythonPhase,
  SchemaErrorOptions, SchemaSide, WorkerCrashedErrorOptions,
} from './errors.js';
export { ARROW_STREAM, createServer, installSignalHandlers, ModelServer } from './serve/index.js';
export type {
  IndexEntry, ModelMetadata, OipDatatype, RepositoryOptions, RequestEvent, RequestHandler, ServableUdf, ServeLogger,
  ServeLogLevel, ServeOptions, ServerAddress, SignalHandlerOptions, TensorMetadata, VersionPolicy, VersionState,
} from './serve/index.js';
