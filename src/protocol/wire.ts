// The pyudf wire format (protocol.md), mirrored section by section by python/pyudf/protocol.py (Arrow bodies: arrow-ipc.ts).
import { ProtocolError } from '../errors.js';

// §2 Header frame
export const MAGIC = Buffer.from('PUDF', 'ascii');
export const VERSION = 2;
export const HEADER_SIZE = 16;
/** Header flag (RESULT only): the one body frame is the path of a file in the shared-memory directory holding the body (§3.7). */
export const FLAG_BODY_IN_FILE = 0x0001;

/** Largest RESULT body, as one frame or one file (§3.4): Node reads neither past 2 GiB - 1 bytes. */
export const MAX_RESULT_BYTES = 2 ** 31 - 1;

// §3 Message kinds
export const READY = 1;
export const REGISTER = 2;
export const REGISTERED = 3;
export const UNREGISTER = 4;
export const UNREGISTERED = 5;
export const CALL = 6;
export const RESULT = 7;
export const ERROR = 8;
export const SHUTDOWN = 9;
/** Pool to worker, no body, no answer: a send that fails tells the pool the worker's connection is gone (§8). */
export const PING = 10;

export type Kind =
  | typeof READY | typeof REGISTER | typeof REGISTERED | typeof UNREGISTER | typeof UNREGISTERED
  | typeof CALL | typeof RESULT | typeof ERROR | typeof SHUTDOWN | typeof PING;

export const KIND_NAMES: Readonly<Record<Kind, string>> = {
  [READY]: 'READY', [REGISTER]: 'REGISTER', [REGISTERED]: 'REGISTERED', [UNREGISTER]: 'UNREGISTER',
  [UNREGISTERED]: 'UNREGISTERED', [CALL]: 'CALL', [RESULT]: 'RESULT', [ERROR]: 'ERROR', [SHUTDOWN]: 'SHUTDOWN',
  [PING]: 'PING',
};

export interface Header {
  readonly kind: Kind;
  readonly requestId: number;
  readonly udfId: number;
  readonly flags: number;
}

export function encodeHeader(kind: Kind, requestId = 0, udfId = 0, flags = 0): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_SIZE);
  MAGIC.copy(buf, 0);
  buf.writeUInt8(VERSION, 4);
  buf.writeUInt8(kind, 5);
  buf.writeUInt16LE(flags, 6);
  buf.writeUInt32LE(requestId, 8);
  buf.writeUInt32LE(udfId, 12);
  return buf;
}

export function decodeHeader(frame: Uint8Array | undefined): Header {
  if (!frame || frame.byteLength !== HEADER_SIZE) {
    throw new ProtocolError(`header frame must be ${HEADER_SIZE} bytes, got ${frame?.byteLength ?? 'no frame'}`);
  }
  const buf = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  if (!buf.subarray(0, 4).equals(MAGIC)) {
    throw new ProtocolError(`bad magic ${JSON.stringify(buf.subarray(0, 4).toString('latin1'))}, expected "PUDF"`);
  }
  const version = buf.readUInt8(4);
  if (version !== VERSION) {
    throw new ProtocolError(`protocol version mismatch: peer speaks version ${version}, this side speaks ${VERSION}; install matching pyudf TypeScript and Python halves`);
  }
  const kind = buf.readUInt8(5);
  if (!(kind in KIND_NAMES)) throw new ProtocolError(`unknown message kind ${kind}`);
  return { kind: kind as Kind, flags: buf.readUInt16LE(6), requestId: buf.readUInt32LE(8), udfId: buf.readUInt32LE(12) };
}

// §3.1 READY
export interface WorkerInfo {
  readonly pid: number;
  readonly python: string;
  readonly pyarrow: string;
  readonly pyzmq: string;
  readonly numpy: string;
}

// §3.2 REGISTER
export interface UdfSpecMessage {
  readonly name: string;
  readonly module: string | null;
  readonly code: string | null;
  readonly init: string | null;
  readonly apply: string;
  readonly conf: unknown;
  /** The declared output schema, as base64 of an Arrow IPC stream holding only it; absent or null: none. */
  readonly output?: string | null;
  /** True: apply gets dictionary-encoded columns as they came; absent or false: decoded to their values. */
  readonly keep_dictionaries?: boolean;
}

// §3.5 ERROR
export interface ErrorPayload {
  readonly kind: 'python' | 'protocol';
  readonly phase: 'load' | 'init' | 'apply' | null;
  readonly type: string;
  readonly message: string;
  readonly traceback: string;
  readonly frames: readonly { readonly file: string; readonly line: number | null; readonly function: string }[];
}

export function encodeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** Decodes a JSON body frame, checking it is an object with the given string keys. */
export function decodeJson<T>(frame: Uint8Array | undefined, what: string, requiredKeys: readonly string[]): T {
  if (!frame) throw new ProtocolError(`${what} message has no JSON body frame`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('utf8'));
  } catch (cause) {
    throw new ProtocolError(`${what} body is not valid JSON`, { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError(`${what} body must be a JSON object`);
  }
  const missing = requiredKeys.filter((k) => !(k in value));
  if (missing.length) throw new ProtocolError(`${what} body lacks ${missing.join(', ')}`);
  return value as T;
}

export const WORKER_INFO_KEYS = ['pid', 'python', 'pyarrow', 'pyzmq'] as const;
export const ERROR_PAYLOAD_KEYS = ['kind', 'type', 'message', 'traceback'] as const;

const PHASES: readonly (ErrorPayload['phase'])[] = ['load', 'init', 'apply', null];

/** Decodes an ERROR body (§3.5), checking every field's type: a worker's bytes are untrusted. */
export function decodeErrorPayload(frame: Uint8Array | undefined): ErrorPayload {
  const payload = decodeJson<Record<string, unknown>>(frame, 'ERROR', ERROR_PAYLOAD_KEYS);
  const bad = (what: string): ProtocolError => new ProtocolError(`ERROR body: ${what}`);
  if (payload['kind'] !== 'python' && payload['kind'] !== 'protocol') throw bad('"kind" must be "python" or "protocol"');
  for (const key of ['type', 'message', 'traceback'] as const) {
    if (typeof payload[key] !== 'string') throw bad(`"${key}" must be a string`);
  }
  const phase = payload['phase'] ?? null;
  if (!PHASES.includes(phase as ErrorPayload['phase'])) throw bad('"phase" must be "load", "init", "apply" or null');
  const frames = payload['frames'] ?? [];
  if (!Array.isArray(frames)) throw bad('"frames" must be an array');
  for (const entry of frames as unknown[]) {
    const { file, line, function: fn } = (entry ?? {}) as Record<string, unknown>;
    if (typeof entry !== 'object' || typeof file !== 'string' || typeof fn !== 'string' || !(line === null || Number.isSafeInteger(line))) {
      throw bad('each of "frames" must be {"file": string, "line": integer or null, "function": string}');
    }
  }
  return { ...(payload as unknown as ErrorPayload), phase: phase as ErrorPayload['phase'], frames: frames as ErrorPayload['frames'] };
}

// §4 Worker process exit statuses
export const EXIT_OK = 0;
export const EXIT_USAGE = 2;
export const EXIT_ENV = 3;
export const ENV_ERROR_PREFIX = 'pyudf-env-error: ';
