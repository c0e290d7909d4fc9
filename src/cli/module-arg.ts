// Checks the <module.py> argument early, so a typo fails in milliseconds with the path it looked at.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { InvalidOptionError } from '../errors.js';

/** What a UDF module may be: a Python source file. */
const ACCEPTED = 'pyudf loads a UDF from a Python source file (.py)';

/** The module's absolute path; a usage error (exit 2) unless it is an existing .py file. */
export function requireModule(module: string): string {
  const resolved = path.resolve(module);
  if (!existsSync(resolved)) {
    throw new InvalidOptionError('<module.py>', `no such file: ${resolved} (paths are relative to ${process.cwd()})`);
  }
  const info = statSync(resolved);
  if (info.isDirectory()) throw new InvalidOptionError('<module.py>', `${resolved} is a directory; ${ACCEPTED}`);
  if (!info.isFile()) throw new InvalidOptionError('<module.py>', `${resolved} is not a regular file; ${ACCEPTED}`);
  if (path.extname(resolved) !== '.py') {
    const kind = path.extname(resolved) ? `a ${path.extname(resolved)} file` : 'a file without an extension';
    throw new InvalidOptionError('<module.py>', `${resolved} is ${kind}; ${ACCEPTED}`);
  }
  return resolved;
}
