// Checks the <module.py> argument early, so a typo fails in milliseconds with the path it looked at.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { InvalidOptionError } from '../errors.js';

export function requireModule(module: string): string {
  const resolved = path.resolve(module);
  if (!existsSync(resolved)) {
    throw new InvalidOptionError('<module.py>', `no such file: ${resolved} (paths are relative to ${process.cwd()})`);
  }
  if (!statSync(resolved).isFile()) throw new InvalidOptionError('<module.py>', `${resolved} is not a file`);
  return resolved;
}
