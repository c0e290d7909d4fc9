// A reply ready to write (status, headers, body chunks), and writing one.
import type { ServerResponse } from 'node:http';

export interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly chunks: readonly Uint8Array[];
}

export function jsonReply(status: number, value: unknown): Reply {
  return { status, headers: { 'content-type': 'application/json' }, chunks: [Buffer.from(JSON.stringify(value))] };
}

/** The Open Inference Protocol's error body: `{"error": "..."}`. */
export const errorJson = (status: number, message: string): Reply => jsonReply(status, { error: message });

/** Writes a reply with its Content-Length and `extraHeaders`; a response whose client has gone is skipped. */
/** Sends the reply; returns the body's length in bytes (0 when the connection is gone). */
export function sendReply(response: ServerResponse, reply: Reply, extraHeaders: Readonly<Record<string, string>>): number {
  if (response.destroyed) return 0;
  const length = reply.chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
  response.writeHead(reply.status, { ...reply.headers, ...extraHeaders, 'content-length': String(length) });
  for (const chunk of reply.chunks) response.write(chunk);
  response.end();
  return length;
}
