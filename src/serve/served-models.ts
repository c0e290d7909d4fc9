// The models a server answers for, by name and version: which version takes unversioned requests, and leases that let a swap drain the old one.
import { type ModelMetadata, modelMetadata } from './metadata.js';
import { RequestError } from './http-errors.js';
import type { ServableUdf } from './servable-udf.js';

/** A version's state, as Triton's repository index names them. */
export type VersionState = 'LOADING' | 'READY' | 'UNLOADING' | 'UNAVAILABLE';

/** One loaded (or loading) version of a model. */
export interface ServedVersion {
  readonly model: string;
  readonly version: string;
  /** Set once the version is loaded. */
  readonly udf: ServableUdf | undefined;
  readonly state: VersionState;
  /** Why the version is UNAVAILABLE (its load failed), else ''. */
  readonly reason: string;
}

/** A request's hold on a version: the version is not unloaded before every lease on it is released. */
export interface Lease {
  readonly model: string;
  readonly version: string;
  readonly udf: ServableUdf;
  /** The model's metadata as this version declares it. */
  readonly metadata: ModelMetadata;
  release(): void;
}

/** One line of the repository index (`POST /v2/repository/index`). */
export interface IndexEntry {
  readonly name: string;
  readonly version: string;
  readonly state: VersionState;
  readonly reason: string;
}

interface Entry {
  readonly model: string;
  readonly version: string;
  udf: ServableUdf | undefined;
  state: VersionState;
  reason: string;
  metadata: ModelMetadata | undefined;
  leases: number;
  /** Settles once the last lease is released, for every retire() waiting (they may overlap). */
  draining: Promise<void> | undefined;
  drained: (() => void) | undefined;
}

/**
 * Says why a model, or a version, that is not served is missing, when there is more to say than that it does
 * not exist (a repository holds it on disk, unloaded); else undefined.
 */
export type MissingExplainer = (model: string, version: string | undefined) => string | undefined;

/** Versions compare as numbers when both are (Triton's versions are positive integers), else as text. */
export function compareVersions(a: string, b: string): number {
  const numeric = /^\d+$/;
  if (numeric.test(a) && numeric.test(b)) return Number(a) - Number(b) || a.localeCompare(b);
  return a.localeCompare(b);
}

/**
 * The served models. Unversioned requests go to the highest READY version of a model, so making a new
 * version READY switches traffic to it in one step; `retire` then waits for the old version's leases.
 */
export class ServedModels {
  private readonly models = new Map<string, Map<string, Entry>>();
  private whyMissing: MissingExplainer = () => undefined;

  /** `describe` builds a version's metadata (and may log what it leaves out). */
  constructor(private readonly describe: (model: string, udf: ServableUdf) => ModelMetadata = (model, udf) => modelMetadata(model, udf.inputSchema, udf.outputSchema).metadata) {}

  /** Lets the 404s for models and versions not served say why (a model repository explains its unloaded ones). */
  explainMissing(explain: MissingExplainer): void {
    this.whyMissing = explain;
  }

  /** Model names, sorted. */
  names(): string[] {
    return [...this.models.keys()].sort();
  }

  has(model: string): boolean {
    return this.models.has(model);
  }

  /** Every version of every model, for the repository index. */
  index(): IndexEntry[] {
    return this.names().flatMap((name) => this.sortedVersions(name).map(({ version, state, reason }) => ({ name, version, state, reason })));
  }

  /** The versions of a model, lowest first. */
  versions(model: string): ServedVersion[] {
    return this.sortedVersions(model).map(({ model: m, version, udf, state, reason }) => ({ model: m, version, udf, state, reason }));
  }

  /** Marks a version as loading (it takes no requests yet). */
  loading(model: string, version: string): void {
    const entry = this.entry(model, version) ?? this.add(model, version);
    entry.state = 'LOADING';
    entry.reason = '';
  }

  /** Marks a version's load as failed: it stays listed, UNAVAILABLE with the reason, and takes no requests. */
  failed(model: string, version: string, reason: string): void {
    const entry = this.entry(model, version) ?? this.add(model, version);
    if (entry.state === 'READY') return;
    entry.state = 'UNAVAILABLE';
    entry.reason = reason;
  }

  /** Makes a loaded version READY: from now on it takes requests (unversioned ones too, if it is the highest). */
  publish(model: string, version: string, udf: ServableUdf): void {
    const entry = this.entry(model, version) ?? this.add(model, version);
    entry.udf = udf;
    entry.metadata = this.describe(model, udf);
    entry.state = 'READY';
    entry.reason = '';
  }

