// The Ray backend's options (`createPool({ backend: { type: 'ray', … } })`), their defaults, and their validation.
import { InvalidOptionError } from '../errors.js';
import { nonNegativeInteger, positiveInteger } from '../validate.js';

/**
 * Where Ray places each actor, as Ray's own `scheduling_strategy`: `'DEFAULT'` (pack by load), `'SPREAD'`
 * (across nodes), or on one node (`soft`: elsewhere when that node cannot take it).
 */
export type RaySchedulingStrategy = 'DEFAULT' | 'SPREAD' | { readonly node_id: string; readonly soft?: boolean };

/** What each actor asks Ray for; the keys and their meaning are Ray's (`ray.remote(...).options()`). */
export interface RayActorOptions {
  /** CPUs reserved per actor. Ray's default: 1. */
  readonly num_cpus?: number;
  /** GPUs reserved per actor (fractions share one). Default 0. */
  readonly num_gpus?: number;
  /** Bytes of memory reserved per actor (for placement; Ray does not cap the process by it). */
  readonly memory?: number;
  /** Custom resources per actor, e.g. `{ inference_slot: 1 }`. */
  readonly resources?: Readonly<Record<string, number>>;
  /** Default `'DEFAULT'`. */
  readonly scheduling_strategy?: RaySchedulingStrategy;
  /** Ray's accelerator type constraint, e.g. `'A100'`. */
  readonly accelerator_type?: string;
  /**
   * Ray's runtime environment for the actors (pip packages, conda, container, env_vars, …). The pool
   * adds the pyudf package (`py_modules`) and its `env`.
   */
  readonly runtime_env?: Readonly<Record<string, unknown>>;
}

export interface RayBackendOptions {
  readonly type: 'ray';
  /**
   * The cluster to join: `host:port` of its head (GCS), `ray://host:10001` (Ray Client), or `'auto'`.
   * Default: none, and the pool starts a Ray of its own on this machine, on loopback, and stops it at
   * close().
   */
  readonly address?: string;
  /**
   * Actors, each one worker. Default: the pool's `workers` when set, else as many as the cluster's CPUs
   * hold at `actorOptions.num_cpus` each (at least 1).
   */
  readonly actors?: number;
  readonly actorOptions?: RayActorOptions;
  /**
   * The address of this machine on which the pool's socket listens for actors (tcp, CURVE-encrypted).
   * Default: 127.0.0.1 for a Ray of the pool's own, else the address Ray reports for this machine. `0.0.0.0`
   * listens on every interface; actors are then sent to the address Ray reports.
   */
  readonly bindHost?: string;
  /** The Ray namespace of the pool's actors. Default: an anonymous one. */
  readonly namespace?: string;
  /** CPUs of the Ray the pool starts itself (no `address`). Default: this machine's. */
  readonly numCpus?: number;
}

const ACTOR_OPTION_KEYS = ['num_cpus', 'num_gpus', 'memory', 'resources', 'scheduling_strategy', 'accelerator_type', 'runtime_env'] as const;
const RAY_OPTION_KEYS = ['type', 'address', 'actors', 'actorOptions', 'bindHost', 'namespace', 'numCpus'] as const;

/** Validates the Ray backend's options, naming the one at fault (`backend.actorOptions.num_cpus`, …). */
export function validateRayOptions(options: RayBackendOptions): void {
  const unknown = Object.keys(options).filter((key) => !(RAY_OPTION_KEYS as readonly string[]).includes(key));
  if (unknown.length) throw new InvalidOptionError(`backend.${unknown[0]}`, `is not an option of the Ray backend (it takes ${RAY_OPTION_KEYS.join(', ')})`);
  const { address, actors, actorOptions = {}, bindHost, namespace, numCpus } = options;
  if (address !== undefined && (typeof address !== 'string' || address.trim() === '')) {
    throw new InvalidOptionError('backend.address', 'must be "host:port", "ray://host:port" or "auto"; leave it out to start a Ray of the pool\'s own');
  }
  if (actors !== undefined) positiveInteger('backend.actors', actors);
  if (numCpus !== undefined) {
    positiveInteger('backend.numCpus', numCpus);
    if (address !== undefined) throw new InvalidOptionError('backend.numCpus', 'applies only to a Ray the pool starts itself (no "address")');
  }
  for (const [name, value] of [['bindHost', bindHost], ['namespace', namespace]] as const) {
    if (value !== undefined && (typeof value !== 'string' || value === '')) throw new InvalidOptionError(`backend.${name}`, 'must be a non-empty string');
  }
  if (typeof actorOptions !== 'object' || actorOptions === null) throw new InvalidOptionError('backend.actorOptions', 'must be an object');
  for (const key of Object.keys(actorOptions)) {
    if (!(ACTOR_OPTION_KEYS as readonly string[]).includes(key)) {
      throw new InvalidOptionError(`backend.actorOptions.${key}`, `is not supported (the pool takes ${ACTOR_OPTION_KEYS.join(', ')}; it restarts actors itself)`);
    }
  }
  for (const key of ['num_cpus', 'num_gpus'] as const) {
    const value = actorOptions[key];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
      throw new InvalidOptionError(`backend.actorOptions.${key}`, `must be a non-negative number, got ${String(value)}`);
    }
  }
  if (actorOptions.memory !== undefined) nonNegativeInteger('backend.actorOptions.memory', actorOptions.memory);
  for (const [name, amount] of Object.entries(actorOptions.resources ?? {})) {
    if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) {
      throw new InvalidOptionError(`backend.actorOptions.resources.${name}`, `must be a non-negative number, got ${String(amount)}`);
    }
  }
  const strategy = actorOptions.scheduling_strategy;
  if (strategy !== undefined && strategy !== 'DEFAULT' && strategy !== 'SPREAD'
    && (typeof strategy !== 'object' || strategy === null || typeof strategy.node_id !== 'string' || strategy.node_id === '')) {
    throw new InvalidOptionError('backend.actorOptions.scheduling_strategy', `must be 'DEFAULT', 'SPREAD' or { node_id, soft? }, got ${JSON.stringify(strategy)}`);
  }
  const runtimeEnv = actorOptions.runtime_env;
  if (runtimeEnv !== undefined && (typeof runtimeEnv !== 'object' || runtimeEnv === null || Array.isArray(runtimeEnv))) {
    throw new InvalidOptionError('backend.actorOptions.runtime_env', 'must be an object, as Ray takes it');
  }
}

/** How many actors a cluster with `cpus` CPUs holds when each asks for `perActor`. */
export function defaultActors(cpus: number, perActor: number | undefined): number {
  const each = perActor ?? 1;
  return each > 0 ? Math.max(1, Math.floor(cpus / each)) : Math.max(1, Math.floor(cpus));
}
