// Why a repository's model or version is not served, for the 404 a request for it gets: unloaded, not loaded yet, or left out by its version policy.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { MissingExplainer, ServedModels } from '../served-models.js';
import { readModelConfig } from './model-config.js';
import { CONFIG_FILE, MODEL_NAME, listVersions } from './scan.js';
import { type VersionPolicy, selectVersions } from './version-policy.js';

/** Explains models and versions the repository at `root` holds on disk but `models` does not serve; undefined for the rest. */
export function missingExplainer(root: string, serverPolicy: VersionPolicy, models: ServedModels): MissingExplainer {
  return (model, version) => {
    const dir = path.join(root, model);
    if (!MODEL_NAME.test(model) || !existsSync(dir)) return undefined;
    const load = `POST /v2/repository/models/${model}/load loads it`;
    if (!models.has(model)) return `model "${model}" is not loaded (${load})`;
    const onDisk = listVersions(dir);
    if (version === undefined || !onDisk.includes(version)) return undefined;
    let policy: VersionPolicy;
    try {
      policy = readModelConfig(path.join(dir, CONFIG_FILE)).versionPolicy ?? serverPolicy;
    } catch {
      return `model "${model}" version ${version} is not loaded`;
    }
    if (selectVersions(policy, onDisk).includes(version)) return `model "${model}" version ${version} is not loaded yet (${load})`;
    return `model "${model}" version ${version} is not loaded: its version policy ${JSON.stringify(policy)} leaves it out`;
  };
}
