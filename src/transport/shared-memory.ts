// Large results through files in /dev/shm instead of the socket (protocol.md §3.7): the worker writes
// the result stream into a file and the pool reads it into one Buffer. Received from ZeroMQ instead,
// 5 MB results made V8 run a full garbage collection on almost every call.
import { closeSync, fstatSync, openSync, readSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { ownPrefix, removeAbandoned } from './abandoned.js';

/** Where the files go: a tmpfs on Linux. Elsewhere (no /dev/shm) results stay on the socket. */
export const SHARED_MEMORY_ROOT = '/dev/shm';
/** Results at least this large come through a file unless the pool says otherwise. */
export const DEFAULT_SHARED_MEMORY_MIN_BYTES = 1 << 20;

export class SharedMemoryFiles {
  private constructor(readonly dir: string, readonly minBytes: number) {}

  /**
   * A fresh private directory (mode 0700) under /dev/shm, or undefined where there is none. Directories
   * left by pools whose process is gone (killed before close() could remove them) are removed first:
   * tmpfs files hold memory until someone deletes them.
   */
  static async create(minBytes: number, root = SHARED_MEMORY_ROOT): Promise<SharedMemoryFiles | undefined> {
    try {
      if (!statSync(root).isDirectory()) return undefined;
      removeAbandoned(root);
      return new SharedMemoryFiles(await mkdtemp(path.join(root, ownPrefix())), minBytes);
    } catch {
      return undefined;
    }
  }

  /** The path a peer named, if it is a file of this directory; undefined otherwise. */
  resolve(frame: Uint8Array | undefined): string | undefined {
    if (!frame) return undefined;
    const file = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('utf8');
    return path.dirname(file) === this.dir && !path.basename(file).startsWith('.') ? file : undefined;
  }

  /** Reads a whole file of at most `maxBytes` into one Buffer and deletes it. */
  take(file: string, maxBytes: number): Buffer {
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size > maxBytes) throw new Error(`${file} holds ${size} bytes, over the ${maxBytes} a result may be`);
      // allocUnsafeSlow: memory of its own (not the shared pool), which the Arrow vectors will view.
      const buffer = Buffer.allocUnsafeSlow(size);
      for (let done = 0; done < size;) {
        const n = readSync(fd, buffer, done, size - done, done);
        if (n === 0) throw new Error(`${file} ended after ${done} of ${size} bytes`);
        done += n;
      }
      return buffer;
    } finally {
      closeSync(fd);
      unlinkSync(file);
    }
  }

  /** Deletes the result file of request `requestId` (named `r<id>`, protocol.md §3.7) if there is one. */
  discardResultOf(requestId: number): void {
    this.discard(path.join(this.dir, `r${requestId}`));
  }

  /** Deletes a file if it is still there (a result nobody will read). */
  discard(file: string): void {
    rmSync(file, { force: true });
  }

  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
