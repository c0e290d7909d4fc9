// Where output bytes go: stdout, or a temporary file renamed over the target only once it is complete.
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
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

export function openSink(file: string): ByteSink {
  if (file === STDIO) return sinkFor(process.stdout, async () => undefined, async () => undefined);
  const target = path.resolve(file);
  const temporary = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.partial`);
  const stream = createWriteStream(temporary, { highWaterMark: 1 << 20 });
  return sinkFor(stream, async () => {
    await new Promise<void>((resolve, reject) => {
      stream.once('error', reject);
      stream.end(resolve);
    });
    await rename(temporary, target);
  }, async () => {
    stream.destroy();
    await rm(temporary, { force: true });
  });
}

function sinkFor(stream: Writable, finish: () => Promise<void>, discard: () => Promise<void>): ByteSink {
  let failure: Error | undefined;
  stream.on('error', (error) => { failure = error; });
  return {
    stream,
    async write(chunk) {
      if (failure) throw failure;
      if (!stream.write(chunk)) await drained(stream);
      if (failure) throw failure;
    },
    async commit() {
      if (failure) throw failure;
      await finish();
    },
    discard,
  };
}

/** Resolves on 'drain', or on 'close' (a failed stream is destroyed, and never drains). */
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
