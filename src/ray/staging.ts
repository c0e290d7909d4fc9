// What of a UDF travels to Ray nodes besides the REGISTER message: its module's directory, its artifacts, a saved model.
import path from 'node:path';
import type { UdfSpec } from '../backend/backend.js';
import { InvalidOptionError } from '../errors.js';
import { PYTHON_PACKAGE_ROOT } from '../python/package-paths.js';
import type { StageRequest } from './driver.js';

const PACKAGE_DIR = path.join(PYTHON_PACKAGE_ROOT, 'pyudf');
/** The saved-model loader (pyudf.builtins): its `conf.path` is the model, which travels like an artifact. */
const SAVED_MODEL_MODULE = path.join('builtins', 'udf.py');

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The files a registration needs on a node, or undefined for none (inline code without artifacts).
 * Artifacts are `conf.artifacts` (what the register option `artifacts` sets): each an absolute path.
 */
export function stageRequest(spec: UdfSpec): StageRequest | undefined {
  let module: string | null = null;
  let packageModule: string | null = null;
  const conf: Record<string, string> = {};
  if (spec.module !== null) {
    const relative = path.relative(PACKAGE_DIR, spec.module);
    if (!relative.startsWith('..') && !path.isAbsolute(relative)) {
      // A module of the pyudf package: every actor has the package already.
      packageModule = relative.split(path.sep).join('/');
      if (relative === SAVED_MODEL_MODULE && isObject(spec.conf) && typeof spec.conf['path'] === 'string') conf['path'] = spec.conf['path'];
    } else {
      module = spec.module;
    }
  }
  const artifacts: Record<string, string> = {};
  const given = isObject(spec.conf) ? spec.conf['artifacts'] : undefined;
  if (isObject(given)) {
    for (const [name, value] of Object.entries(given)) {
      if (typeof value !== 'string' || !path.isAbsolute(value)) {
        throw new InvalidOptionError(`artifacts.${name}`, `must be the path of a file or directory (give it with register({ artifacts })), got ${JSON.stringify(value)}`);
      }
      artifacts[name] = value;
    }
  }
  if (module === null && packageModule === null && Object.keys(artifacts).length === 0 && Object.keys(conf).length === 0) return undefined;
  return { module, package_module: packageModule, artifacts, conf };
}

/** The content hashes a registration's staged files hold (released again when it is unregistered). */
export function stagedHashes(files: Readonly<Record<string, unknown>>): string[] {
  const hashes: string[] = [];
  const take = (descriptor: unknown): void => {
    if (isObject(descriptor) && typeof descriptor['hash'] === 'string') hashes.push(descriptor['hash']);
  };
  take(files['module']);
  for (const key of ['artifacts', 'conf']) {
    const entries = files[key];
    if (isObject(entries)) for (const descriptor of Object.values(entries)) take(descriptor);
  }
  return hashes;
}
