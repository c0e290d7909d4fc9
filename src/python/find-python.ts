// Chooses the Python interpreter: option `python` → $PYUDF_PYTHON → the nearest .venv (from the current directory, then the module's) → python3.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

export interface PythonChoice {
  readonly python: string;
  /** Where the choice came from, for error messages. */
  readonly source: 'option' | 'PYUDF_PYTHON' | '.venv' | 'PATH';
}

export interface PythonSearch {
  /** Default process.cwd(). */
  readonly cwd?: string;
  /** Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Where the user's UDF module is, when known (the CLI): searched after the current directory. */
  readonly moduleDir?: string;
}

export function findPython(option: string | undefined, search: PythonSearch = {}): PythonChoice {
  if (option) return { python: option, source: 'option' };
  const { cwd = process.cwd(), env = process.env, moduleDir } = search;
  const fromEnv = env['PYUDF_PYTHON'];
  if (fromEnv) return { python: fromEnv, source: 'PYUDF_PYTHON' };
  for (const start of moduleDir === undefined ? [cwd] : [cwd, moduleDir]) {
    const venv = nearestVenvPython(path.resolve(cwd, start));
    if (venv) return { python: venv, source: '.venv' };
  }
  return { python: 'python3', source: 'PATH' };
}

/**
 * The interpreter of the `.venv` in `dir` or the closest directory above it, as `python -m venv .venv` lays
 * it out. A `.venv` that another user could have put there (in /tmp, say) is passed over: see trusted().
 */
export function nearestVenvPython(dir: string): string | undefined {
  for (let at = dir; ; at = path.dirname(at)) {
    const bin = process.platform === 'win32' ? path.join(at, '.venv', 'Scripts') : path.join(at, '.venv', 'bin');
    const python = path.join(bin, process.platform === 'win32' ? 'python.exe' : 'python');
    if (existsSync(python) && trusted(path.join(at, '.venv')) && trusted(bin)) return python;
    if (path.dirname(at) === at) return undefined;
  }
}

/** Owned by this user or root, and writable by no one else: what pyudf will run an interpreter from. */
function trusted(dir: string): boolean {
  const uid = process.getuid?.();
  if (uid === undefined) return true; // Windows: no owners to compare
  try {
    const stat = statSync(dir);
    return (stat.uid === uid || stat.uid === 0) && (stat.mode & 0o022) === 0;
  } catch {
    return false;
  }
}
