// Loads a model repository's versions onto a pool, swaps in new ones without dropping a request, and polls for changes.
import path from 'node:path';
import { existsSync } from 'node:fs';
import { InvalidOptionError, PoolClosedError, ServerClosedError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import type { BackendStats } from '../../backend/backend.js';
import type { Pool } from '../../pool/pool.js';
import { RequestError, describeError } from '../http-errors.js';
import type { ServableUdf } from '../servable-udf.js';
import { type IndexEntry, type ServedModels, compareVersions } from '../served-models.js';
import { CONFIG_FILE, MODEL_NAME, fingerprint, listModels, listVersions, versionSource } from './scan.js';
import { ModelLoadError, firstLine } from './load-error.js';
import { missingExplainer } from './missing.js';
import { readModelConfig, registerOptions } from './model-config.js';
import { DEFAULT_VERSION_POLICY, type VersionPolicy, keepCount, selectVersions } from './version-policy.js';

export interface RepositoryOptions {
  /** The repository directory: `<path>/<model>/<version>/`, each version a model.py or a saved model, config.json beside the versions. */
  readonly path: string;
  /** Which versions load, unless a model's config.json says otherwise. Default `{ latest: { num_versions: 1 } }`. */
  readonly versionPolicy?: VersionPolicy;
  /**
   * Looks for new, changed and removed versions and models every this many ms and loads or unloads them
   * (a version is loaded once two polls see its files unchanged). Default 0: only at start and on a
   * load request.
   */
  readonly pollMs?: number;
  /** The models to load at start. Default: every model in the repository. */
  readonly models?: readonly string[];
}

/** What the repository does to the server as versions come and go. */
export interface RepositoryHooks {
  readonly pool: () => Promise<Pool<BackendStats>>;
  readonly models: ServedModels;
  readonly logger: Logger;
  /** A version became READY (the server starts its metrics). */
  readonly published: (model: string, version: string, udf: ServableUdf) => void;
  /** A version was retired (drained), just before its UDF closes. */
  readonly retired: (model: string, version: string, udf: ServableUdf) => void;
}

/** A version whose load failed: not retried by the poller until its files change. */
interface Failed {
  readonly fingerprint: string;
}

export class ModelRepository {
  readonly root: string;
  private readonly policy: VersionPolicy;
  private readonly operations = new Map<string, Promise<unknown>>();
  /** Models a client unloaded: the poller leaves them alone until they are loaded again. */
  private readonly unloaded = new Set<string>();
  private readonly failed = new Map<string, Failed>();
  /** Each unloaded version's fingerprint at the last poll (a version loads once two polls agree). */
  private readonly seen = new Map<string, string>();
  /** The last error the poller met per model, logged once rather than at every poll. */
  private readonly pollErrors = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private closing = false;

  constructor(private readonly options: RepositoryOptions, private readonly hooks: RepositoryHooks) {
    if (typeof options?.path !== 'string' || options.path === '') throw new InvalidOptionError('repository.path', 'must be the path of a model repository directory');
    this.root = path.resolve(options.path);
    if (!existsSync(this.root)) throw new InvalidOptionError('repository.path', `no such directory: ${this.root}`);
    this.policy = options.versionPolicy ?? DEFAULT_VERSION_POLICY;
    hooks.models.explainMissing(missingExplainer(this.root, this.policy, hooks.models));
  }

  /** Loads the models to serve at start; rejects with the first failure (each is logged) once every model was tried. */
  async loadAll(): Promise<void> {
    const names = this.options.models ?? listModels(this.root);
    const outcomes = await Promise.allSettled(names.map((name) => this.loadModel(name)));
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    // listen() rejects with what went wrong (a PythonError, say), not the load endpoint's 400.
    if (failure) throw failure.reason instanceof ModelLoadError ? failure.reason.cause : failure.reason;
  }

  /**
   * Loads the versions the policy picks that are not loaded yet, makes them READY (unversioned requests move
   * to the highest), then drains and unloads the versions no longer wanted. A version that fails leaves
   * the ones serving in place; the first failure is thrown after that, as a RequestError: 404 for a model
   * the repository does not hold, 503 while the server closes, else a ModelLoadError (400).
   */
  load(name: string): Promise<void> {
    return this.loadModel(name).catch((error: unknown) => {
      if (error instanceof RequestError || error instanceof PoolClosedError) throw error;
      throw new ModelLoadError(`loading model "${name}" failed: ${firstLine(error)}`, error);
    });
  }

  /** Drains and unloads every version of a model; the poller leaves it alone until it is loaded again. */
  unload(name: string): Promise<void> {
    if (!MODEL_NAME.test(name)) return Promise.reject(new RequestError(400, `"${name}" is not a model name (letters, digits, _ . -)`));
    if (!this.hooks.models.has(name) && !existsSync(this.modelDir(name))) {
      return Promise.reject(new RequestError(404, `no model named "${name}" in the repository ${this.root}`));
    }
    this.unloaded.add(name);
    return this.serially(name, async () => {
      for (const { version } of this.hooks.models.versions(name)) await this.retire(name, version);
    });
  }

  /** The repository index: every served version, and models on disk that are not loaded (state UNAVAILABLE, reason "unloaded"). */
  index(): IndexEntry[] {
    const served = this.hooks.models.index();
    const onDisk = existsSync(this.root) ? listModels(this.root) : [];
    const idle = onDisk.filter((name) => !this.hooks.models.has(name)).map((name) => ({ name, version: '', state: 'UNAVAILABLE' as const, reason: 'unloaded' }));
    return [...served, ...idle].sort((a, b) => a.name.localeCompare(b.name) || compareVersions(a.version, b.version));
  }

  /** Starts the poller (when `pollMs` is set). */
  watch(): void {
    const every = this.options.pollMs ?? 0;
    if (every <= 0 || this.timer) return;
    this.timer = setInterval(() => { this.polling ??= this.poll().finally(() => { this.polling = undefined; }); }, every);
    this.timer.unref();
  }

  /** Stops polling, lets running loads finish, then retires every version (waiting for their requests). */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.timer);
    await this.polling;
    await Promise.allSettled([...this.operations.values()]);
    await Promise.allSettled(this.hooks.models.names().map((name) => this.serially(name, async () => {
      for (const { version } of this.hooks.models.versions(name)) await this.retire(name, version);
    })));
  }

  private modelDir(name: string): string {
    return path.join(this.root, name);
  }

  private loadModel(name: string): Promise<void> {
    this.unloaded.delete(name);
    return this.serially(name, () => this.sync(name, true));
  }

  /** Runs one operation on a model after the ones before it, so loads, unloads and polls never interleave. */
  private serially<T>(name: string, operation: () => Promise<T>): Promise<T> {
    const previous = this.operations.get(name) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(operation);
    const settled = next.catch(() => undefined);
    this.operations.set(name, settled);
    void settled.then(() => { if (this.operations.get(name) === settled) this.operations.delete(name); });
    return next;
  }

  private async sync(name: string, explicit: boolean): Promise<void> {
    if (!MODEL_NAME.test(name)) throw new RequestError(400, `"${name}" is not a model name (letters, digits, _ . -)`);
    const dir = this.modelDir(name);
    if (!existsSync(dir)) {
      if (!explicit) {
        for (const { version } of this.hooks.models.versions(name)) await this.retire(name, version);
        return;
      }
      throw new RequestError(404, `no model named "${name}" in the repository ${this.root}`);
    }
    const config = readModelConfig(path.join(dir, CONFIG_FILE));
    const policy = config.versionPolicy ?? this.policy;
    const wanted = selectVersions(policy, listVersions(dir));
    if (wanted.length === 0 && explicit) throw new RequestError(400, `model "${name}" has no version directories (${dir}/1/, ${dir}/2/, …) that its version policy ${JSON.stringify(policy)} selects`);
    const failures: ModelLoadError[] = [];
    for (const version of wanted) {
      const state = this.hooks.models.versions(name).find((v) => v.version === version)?.state;
      if (state === 'READY') continue;
      const versionDir = path.join(dir, version);
      const print = fingerprint(versionDir);
      const key = `${name}/${version}`;
      // The poller retries a failed version only once its files change, and loads a new one once they stop changing.
      if (!explicit && (this.failed.get(key)?.fingerprint === print || this.seen.get(key) !== print)) {
        this.seen.set(key, print);
        continue;
      }
      this.seen.delete(key);
      try {
        await this.loadVersion(name, version, config, versionDir);
        this.failed.delete(key);
      } catch (error) {
        if (this.closing) throw error;
        const reason = firstLine(error);
        failures.push(new ModelLoadError(`loading model "${name}" version ${version} failed: ${reason}`, error));
        this.failed.set(key, { fingerprint: print });
        this.hooks.models.failed(name, version, reason);
        this.hooks.logger(`loading model "${name}" version ${version} failed: ${describeError(error)}`, { level: 'error', source: 'server' });
      }
    }
    await this.retireUnwanted(name, wanted, keepCount(policy));
    if (failures.length > 0) throw failures[0];
  }

  private async loadVersion(name: string, version: string, config: ReturnType<typeof readModelConfig>, versionDir: string): Promise<void> {
    if (this.closing) throw new ServerClosedError('the server is shutting down');
    this.hooks.models.loading(name, version);
    const source = versionSource(versionDir, config.model);
    const pool = await this.hooks.pool();
    const udf = await pool.register(registerOptions(config, source, `${name}/${version}`, path.join(this.modelDir(name), CONFIG_FILE)));
    if (this.closing) {
      await udf.close();
      throw new ServerClosedError('the server is shutting down');
    }
    this.hooks.models.publish(name, version, udf);
    this.hooks.published(name, version, udf);
    this.hooks.logger(`model "${name}" version ${version} is ready`, { level: 'info', source: 'server' });
  }

  /**
   * Retires READY versions the policy no longer wants, once one it wants is READY (so a failed new version
   * leaves the old serving); with `latest: N`, older READY versions fill in for wanted ones that failed.
   * Failed versions the policy no longer wants are forgotten.
   */
  private async retireUnwanted(name: string, wanted: readonly string[], keep: number | undefined): Promise<void> {
    const versions = this.hooks.models.versions(name);
    const ready = versions.filter((v) => v.state === 'READY').map((v) => v.version);
    const kept = new Set(ready.filter((v) => wanted.includes(v)));
    if (kept.size === 0) {
      for (const v of ready) kept.add(v);
    } else if (keep !== undefined) {
      for (const v of [...ready].sort(compareVersions).reverse()) if (kept.size < keep) kept.add(v);
    }
    for (const { version, state } of versions) {
      if (state !== 'READY' && !wanted.includes(version)) this.hooks.models.forget(name, version);
    }
    for (const version of ready) if (!kept.has(version)) await this.retire(name, version);
  }

  /** Drains a version, closes its UDF, then forgets it (it is listed UNLOADING until then). */
  private async retire(name: string, version: string): Promise<void> {
    const udf = await this.hooks.models.retire(name, version);
    try {
      if (!udf) return;
      this.hooks.retired(name, version, udf);
      await udf.close();
      this.hooks.logger(`model "${name}" version ${version} unloaded`, { level: 'info', source: 'server' });
    } finally {
      this.hooks.models.forget(name, version);
    }
  }

  private async poll(): Promise<void> {
    if (this.closing) return;
    let names: string[];
    try {
      names = [...new Set([...listModels(this.root), ...this.hooks.models.names()])];
    } catch (error) {
      this.hooks.logger(`reading the repository ${this.root} failed: ${describeError(error)}`, { level: 'error', source: 'server' });
      return;
    }
    await Promise.allSettled(names.filter((name) => !this.unloaded.has(name) && (this.options.models?.includes(name) ?? true))
      .map((name) => this.serially(name, () => this.sync(name, false)).then(
        () => { this.pollErrors.delete(name); },
        (error: unknown) => {
          // A load the server's close cut short is no failure.
          if (this.closing) return;
          const text = describeError(error);
          // Version load failures are logged where they happen; a bad config.json is logged here, once.
          if (this.pollErrors.get(name) !== text && !(error instanceof ModelLoadError)) {
            this.hooks.logger(`model "${name}": ${text}`, { level: 'error', source: 'server' });
          }
          this.pollErrors.set(name, text);
        },
      )));
  }
}
