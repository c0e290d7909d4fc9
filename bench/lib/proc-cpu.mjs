// CPU time read from /proc (user + system, in ms): of a whole process, of each of its threads, or of one stat line.
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 1000 / 100; // USER_HZ

/** A /proc/<pid>[/task/<tid>]/stat line's command name and CPU ms. */
export function parseStat(stat) {
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return { comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), ms: (Number(fields[11]) + Number(fields[12])) * TICK_MS };
}

/** CPU ms of each thread of a process, by thread name ("main" for the main thread; same names add up). */
export function threadCpuMs(pid) {
  const byName = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const { comm, ms } = parseStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
      const name = Number(tid) === pid ? 'main' : comm;
      byName[name] = (byName[name] ?? 0) + ms;
    } catch { /* the thread ended */ }
  }
  return byName;
}

/** CPU ms of a whole process, all its threads. */
export const processCpuMs = (pid) => parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).ms;
