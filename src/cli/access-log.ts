// `pyudf serve --log-format common|json`: one access-log line on stdout per request, from the server's onRequest events.
import type { RequestEvent } from '../serve/index.js';

export const LOG_FORMATS = ['off', 'common', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Apache's common log format: `host ident authuser [date] "request line" status bytes`. */
export function commonLogLine(record: RequestEvent): string {
  const host = record.remoteAddress?.replace(/^::ffff:/, '') || '-';
  const requestLine = `${record.method} ${record.url} HTTP/${record.httpVersion}`.replace(/["\\]/g, (c) => `\\${c}`);
  return `${host} - - [${apacheTime(record.time)}] "${requestLine}" ${record.status} ${record.bytes || '-'}`;
}

/** One JSON object: time (ISO 8601), method, path (without the query), status, bytes, duration_ms, model (from the path, else null). */
export function jsonLogLine(record: RequestEvent): string {
  const path = record.url.split('?')[0]!;
  return JSON.stringify({
    time: record.time.toISOString(),
    method: record.method,
    path,
    status: record.status,
    bytes: record.bytes,
    duration_ms: Math.round(record.durationMs * 1000) / 1000,
    model: record.model,
  });
}

/**
 * The server's `onRequest` callback writing a line per request to `write` (default: stdout) in `format`;
 * undefined for `off`. A request whose client left before the answer was complete is not logged.
 */
export function accessLog(format: LogFormat, write: (line: string) => void = (line) => process.stdout.write(line)): ((event: RequestEvent) => void) | undefined {
  if (format === 'off') return undefined;
  const toLine = format === 'json' ? jsonLogLine : commonLogLine;
  return (event) => {
    if (!event.aborted) write(`${toLine(event)}\n`);
  };
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
