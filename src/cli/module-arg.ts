// Checks the <module.py> argument early, so a typo fails in milliseconds with the path it looked at.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { InvalidOptionError } from '../errors.js';
import { FORMAT_OF_EXTENSION, type ModelFormat, SAVED_MODEL_EXTENSIONS } from '../udf/register-options.js';

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

/** What `pyudf serve` may serve: a Python source file or a saved model. */
const SERVABLE = `pyudf serves a Python source file (.py) or a saved model (${SAVED_MODEL_EXTENSIONS.join(' ')}, or a SavedModel directory holding saved_model.pb; --format names the format of another name)`;

/** A saved model to serve: its absolute path and its format (given, or told by its name). */
export interface SavedModelArg {
  readonly path: string;
  readonly format: ModelFormat;
}

/**
 * The saved model to serve; a usage error (exit 2) unless it exists and its name (or `--format`) says which
 * built-in loader reads it.
 */
export function requireSavedModel(model: string, format: ModelFormat | undefined): SavedModelArg {
  const resolved = path.resolve(model);
  if (!existsSync(resolved)) {
    throw new InvalidOptionError('[model]', `no such file or directory: ${resolved} (paths are relative to ${process.cwd()})`);
  }
  if (format !== undefined) return { path: resolved, format };
  if (statSync(resolved).isDirectory()) {
    if (existsSync(path.join(resolved, 'saved_model.pb'))) return { path: resolved, format: 'savedmodel' };
    throw new InvalidOptionError('[model]', `${resolved} is a directory without saved_model.pb; ${SERVABLE}`);
  }
  const extension = path.extname(resolved).toLowerCase();
  const detected = Object.hasOwn(FORMAT_OF_EXTENSION, extension) ? FORMAT_OF_EXTENSION[extension] : undefined;
  if (detected === undefined) {
    const kind = extension ? `a ${path.extname(resolved)} file` : 'a file without an extension';
    throw new InvalidOptionError('[model]', `${resolved} is ${kind}; ${SERVABLE}`);
  }
  return { path: resolved, format: detected };
}
