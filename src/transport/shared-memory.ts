// Large results through files in /dev/shm instead of the socket (protocol.md §3.7): the worker writes
// the result stream into a file and the pool reads it into one Buffer. Received from ZeroMQ instead,
// 5 MB results made V8 run a full garbage collection on almost every call.
import { closeSync, constants, fstatSync, openSync, readSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { ownPrefix, removeAbandoned } from './abandoned.js';

/** Where the files go: a tmpfs on Linux. Elsewhere (no /dev/shm) results stay on the socket. */
export const SHARED_MEMORY_ROOT = '/dev/shm';
/** Results at least this large come through a file unless the pool says otherwise. */
export const DEFAULT_SHARED_MEMORY_MIN_BYTES = 1 << 20;
/**
 * Largest read file handed back to its worker as a spare (§3.7). A spare holds its memory for the worker's
 * life, so one huge result must not pin gigabytes of tmpfs; larger files are deleted as before.
 */
export const MAX_SPARE_BYTES = 64 << 20;

/** The name of worker `workerId`'s spare file: a read result file it may overwrite (protocol.md §3.7). */
export const spareName = (workerId: string): string => `spare-${workerId}`;

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

  /**
   * Reads a whole file of at most `maxBytes` into one Buffer. Then the file becomes worker `workerId`'s
   * spare, which it overwrites for a later result instead of creating a file (pages already allocated:
   * half the worker's cost of writing 5 MB, and no unlink here), or, when larger than MAX_SPARE_BYTES or
   * unreadable, is deleted.
   */
  take(file: string, maxBytes: number, workerId: string): Buffer {
    let fd: number | undefined;
    let keep = false;
    try {
      // The worker names the file: opened without blocking (a FIFO would wait for a writer forever) and
      // without following links.
      fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
      const stat = fstatSync(fd);
      if (!stat.isFile()) throw new Error(`${file} is not a regular file`);
      const size = stat.size;
      if (size > maxBytes) throw new Error(`${file} holds ${size} bytes, over the ${maxBytes} a result may be`);
      // allocUnsafeSlow: memory of its own (not the shared pool), which the Arrow vectors will view.
      const buffer = Buffer.allocUnsafeSlow(size);
      for (let done = 0; done < size;) {
        const n = readSync(fd, buffer, done, size - done, done);
        if (n === 0) throw new Error(`${file} ended after ${done} of ${size} bytes`);
        done += n;
      }
      keep = size <= MAX_SPARE_BYTES;
      return buffer;
    } finally {
      if (fd !== undefined) closeSync(fd);
      this.release(file, keep ? workerId : undefined);
    }
  }

  /** Renames a read file to the worker's spare (replacing an older one) or deletes it. */
  private release(file: string, workerId: string | undefined): void {
    if (workerId !== undefined) {
      try {
        renameSync(file, path.join(this.dir, spareName(workerId)));
        return;
      } catch { /* deleted below */ }
    }
    try {
      unlinkSync(file);
    } catch { /* gone already, or a directory the worker made: the pool's close() removes it */ }
  }

  /** Deletes the spare file of a worker that is gone: nobody would reuse it. */
  discardSpareOf(workerId: string): void {
    this.discard(path.join(this.dir, spareName(workerId)));
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
