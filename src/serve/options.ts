// createServer() options, their documented defaults, and validation at the boundary.
import path from 'node:path';
import { InvalidOptionError } from '../errors.js';
import { defaultLogger, type Logger } from '../log/logger.js';
import type { PoolOptions, RayPoolOptions } from '../pool/options.js';
import { MAX_ARRAY_LENGTH } from '../protocol/arrow-validate.js';
import type { BackendStats } from '../backend/backend.js';
import type { Pool } from '../pool/pool.js';
import { nonNegativeInteger, positiveInteger } from '../validate.js';
import { type RegisterOptions, savedModelName } from '../udf/register-options.js';
import type { RepositoryOptions } from './repository/model-repository.js';
import { parseVersionPolicy } from './repository/version-policy.js';

import type { ServableUdf } from './servable-udf.js';

export type { ServableUdf };

/** The server logs through pyudf's one logger interface, with `source: 'server'`; `requestId` ties an error to its reply. */
export type ServeLogger = Logger;
export type { LogLevel as ServeLogLevel } from '../log/logger.js';

export const defaultServeLogger: ServeLogger = defaultLogger;

export interface ServeOptions {
  /** The model, as `pool.register()` takes it (module, code or a saved model, conf, schemas…). Give this, `udf` or `repository`. */
  readonly model?: RegisterOptions;
  /** A UDF already registered, to serve instead of `model`; the server does not close it. */
  readonly udf?: ServableUdf;
  /**
   * A model repository to serve every model of: `<dir>/<model>/<version>/` holding a model.py or a saved
   * model, with an optional `<dir>/<model>/config.json`. A path, or options (version policy, polling).
   */
  readonly repository?: string | RepositoryOptions;
  /** Also answer the KServe v2 gRPC inference service on this port (0 picks a free one; see `server.grpcPort`). Default: no gRPC. */
  readonly grpcPort?: number;
  /** The pool to register `model` on; close() leaves it open. Default: a new pool from `poolOptions`, closed by close(). */
  readonly pool?: Pool<BackendStats>;
  /** Options of the pool the server creates when `pool` is not given. Default: createPool()'s defaults. */
  readonly poolOptions?: PoolOptions | RayPoolOptions;
  /** TCP port; 0 picks a free one (see `server.url`). Default 8000, the Open Inference Protocol's usual port. */
  readonly port?: number;
  /** Interface to listen on. Default '127.0.0.1' (this machine only); '0.0.0.0' for every interface. */
  readonly host?: string;
  /** Largest request body accepted; larger ones get 413 before they are read. Default 64 MiB. */
  readonly maxBodyBytes?: number;
  /**
   * Most rows one inference request may carry (an Arrow stream's rows, or a tensor's first dimension); more
   * get 400 before anything is loaded. Default 1 048 576.
   */
  readonly maxRequestRows?: number;
  /** How long close() waits for in-flight requests before cancelling them with 503. Default 30 000 ms. */
  readonly drainTimeoutMs?: number;
  /** Receives the server's log lines (errors with tracebacks, start, stop), `source: 'server'`. Default: stderr, prefixed `[pyudf server]`. */
  readonly logger?: ServeLogger;
  /**
   * Puts the Python exception's type and message in the body of a 500 (never the traceback). Default
   * false: the body names the type only, since a message can carry data the client should not see.
   */
  readonly exposeErrors?: boolean;
  /** Called once per request when its response has gone out (or the client left): for access logs. */
  readonly onRequest?: (event: RequestEvent) => void;
}

/** One request the server answered (or whose client left first), as `onRequest` gets it. */
export interface RequestEvent {
  /** When the request arrived. */
  readonly time: Date;
  readonly method: string;
  /** The request target as sent (path and query). */
  readonly url: string;
  readonly httpVersion: string;
  readonly remoteAddress: string | undefined;
  readonly status: number;
  /** Bytes of the response body. */
  readonly bytes: number;
  readonly durationMs: number;
  /** The model the path names (`/v2/models/{name}/…`), else null. */
  readonly model: string | null;
  readonly requestId: string;
  /** True when the client went away before the whole response was sent. */
  readonly aborted: boolean;
}

export interface ResolvedServeOptions {
  readonly model: RegisterOptions | undefined;
  readonly udf: ServableUdf | undefined;
  readonly repository: RepositoryOptions | undefined;
  readonly grpcPort: number | undefined;
  readonly pool: Pool<BackendStats> | undefined;
  readonly poolOptions: PoolOptions | RayPoolOptions;
  /** The name in URLs of the one model (known before it is loaded); undefined for a repository. */
  readonly modelName: string | undefined;
  readonly port: number;
  readonly host: string;
  readonly maxBodyBytes: number;
  readonly maxRequestRows: number;
  readonly drainTimeoutMs: number;
  readonly logger: ServeLogger;
  readonly exposeErrors: boolean;
  readonly onRequest: ((event: RequestEvent) => void) | undefined;
}

