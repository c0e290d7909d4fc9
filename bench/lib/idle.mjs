// Benchmarks on a shared machine: wait until other processes leave the CPUs alone, and say how busy
// they were, so a number measured next to someone's test run is not taken at face value.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

function cpuTimes() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3] + (fields[4] ?? 0); // idle + iowait
  return { idle, total: fields.reduce((a, b) => a + b, 0) };
}

/** Fraction of all CPUs busy over `ms` (0..1). */
export async function busyFraction(ms = 500) {
  const a = cpuTimes();
  await sleep(ms);
  const b = cpuTimes();
  return b.total === a.total ? 0 : 1 - (b.idle - a.idle) / (b.total - a.total);
}

/** Waits (up to `maxWaitMs`) until the CPUs are under `threshold` busy; resolves with the last reading. */
export async function waitForIdle({ threshold = 0.15, maxWaitMs = 60_000, onWait } = {}) {
  const start = performance.now();
  let busy = await busyFraction();
  while (busy > threshold && performance.now() - start < maxWaitMs) {
    onWait?.(busy);
    busy = await busyFraction(1000);
  }
  return busy;
}
