// The serving front end's public surface, re-exported by src/index.ts.
export { createServer, ModelServer } from './server.js';
export type { RequestHandler, ServerAddress } from './server.js';
export { installSignalHandlers } from './signals.js';
export type { SignalHandlerOptions } from './signals.js';
export type { RequestEvent, ServableUdf, ServeLogLevel, ServeLogger, ServeOptions } from './options.js';
export type { ModelMetadata, TensorMetadata } from './metadata.js';
export type { OipDatatype } from './datatypes.js';
export { ARROW_STREAM } from './infer.js';
export type { RepositoryOptions } from './repository/model-repository.js';
export type { VersionPolicy } from './repository/version-policy.js';
export type { IndexEntry, VersionState } from './served-models.js';
