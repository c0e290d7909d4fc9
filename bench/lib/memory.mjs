// Resident memory: this process's RSS sampled every 50 ms, and /proc/<pid>/status of the workers.
import { readFileSync, writeFileSync } from 'node:fs';

/** A field of /proc/<pid>/status (VmRSS, VmHWM, …) in bytes. */
export function procStatus(pid, field) {
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Resets a process's peak RSS (VmHWM) to its current RSS, so the peak of what follows can be read. */
export function resetPeak(pid) {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/** Samples process.memoryUsage().rss every `ms`; stop() returns the highest sample. */
export function rssSampler(ms = 50) {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, ms);
  return { stop: () => { clearInterval(timer); return Math.max(peak, process.memoryUsage().rss); } };
}
