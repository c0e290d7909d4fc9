// Chooses the Python interpreter: option `python` → $PYUDF_PYTHON → the nearest .venv (from the current directory, then the module's) → python3.
import { existsSync } from 'node:fs';
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

/** The interpreter of the `.venv` in `dir` or the closest directory above it, as `python -m venv .venv` lays it out. */
export function nearestVenvPython(dir: string): string | undefined {
  for (let at = dir; ; at = path.dirname(at)) {
    const python = process.platform === 'win32'
      ? path.join(at, '.venv', 'Scripts', 'python.exe')
      : path.join(at, '.venv', 'bin', 'python');
    if (existsSync(python)) return python;
    if (path.dirname(at) === at) return undefined;
  }
}
