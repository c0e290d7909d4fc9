// Private directories named after the pool process that made them, and the removal of those whose process is gone.
import { readdirSync, rmSync, statSync } from 'node:fs';

/** `pyudf-<pid>-`: the prefix of this process's private directories (socket, shared-memory files). */
export const ownPrefix = (): string => `pyudf-${process.pid}-`;

/**
 * Removes this user's `pyudf-<pid>-*` directories under `root` whose process no longer exists: a pool
 * killed before close() could not remove them (tmpfs files even hold memory until deleted).
 */
export function removeAbandoned(root: string): void {
  const uid = process.getuid?.();
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = /^pyudf-(\d+)-/.exec(name)?.[1];
    if (!pid || Number(pid) === process.pid || isRunning(Number(pid))) continue;
    const dir = `${root}/${name}`;
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
