// Where output bytes go: stdout, or a temporary file renamed over the target only once it is complete.
import { createWriteStream, rmSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { AbortError } from '../errors.js';
import { STDIO } from './format.js';

export interface ByteSink {
  readonly stream: Writable;
  /** Writes `chunk`, waiting when the destination is behind, so output never piles up in memory. */
  write(chunk: Uint8Array | string): Promise<void>;
  /** Flushes; a file is renamed into place only now, so a failed run never leaves a truncated one. */
  commit(): Promise<void>;
  /** Drops a partial file. */
  discard(): Promise<void>;
}

/**
 * Opens the sink for `file` (`-`: stdout). Once `signal` fires, every write and the commit reject with
 * AbortError, a write waiting for a reader that stopped reading included, and a file's stream is closed.
 */
export function openSink(file: string, signal?: AbortSignal): ByteSink {
  if (file === STDIO) return sinkFor(process.stdout, signal, async () => undefined, async () => undefined);
  const target = path.resolve(file);
  const temporary = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.partial`);
  const stream = createWriteStream(temporary, { highWaterMark: 1 << 20 });
  // A process.exit() meanwhile (a second Ctrl-C) runs no finally block: the partial file goes here.
  const removeOnExit = (): void => rmSync(temporary, { force: true });
  process.on('exit', removeOnExit);
  const sink = sinkFor(stream, signal, async (check) => {
    await new Promise<void>((resolve, reject) => {
      stream.once('error', reject);
      stream.end(resolve);
    });
    // Interrupted while the last bytes were flushed: the file is complete, but the run was not.
    check();
    await rename(temporary, target);
    process.off('exit', removeOnExit);
  }, async () => {
    // After 'close': a stream destroyed before its file was opened still creates the file first.
    const closed = stream.closed ? Promise.resolve() : new Promise<void>((resolve) => stream.once('close', () => resolve()));
    stream.destroy();
    await closed;
    await rm(temporary, { force: true });
    process.off('exit', removeOnExit);
  });
  signal?.addEventListener('abort', () => stream.destroy(), { once: true });
  return sink;
}

function sinkFor(
  stream: Writable, signal: AbortSignal | undefined, finish: (check: () => void) => Promise<void>, discard: () => Promise<void>,
): ByteSink {
  let failure: Error | undefined;
  stream.on('error', (error) => { failure ??= error; });
  const check = (): void => {
    if (signal?.aborted) throw new AbortError({ cause: signal.reason });
    if (failure) throw failure;
  };
  return {
    stream,
    async write(chunk) {
      check();
      if (!stream.write(chunk)) await drained(stream, signal);
      check();
    },
    async commit() {
      check();
      await finish(check);
    },
    discard,
  };
}

/** Resolves on 'drain', on 'close' (a failed stream is destroyed, and never drains), or on abort. */
function drained(stream: Writable, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    if (signal?.aborted) done();
    else signal?.addEventListener('abort', done, { once: true });
  });
}
