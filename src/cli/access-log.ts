// `pyudf serve --log-format common|json`: one access-log line on stdout per finished HTTP request.
//
// createServer() has no per-request hook yet, so the lines come from Node's own HTTP diagnostics
// channels (`http.server.request.start`, `http.server.response.finish`, public since Node 18.7), which
// see every request of every http.Server in the process: in `pyudf serve` there is only the model's.
// A request whose client leaves before the reply is complete is not logged (its response never finishes).
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const LOG_FORMATS = ['off', 'common', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** One finished request, as the access log reports it. */
export interface AccessRecord {
  /** When the request arrived. */
  readonly time: Date;
  readonly remoteAddress: string | undefined;
  readonly method: string;
  /** The request target as sent (path and query). */
  readonly url: string;
  readonly httpVersion: string;
  readonly status: number;
  /** Bytes of the response body. */
  readonly bytes: number;
  readonly durationMs: number;
}

/** Apache's common log format: `host ident authuser [date] "request line" status bytes`. */
export function commonLogLine(record: AccessRecord): string {
  const host = record.remoteAddress?.replace(/^::ffff:/, '') || '-';
  const requestLine = `${record.method} ${record.url} HTTP/${record.httpVersion}`.replace(/["\\]/g, (c) => `\\${c}`);
  return `${host} - - [${apacheTime(record.time)}] "${requestLine}" ${record.status} ${record.bytes || '-'}`;
}

/** One JSON object: time (ISO 8601), method, path (without the query), status, bytes, duration_ms, model (from the path, else null). */
export function jsonLogLine(record: AccessRecord): string {
  const path = record.url.split('?')[0]!;
  return JSON.stringify({
    time: record.time.toISOString(),
    method: record.method,
    path,
    status: record.status,
    bytes: record.bytes,
    duration_ms: Math.round(record.durationMs * 1000) / 1000,
    model: modelOf(path),
  });
}

/** The model a request is about: `/v2/models/{name}/…` names it; other endpoints are about none. */
export function modelOf(path: string): string | null {
  const match = /^\/v2\/models\/([^/]+)/.exec(path);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return match[1]!;
  }
}

interface Started {
  readonly time: Date;
  readonly started: bigint;
  bytes: number;
}

interface ChannelMessage {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
}

/**
 * Writes a line per finished request to `write` (default: stdout) in `format`; returns a function
 * that stops. `off` writes nothing.
 */
export function startAccessLog(format: LogFormat, write: (line: string) => void = (line) => process.stdout.write(line)): () => void {
  if (format === 'off') return () => undefined;
  const toLine = format === 'json' ? jsonLogLine : commonLogLine;
  const requests = new WeakMap<ServerResponse, Started>();
  const onStart = (message: unknown): void => {
    const { response } = message as ChannelMessage;
    const entry: Started = { time: new Date(), started: process.hrtime.bigint(), bytes: 0 };
    requests.set(response, entry);
    countBodyBytes(response, entry);
  };
  const onFinish = (message: unknown): void => {
    const { request, response } = message as ChannelMessage;
    const entry = requests.get(response);
    if (!entry) return;
    requests.delete(response);
    write(`${toLine({
      time: entry.time,
      remoteAddress: request.socket.remoteAddress,
      method: request.method ?? '-',
      url: request.url ?? '-',
      httpVersion: request.httpVersion,
      status: response.statusCode,
      bytes: entry.bytes,
      durationMs: Number(process.hrtime.bigint() - entry.started) / 1e6,
    })}\n`);
  };
  subscribe('http.server.request.start', onStart);
  subscribe('http.server.response.finish', onFinish);
  return () => {
    unsubscribe('http.server.request.start', onStart);
    unsubscribe('http.server.response.finish', onFinish);
  };
}

/** Counts the body bytes written to `response` (write() and end()), headers not included, as Apache's %b. */
function countBodyBytes(response: ServerResponse, entry: Started): void {
  const count = (chunk: unknown, encoding: unknown): void => {
    if (typeof chunk === 'string') entry.bytes += Buffer.byteLength(chunk, typeof encoding === 'string' ? encoding as BufferEncoding : 'utf8');
    else if (chunk instanceof Uint8Array) entry.bytes += chunk.byteLength;
  };
  const write = response.write;
  const end = response.end;
  response.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    count(chunk, rest[0]);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as ServerResponse['write'];
  response.end = function (this: ServerResponse, ...args: unknown[]) {
    if (args.length && typeof args[0] !== 'function') count(args[0], args[1]);
    return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['end'];
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `10/Oct/2000:13:55:36 -0700`: local time with its offset, as Apache writes %t. */
export function apacheTime(time: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const offset = -time.getTimezoneOffset();
  const zone = `${offset >= 0 ? '+' : '-'}${pad(Math.floor(Math.abs(offset) / 60))}${pad(Math.abs(offset) % 60)}`;
  return `${pad(time.getDate())}/${MONTHS[time.getMonth()]}/${time.getFullYear()}:` +
    `${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())} ${zone}`;
}