  /**
   * Stops routing requests to a version, waits until every lease on it is released, and returns its UDF for
   * the caller to close, then `forget` the version: until then it stays listed, UNLOADING, so the index shows
   * a swap as done only once the old UDF is closed. Unversioned requests move to the next highest READY version.
   */
  async retire(model: string, version: string): Promise<ServableUdf | undefined> {
    const entry = this.entry(model, version);
    if (!entry) return undefined;
    entry.state = 'UNLOADING';
    if (entry.leases > 0) await (entry.draining ??= new Promise<void>((resolve) => { entry.drained = resolve; }));
    return entry.udf;
  }

  /** Forgets a version that is not READY (retired, or its load failed) and holds no lease, so it is no longer listed. */
  forget(model: string, version: string): void {
    const entry = this.entry(model, version);
    if (!entry || entry.state === 'READY' || entry.leases > 0) return;
    const versions = this.models.get(model)!;
    versions.delete(version);
    if (versions.size === 0) this.models.delete(model);
  }

  /** True when the version (else the highest READY one) is READY and a worker serves it (none is restarting it). */
  ready(model: string, version?: string): boolean {
    const entry = this.pick(model, version);
    return entry?.state === 'READY' && entry.udf?.ready === true;
  }

  /**
   * The metadata of the version (else the highest READY one, else a version still loading, without
   * tensors); throws RequestError 404 for an unknown model or version.
   */
  metadata(model: string, version?: string): ModelMetadata & { readonly versions: readonly string[] } {
    const entry = this.pick(model, version) ?? this.notFound(model, version);
    const versions = this.sortedVersions(model).filter((e) => e.state === 'READY').map((e) => e.version);
    const metadata = entry.metadata ?? { name: model, platform: 'pyudf' as const, inputs: [], outputs: [] };
    return { ...metadata, versions };
  }

  /**
   * A lease on the version to run a request on: the given one, else the highest READY one. Throws
   * RequestError 404 for an unknown model or version and 503 for one that is not READY.
   */
  acquire(model: string, version?: string): Lease {
    const entry = this.pick(model, version) ?? this.notFound(model, version);
    if (entry.state !== 'READY' || !entry.udf || !entry.metadata) {
      const why = entry.state === 'UNAVAILABLE' ? `failed to load: ${entry.reason}` : entry.state === 'LOADING' ? 'is still loading' : 'is being unloaded';
      throw new RequestError(503, `model "${model}" version ${entry.version} ${why}`);
    }
    entry.leases++;
    let released = false;
    return {
      model, version: entry.version, udf: entry.udf, metadata: entry.metadata,
      release: () => {
        if (released) return;
        released = true;
        if (--entry.leases === 0) entry.drained?.();
      },
    };
  }

  /** Leases not yet released, over every version: requests running. */
  get activeLeases(): number {
    let count = 0;
    for (const versions of this.models.values()) for (const entry of versions.values()) count += entry.leases;
    return count;
  }

  private add(model: string, version: string): Entry {
    const entry: Entry = { model, version, udf: undefined, state: 'LOADING', reason: '', metadata: undefined, leases: 0, draining: undefined, drained: undefined };
    let versions = this.models.get(model);
    if (!versions) this.models.set(model, versions = new Map());
    versions.set(version, entry);
    return entry;
  }

  private entry(model: string, version: string): Entry | undefined {
    return this.models.get(model)?.get(version);
  }

  private sortedVersions(model: string): Entry[] {
    return [...(this.models.get(model)?.values() ?? [])].sort((a, b) => compareVersions(a.version, b.version));
  }

  /** The named version, or for none the highest READY version, else the highest of any state. */
  private pick(model: string, version: string | undefined): Entry | undefined {
    if (version !== undefined) return this.entry(model, version);
    const versions = this.sortedVersions(model);
    return versions.filter((e) => e.state === 'READY').at(-1) ?? versions.at(-1);
  }

  private notFound(model: string, version: string | undefined): never {
    const why = this.whyMissing(model, version);
    if (!this.models.has(model)) {
      const names = this.names();
      throw new RequestError(404, `${why ?? `no model named "${model}"`}; this server serves ${names.length > 0 ? names.map((n) => `"${n}"`).join(', ') : 'no models'}`);
    }
    const versions = this.sortedVersions(model).map((e) => e.version);
    throw new RequestError(404, `${why ?? `model "${model}" has no version "${version}"`}; it has ${versions.join(', ')}`);
  }
}
