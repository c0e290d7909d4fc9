// What a model repository holds on disk: `<repo>/<model>/<version>/` with a model.py or a saved model, and config.json.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { InvalidOptionError } from '../../errors.js';
import { SAVED_MODEL_EXTENSIONS } from '../../udf/register-options.js';

/** A version directory's name: a positive integer, as in Triton and TF Serving. */
const VERSION = /^[1-9]\d{0,15}$/;
/** A model directory's name, as it appears in URLs. */
export const MODEL_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;
/** config.json sits beside the versions, as Triton's config.pbtxt does. */
export const CONFIG_FILE = 'config.json';

/** The model directories of a repository, by name (hidden ones and names unfit for URLs are left out). */
export function listModels(repository: string): string[] {
  return readdirSync(repository, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && MODEL_NAME.test(entry.name))
    .map((entry) => entry.name)
    .sort();
}

/** The version directories of a model. */
export function listVersions(modelDir: string): string[] {
  if (!existsSync(modelDir)) return [];
  return readdirSync(modelDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && VERSION.test(entry.name))
    .map((entry) => entry.name);
}

/**
 * What a version directory serves: `model` from config.json when set, else its model.py, else the one saved
 * model in it (the directory itself when it is a SavedModel). Throws InvalidOptionError when there is none
 * or several.
 */
export function versionSource(versionDir: string, configured: string | undefined): { module: string } | { model: string } {
  if (configured !== undefined) {
    const target = path.join(versionDir, configured);
    if (!existsSync(target)) throw new InvalidOptionError('model', `config.json names "${configured}", which ${versionDir} does not hold`);
    return configured.endsWith('.py') ? { module: target } : { model: target };
  }
  const modulePath = path.join(versionDir, 'model.py');
  if (existsSync(modulePath)) return { module: modulePath };
  if (existsSync(path.join(versionDir, 'saved_model.pb'))) return { model: versionDir };
  const found = readdirSync(versionDir, { withFileTypes: true }).filter((entry) => entry.isDirectory()
    ? existsSync(path.join(versionDir, entry.name, 'saved_model.pb'))
    : SAVED_MODEL_EXTENSIONS.includes(path.extname(entry.name).toLowerCase()));
  if (found.length === 1) return { model: path.join(versionDir, found[0]!.name) };
  if (found.length === 0) {
    throw new InvalidOptionError('model', `${versionDir} holds no model.py and no saved model (${SAVED_MODEL_EXTENSIONS.join(' ')} or a SavedModel directory)`);
  }
  throw new InvalidOptionError('model', `${versionDir} holds several saved models (${found.map((e) => e.name).join(', ')}); name one as "model" in config.json`);
}

/** What Python writes into a version directory when it loads it: no change to the version. */
const BYTECODE_CACHE = '__pycache__';

/**
 * A cheap summary of a directory's files (names, sizes, modification times, two levels deep): a version is
 * loaded by the watcher only once two polls see the same summary, so a copy still in progress is not.
 * Python's bytecode cache is left out: loading a version writes it, and a version whose load failed would
 * otherwise look changed, and be loaded (and fail) again.
 */
export function fingerprint(dir: string, depth = 2): string {
  const parts: string[] = [];
  const walk = (at: string, level: number): void => {
    let entries;
    try {
      entries = readdirSync(at, { withFileTypes: true });
    } catch {
      parts.push(`${at}:unreadable`);
      return;
    }
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name === BYTECODE_CACHE) continue;
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) {
        parts.push(`${full}/`);
        if (level < depth) walk(full, level + 1);
        continue;
      }
      try {
        const stat = statSync(full);
        parts.push(`${full}:${stat.size}:${stat.mtimeMs}`);
      } catch {
        parts.push(`${full}:gone`);
      }
    }
  };
  walk(dir, 0);
  return parts.join('\n');
}
