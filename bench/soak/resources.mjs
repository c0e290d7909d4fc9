// What the soak watches for leaks: this process's RSS, heap, open fds and threads, the same (less heap)
// for each current Python worker from /proc/<pid>, and the result files left in the pool's /dev/shm dir.
import { readFileSync, readdirSync, statSync } from 'node:fs';

/** `Threads` and `VmRSS` (bytes) of /proc/<pid>/status; undefined when the process is gone. */
function procStatus(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (name) => Number(text.match(new RegExp(`^${name}:\\s+(\\d+)`, 'm'))?.[1] ?? NaN);
  return { rss: field('VmRSS') * 1024, threads: field('Threads') };
}

/** Open file descriptors of a process (the listing's own descriptor included, alike in every sample). */
function fdCount(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/** Files (and their bytes) in a directory; zeros when it is missing. */
export function dirUsage(dir) {
  const none = { files: 0, spares: 0, bytes: 0 };
  if (!dir) return none;
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return none;
  }
  let bytes = 0;
  for (const name of names) {
    try { bytes += statSync(`${dir}/${name}`).size; } catch { /* removed meanwhile */ }
  }
  // Spares (protocol.md §3.7) are read files handed back to their worker, at most one per live worker.
  const spares = names.filter((name) => name.startsWith('spare-')).length;
  return { files: names.length - spares, spares, bytes };
}

/** One sample: `t` seconds since the load started (negative before), Node's figures, each worker's, and their sum. */
export function sample(pool, t, label) {
  const memory = process.memoryUsage();
  const self = procStatus('self');
  const stats = pool.stats();
  const workers = [];
  for (const w of stats.workers) {
    if (w.pid === undefined) {
      workers.push({ id: w.id, pid: null, state: w.state });
      continue;
    }
    const status = procStatus(w.pid);
    const fds = fdCount(w.pid);
    workers.push({ id: w.id, pid: w.pid, state: w.state, rss: status?.rss ?? null, threads: status?.threads ?? null, fds: fds ?? null });
  }
  const measured = workers.filter((w) => Number.isFinite(w.rss) && Number.isFinite(w.fds));
  const sum = (key) => measured.reduce((s, w) => s + w[key], 0);
  const max = (key) => (measured.length ? Math.max(...measured.map((w) => w[key])) : null);
  return {
    t: Math.round(t * 10) / 10,
    ...(label ? { label } : {}),
    node: { rss: memory.rss, heapUsed: memory.heapUsed, fds: fdCount('self'), threads: self.threads },
    workers,
    workersTotal: {
      count: measured.length,
      rss: sum('rss'),
      fds: sum('fds'),
      threads: sum('threads'),
      meanRss: measured.length ? sum('rss') / measured.length : null,
      maxFds: max('fds'),
      maxThreads: max('threads'),
    },
    shm: dirUsage(stats.sharedMemory?.dir ?? null),
    pool: { queued: stats.queued, inFlight: stats.inFlight, readyWorkers: stats.readyWorkers, restarts: stats.restarts },
  };
}

/** The figures the leak rules and the min/max columns look at, by name, from one sample. */
export const FIGURES = {
  'node.rss': (s) => s.node.rss,
  'node.heapUsed': (s) => s.node.heapUsed,
  'node.fds': (s) => s.node.fds,
  'node.threads': (s) => s.node.threads,
  'workers.rss': (s) => s.workersTotal.rss,
  'workers.meanRss': (s) => s.workersTotal.meanRss,
  'workers.fds': (s) => s.workersTotal.fds,
  'workers.maxFds': (s) => s.workersTotal.maxFds,
  'workers.threads': (s) => s.workersTotal.threads,
  'workers.maxThreads': (s) => s.workersTotal.maxThreads,
  'shm.files': (s) => s.shm.files,
  'shm.spares': (s) => s.shm.spares,
};

/** Min and max of every figure over samples. */
export function extremes(samples) {
  const out = {};
  for (const [name, get] of Object.entries(FIGURES)) {
    const values = samples.map(get).filter((v) => Number.isFinite(v));
    out[name] = values.length ? { min: Math.min(...values), max: Math.max(...values) } : null;
  }
  return out;
}