export const DEFAULT_PORT = 8000;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_REQUEST_ROWS = 1_048_576;
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

export function resolveServeOptions(options: ServeOptions): ResolvedServeOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('createServer', 'expects an options object');
  const { model, udf } = options;
  const repository = typeof options.repository === 'string' ? { path: options.repository } : options.repository;
  if ([model, udf, repository].filter((v) => v !== undefined).length !== 1) {
    throw new InvalidOptionError('model', 'give exactly one of "model" (what pool.register() takes), "udf" (a registered UDF) and "repository" (a model repository directory)');
  }
  if (repository !== undefined && (typeof repository !== 'object' || repository === null)) throw new InvalidOptionError('repository', 'must be a directory path or { path, versionPolicy, pollMs }');
  if (repository?.versionPolicy !== undefined) parseVersionPolicy(repository.versionPolicy, 'repository.versionPolicy');
  if (repository?.pollMs !== undefined) nonNegativeInteger('repository.pollMs', repository.pollMs);
  if (udf && (options.pool || options.poolOptions)) {
    throw new InvalidOptionError('pool', '"pool" and "poolOptions" apply to "model"; a given "udf" already runs on its pool');
  }
  if (options.pool && options.poolOptions) throw new InvalidOptionError('poolOptions', 'give "pool" or "poolOptions", not both');
  const resolved: ResolvedServeOptions = {
    model,
    udf,
    repository,
    grpcPort: options.grpcPort,
    pool: options.pool,
    poolOptions: options.poolOptions ?? {},
    modelName: repository ? undefined : udf?.name ?? modelName(model!),
    port: options.port ?? DEFAULT_PORT,
    host: options.host ?? DEFAULT_HOST,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    maxRequestRows: options.maxRequestRows ?? DEFAULT_MAX_REQUEST_ROWS,
    drainTimeoutMs: options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS,
    logger: options.logger ?? defaultServeLogger,
    exposeErrors: options.exposeErrors ?? false,
    onRequest: options.onRequest,
  };
  if (typeof resolved.exposeErrors !== 'boolean') throw new InvalidOptionError('exposeErrors', 'must be true or false');
  if (resolved.onRequest !== undefined && typeof resolved.onRequest !== 'function') {
    throw new InvalidOptionError('onRequest', 'must be a function (event) => void');
  }
  nonNegativeInteger('port', resolved.port);
  if (resolved.port > 65_535) throw new InvalidOptionError('port', `must be at most 65535, got ${resolved.port}`);
  if (resolved.grpcPort !== undefined) {
    nonNegativeInteger('grpcPort', resolved.grpcPort);
    if (resolved.grpcPort > 65_535) throw new InvalidOptionError('grpcPort', `must be at most 65535, got ${resolved.grpcPort}`);
    if (resolved.grpcPort !== 0 && resolved.grpcPort === resolved.port) throw new InvalidOptionError('grpcPort', `must differ from port (${resolved.port}): HTTP and gRPC listen on ports of their own`);
  }
  if (typeof resolved.host !== 'string' || resolved.host === '') throw new InvalidOptionError('host', 'must be a host name or address');
  positiveInteger('maxBodyBytes', resolved.maxBodyBytes);
  positiveInteger('maxRequestRows', resolved.maxRequestRows);
  // apache-arrow holds at most 2^31 - 1 rows in a column.
  if (resolved.maxRequestRows > MAX_ARRAY_LENGTH) {
    throw new InvalidOptionError('maxRequestRows', `must be at most ${MAX_ARRAY_LENGTH}, got ${resolved.maxRequestRows}`);
  }
  nonNegativeInteger('drainTimeoutMs', resolved.drainTimeoutMs);
  if (typeof resolved.logger !== 'function') throw new InvalidOptionError('logger', 'must be a function (message, meta) => void');
  return resolved;
}

/** The model's name in URLs: its `name`, else the module's or saved model's file name, as register() would pick. */
function modelName(model: RegisterOptions): string {
  if (typeof model !== 'object' || model === null) throw new InvalidOptionError('model', 'must be an options object for pool.register()');
  const fileName = typeof model.module === 'string' ? path.basename(model.module, '.py')
    : typeof model.model === 'string' ? savedModelName(path.resolve(model.model)) : undefined;
  const name = model.name ?? fileName;
  if (name === undefined) throw new InvalidOptionError('model.name', 'is required with inline "code": it names the model in URLs');
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(name)) {
    throw new InvalidOptionError('model.name', `must be a non-empty URL-safe name (letters, digits, _ . -), got ${JSON.stringify(name)}`);
  }
  return name;
}
