// GrpcInferenceServer options, their documented defaults, and validation at the boundary.
import { InvalidOptionError } from '../../errors.js';
import { defaultLogger, type Logger } from '../../log/logger.js';
import { MAX_ARRAY_LENGTH } from '../../protocol/arrow-validate.js';
import { nonNegativeInteger, positiveInteger } from '../../validate.js';
import type { ServedModels } from '../served-models.js';
import type { status } from '@grpc/grpc-js';

export interface GrpcServerOptions {
  /** The models to answer for; ModelInfer takes a lease on the version it runs. */
  readonly models: ServedModels;
  /** TCP port; 0 picks a free one (listen() resolves with it). Default 8001, Triton's gRPC port. */
  readonly port?: number;
  /** Interface to listen on. Default '127.0.0.1' (this machine only); '0.0.0.0' for every interface. */
  readonly host?: string;
  /** ServerReady's answer. Default: always true. */
  readonly ready?: () => boolean;
  /** ServerLive's answer. Default: always true. */
  readonly live?: () => boolean;
  /** Receives error lines (with tracebacks) and start/stop lines, `source: 'server'`. Default: stderr. */
  readonly logger?: Logger;
  /** Most rows one ModelInfer may carry (a tensor's first dimension); more get INVALID_ARGUMENT. Default 1 048 576. */
  readonly maxRequestRows?: number;
  /** Largest request message accepted; larger ones get RESOURCE_EXHAUSTED before they are decoded. Default 64 MiB. */
  readonly maxMessageBytes?: number;
  /** Puts the Python exception's message (never the traceback) in an INTERNAL status's details. Default false: the type only. */
  readonly exposeErrors?: boolean;
  /** How long close() waits for calls in flight before cancelling them (UNAVAILABLE). Default 30 000 ms. */
  readonly drainTimeoutMs?: number;
  /** Called once per call when its status has gone out (or its client left): for access logs and metrics. */
  readonly onCall?: (event: GrpcCallEvent) => void;
}

/** One call the server answered (or whose client cancelled it), as `onCall` gets it. */
export interface GrpcCallEvent {
  /** When the call arrived. */
  readonly time: Date;
  /** The RPC: 'ModelInfer', 'ModelMetadata', 'ServerLive', … */
  readonly method: string;
  /** The model the request names, else null. */
  readonly model: string | null;
  /** ModelInfer: the version that took the call (the highest READY one for an unversioned call), else null. */
  readonly version: string | null;
  /** The status code the call ended with (CANCELLED when the client cancelled or its deadline passed). */
  readonly code: status;
  readonly durationMs: number;
  readonly requestId: string;
  readonly peer: string;
}

export interface ResolvedGrpcServerOptions {
  readonly models: ServedModels;
  readonly port: number;
  readonly host: string;
  readonly ready: () => boolean;
  readonly live: () => boolean;
  readonly logger: Logger;
  readonly maxRequestRows: number;
  readonly maxMessageBytes: number;
  readonly exposeErrors: boolean;
  readonly drainTimeoutMs: number;
  readonly onCall: ((event: GrpcCallEvent) => void) | undefined;
}

export const DEFAULT_GRPC_PORT = 8001;
export const DEFAULT_GRPC_HOST = '127.0.0.1';
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_GRPC_MAX_REQUEST_ROWS = 1_048_576;
export const DEFAULT_GRPC_DRAIN_TIMEOUT_MS = 30_000;

const always = (): boolean => true;

export function resolveGrpcServerOptions(options: GrpcServerOptions): ResolvedGrpcServerOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('GrpcInferenceServer', 'expects an options object');
  const resolved: ResolvedGrpcServerOptions = {
    models: options.models,
    port: options.port ?? DEFAULT_GRPC_PORT,
    host: options.host ?? DEFAULT_GRPC_HOST,
    ready: options.ready ?? always,
    live: options.live ?? always,
    logger: options.logger ?? defaultLogger,
    maxRequestRows: options.maxRequestRows ?? DEFAULT_GRPC_MAX_REQUEST_ROWS,
    maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    exposeErrors: options.exposeErrors ?? false,
    drainTimeoutMs: options.drainTimeoutMs ?? DEFAULT_GRPC_DRAIN_TIMEOUT_MS,
    onCall: options.onCall,
  };
  if (typeof resolved.models?.acquire !== 'function') throw new InvalidOptionError('models', 'must be a ServedModels');
  nonNegativeInteger('port', resolved.port);
  if (resolved.port > 65_535) throw new InvalidOptionError('port', `must be at most 65535, got ${resolved.port}`);
  if (typeof resolved.host !== 'string' || resolved.host === '') throw new InvalidOptionError('host', 'must be a host name or address');
  for (const name of ['ready', 'live', 'logger'] as const) {
    if (typeof resolved[name] !== 'function') throw new InvalidOptionError(name, 'must be a function');
  }
  if (resolved.onCall !== undefined && typeof resolved.onCall !== 'function') throw new InvalidOptionError('onCall', 'must be a function (event) => void');
  positiveInteger('maxRequestRows', resolved.maxRequestRows);
  // apache-arrow holds at most 2^31 - 1 rows in a column.
  if (resolved.maxRequestRows > MAX_ARRAY_LENGTH) {
    throw new InvalidOptionError('maxRequestRows', `must be at most ${MAX_ARRAY_LENGTH}, got ${resolved.maxRequestRows}`);
  }
  positiveInteger('maxMessageBytes', resolved.maxMessageBytes);
  // grpc-js keeps message lengths in 32-bit signed integers.
  if (resolved.maxMessageBytes > 2 ** 31 - 1) throw new InvalidOptionError('maxMessageBytes', `must be at most ${2 ** 31 - 1}, got ${resolved.maxMessageBytes}`);
  if (typeof resolved.exposeErrors !== 'boolean') throw new InvalidOptionError('exposeErrors', 'must be true or false');
  nonNegativeInteger('drainTimeoutMs', resolved.drainTimeoutMs);
  return resolved;
}
