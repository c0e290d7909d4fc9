// Chooses the Python interpreter: option `python` → $PYUDF_PYTHON → ./.venv/bin/python → python3.
import { existsSync } from 'node:fs';
import path from 'node:path';

export interface PythonChoice {
  readonly python: string;
  /** Where the choice came from, for error messages. */
  readonly source: 'option' | 'PYUDF_PYTHON' | '.venv' | 'PATH';
}

export function findPython(option: string | undefined, cwd = process.cwd(), env = process.env): PythonChoice {
  if (option) return { python: option, source: 'option' };
  const fromEnv = env['PYUDF_PYTHON'];
  if (fromEnv) return { python: fromEnv, source: 'PYUDF_PYTHON' };
  const venv = process.platform === 'win32'
    ? path.join(cwd, '.venv', 'Scripts', 'python.exe')
    : path.join(cwd, '.venv', 'bin', 'python');
  if (existsSync(venv)) return { python: venv, source: '.venv' };
  return { python: 'python3', source: 'PATH' };
}
