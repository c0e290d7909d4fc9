// Large bodies through files in /dev/shm instead of the socket (protocol.md §3.7): the pool writes a
// CALL's column buffers straight into a file that the worker maps, and reads the worker's result file
// into one Buffer. This skips two socket copies, and it spares V8 the external memory that ZeroMQ's
// received frames carry, whose accounting made V8 run a full garbage collection on almost every
// large result.
import {
  closeSync, constants, fstatSync, openSync, readdirSync, readSync, rmSync, statSync, unlinkSync, writevSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';

/** Where the files go: a tmpfs on Linux. Elsewhere (no /dev/shm) bodies stay on the socket. */
export const SHARED_MEMORY_ROOT = '/dev/shm';
/** Bodies at least this large go through a file unless the pool says otherwise. */
export const DEFAULT_SHARED_MEMORY_MIN_BYTES = 1 << 20;
const DIR_PREFIX = 'pyudf-';
/** writev takes at most this many buffers at once (IOV_MAX on Linux). */
const MAX_IOVECS = 1024;

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
      return new SharedMemoryFiles(await mkdtemp(path.join(root, `${DIR_PREFIX}${process.pid}-`)), minBytes);
    } catch {
      return undefined;
    }
  }

  /** Writes the frames, in order, into a new file `name`; returns its path. Throws (ENOSPC, …) if it cannot. */
  write(name: string, frames: readonly Uint8Array[]): string {
    const file = path.join(this.dir, name);
    const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    let written = false;
    try {
      for (let i = 0; i < frames.length; i += MAX_IOVECS) writeAll(fd, frames.slice(i, i + MAX_IOVECS));
      written = true;
    } finally {
      closeSync(fd);
      if (!written) rmSync(file, { force: true });
    }
    return file;
  }

  /** The path a peer named, if it is a file of this directory; undefined otherwise. */
  resolve(frame: Uint8Array | undefined): string | undefined {
    if (!frame) return undefined;
    const file = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('utf8');
    return path.dirname(file) === this.dir && !path.basename(file).startsWith('.') ? file : undefined;
  }

  /** Reads a whole file into one Buffer and deletes it. */
  take(file: string): Buffer {
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
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

  /** Deletes a file if it is still there (a body its reader never took). */
  discard(file: string): void {
    rmSync(file, { force: true });
  }

  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

function writeAll(fd: number, frames: readonly Uint8Array[]): void {
  let pending = frames.filter((f) => f.byteLength > 0);
  while (pending.length) {
    let written = writevSync(fd, pending);
    // A regular file takes everything at once; loop anyway on a short write.
    while (pending.length && written >= pending[0]!.byteLength) written -= pending.shift()!.byteLength;
    if (pending.length && written > 0) pending[0] = pending[0]!.subarray(written);
  }
}

/** Removes `pyudf-<pid>-*` directories of this user whose pool process no longer exists. */
function removeAbandoned(root: string): void {
  const uid = process.getuid?.();
  for (const name of readdirSync(root)) {
    const pid = /^pyudf-(\d+)-/.exec(name)?.[1];
    if (!pid || Number(pid) === process.pid || isRunning(Number(pid))) continue;
    const dir = path.join(root, name);
    try {
      if (uid !== undefined && statSync(dir).uid !== uid) continue;
      rmSync(dir, { recursive: true, force: true });
    } catch { /* another pool removed it first */ }
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
