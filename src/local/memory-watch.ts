// Samples a worker's resident memory and reports when it passes the pool's memoryLimitMb.
import { readFileSync } from 'node:fs';

/** How often a worker's memory is read: a spike shorter than this can pass unseen. */
export const MEMORY_SAMPLE_MS = 100;

/** A limit in MiB, and whose it is (the pool's, or a UDF's), for the report. */
export interface MemoryLimit {
  readonly mb: number;
  readonly owner: string;
}

/** Resident memory of a process in MiB, from /proc (Linux); undefined where it cannot be read. */
export function residentMb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Calls `exceeded` (once) with the resident MiB when the process uses more than `limitMb`; returns a
 * function that stops watching. The timer does not keep Node running.
 */
export function watchMemory(pid: number, limit: () => MemoryLimit | undefined, exceeded: (usedMb: number, limit: MemoryLimit) => void): () => void {
  const timer = setInterval(() => {
    const current = limit();
    if (!current) return;
    const used = residentMb(pid);
    if (used === undefined || used <= current.mb) return;
    clearInterval(timer);
    exceeded(used, current);
  }, MEMORY_SAMPLE_MS);
  timer.unref();
  return () => clearInterval(timer);
}
