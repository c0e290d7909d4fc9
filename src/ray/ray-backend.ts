// The Ray backend: actors on a Ray cluster that join the pool's tcp socket with CURVE, scheduled by the shared Scheduler.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Backend, BackendStats, UdfSpec } from '../backend/backend.js';
import type { BatchRequest, BatchTask } from '../backend/batch-task.js';
import { InvalidOptionError } from '../errors.js';
import { PeerSocket, type WorkerState } from '../local/index.js';
import type { Logger } from '../log/logger.js';
import { MAX_RESULT_BYTES } from '../protocol/wire.js';
import { findPython } from '../python/find-python.js';
import { PYTHON_PACKAGE_ROOT } from '../python/package-paths.js';
import { THREAD_VARIABLES, workerEnv } from '../python/worker-env.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { newCurveKeyPair, RouterTransport } from '../transport/router.js';
import type { RayDriver } from './driver.js';
import { defaultActors, type RayBackendOptions } from './options.js';
import type { RayExecutor } from './ray-executor.js';
import { RayLauncher, type RayLauncherOptions, type Staged } from './ray-launcher.js';
import { stageRequest } from './staging.js';

/** The Ray backend's settings (createPool() validates them and applies the defaults). */
export interface RayBackendSettings {
  readonly ray: RayBackendOptions;
  /** Actors when `ray.actors` is not given; undefined: as many as the cluster's CPUs hold. */
  readonly workers: number | undefined;
  /** The driver's interpreter (the actors run the cluster's). */
  readonly python: string | undefined;
  /** For the driver, and for the actors (Ray's runtime_env env_vars). */
  readonly env: Readonly<Record<string, string>>;
  /** Set on the actors as the numeric libraries' thread variables; null: Ray's own (OMP_NUM_THREADS = num_cpus). */
  readonly threadsPerWorker: number | null;
  readonly maxInFlightPerWorker: number;
  readonly startTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  readonly logger: Logger;
  readonly livenessTimeoutMs: number | null;
}

/** One actor, as `stats()` shows it. */
export interface ActorStats {
  readonly id: string;
  readonly state: WorkerState;
  /** Batches sent to this actor and not answered yet: its load. */
  readonly inFlight: number;
  /** UDFs initialised in this actor, and their ids. */
  readonly udfs: number;
  readonly udfIds: readonly number[];
  /** The actor's process id, on its node; undefined until Ray placed it. */
  readonly pid: number | undefined;
  /** The Ray node the actor runs on (id and address); undefined until Ray placed it. */
  readonly nodeId: string | undefined;
  readonly nodeIp: string | undefined;
  readonly actorId: string | undefined;
}

export interface RayBackendStats extends BackendStats {
  readonly backend: 'ray';
  readonly workers: readonly ActorStats[];
  readonly ray: {
    /** The address the pool joins; null for a Ray of its own. */
    readonly address: string | null;
    /** The cluster's GCS address, as the driver reports it. */
    readonly gcsAddress: string;
    /** True for a Ray the pool started itself (stopped at close()). */
    readonly local: boolean;
    /** That Ray's processes; empty when joining a cluster. */
    readonly pids: readonly number[];
    /** The driver process, and whether it is connected to the cluster now. */
    readonly driverPid: number | undefined;
    readonly connected: boolean;
    /** Where actors connect: the pool's socket (tcp, CURVE). */
    readonly endpoint: string;
  };
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '*']);

/** Starts the driver, binds the socket where the actors can reach it, and starts the actors. */
export async function createRayBackend(settings: RayBackendSettings): Promise<RayBackend> {
  const python = findPython(settings.python).python;
  const { ray, logger, livenessTimeoutMs } = settings;
  const address = ray.address ?? null;
  const serverKey = newCurveKeyPair();
  const clientKey = newCurveKeyPair();
  const actorEnv: Record<string, string> = { ...settings.env };
  if (settings.threadsPerWorker !== null) {
    for (const name of THREAD_VARIABLES) actorEnv[name] ??= String(settings.threadsPerWorker);
  }
  const options: RayLauncherOptions = {
    python,
    env: workerEnv(null, settings.env),
    logger,
    livenessTimeoutMs,
    config: {
      address, namespace: ray.namespace ?? null, num_cpus: ray.numCpus ?? null, actor_options: ray.actorOptions ?? {}, env: actorEnv,
      package_dir: path.join(PYTHON_PACKAGE_ROOT, 'pyudf'), token: randomBytes(32).toString('hex'),
      server_key: serverKey.publicKey, public_key: clientKey.publicKey, secret_key: clientKey.secretKey,
    },
  };
  const driver = RayLauncher.startDriver(options);
  let launcher: RayLauncher | undefined;
  try {
    const cluster = await driver.connected;
    const bindHost = ray.bindHost ?? (cluster.local ? '127.0.0.1' : cluster.nodeIp);
    const heartbeat = livenessTimeoutMs === null ? null : { intervalMs: Math.max(50, Math.min(1_000, Math.floor(livenessTimeoutMs / 4))), timeoutMs: livenessTimeoutMs };
    const transport = await RouterTransport.bind(MAX_RESULT_BYTES, heartbeat, { host: bindHost, serverKey });
    // A wildcard listens everywhere; actors are sent to the address Ray knows this machine by.
    const url = new URL(transport.endpoint);
    const endpoint = WILDCARD_HOSTS.has(url.hostname.replace(/^\[|\]$/g, '')) ? `tcp://${hostPart(cluster.nodeIp)}:${url.port}` : transport.endpoint;
    const socket = new PeerSocket<RayExecutor>(transport, undefined, logger, heartbeat);
    launcher = new RayLauncher(socket, driver, endpoint, options);
    const actors = ray.actors ?? settings.workers ?? defaultActors(cluster.cpus, ray.actorOptions?.num_cpus);
    logger(`joined the Ray cluster at ${cluster.address} (${cluster.nodes} node(s), ${cluster.cpus} CPUs, Ray ${cluster.ray}); starting ${actors} actor(s) that connect to ${endpoint}`, { level: 'info', source: 'pool' });
    const backend = new RayBackend(address, launcher, new Scheduler(launcher, { ...settings, workers: actors }), settings.shutdownTimeoutMs);
    await backend.start();
    return backend;
  } catch (error) {
    if (launcher) await launcher.close(settings.shutdownTimeoutMs);
    else await driver.close(settings.shutdownTimeoutMs);
    throw error;
  }
}

function hostPart(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export class RayBackend implements Backend<RayBackendStats> {
  private closed: Promise<void> | undefined;
  /** Each registration's files in the object store, released when it is unregistered. */
  private readonly staged = new Map<number, Staged>();

  /** @internal use createRayBackend() */
  constructor(
    readonly address: string | null,
    private readonly launcher: RayLauncher,
    private readonly scheduler: Scheduler<RayExecutor>,
    private readonly shutdownTimeoutMs: number,
  ) {}

  /** @internal */
  async start(): Promise<void> {
    try {
      await this.scheduler.start();
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** Puts the UDF's module directory and artifacts into the object store, then registers it on the actors. */
  async register(spec: UdfSpec): Promise<number> {
    if (spec.memoryLimitMb) {
      throw new InvalidOptionError('memoryLimitMb', 'the Ray backend does not watch actor memory; reserve it with backend.actorOptions.memory (Ray kills workers when a node runs out)');
    }
    const request = stageRequest(spec);
    const staged = request ? await this.launcher.stage(request) : undefined;
    try {
      const udfId = await this.scheduler.register(staged ? { ...spec, ray_files: staged.files } as UdfSpec : spec);
      if (staged) this.staged.set(udfId, staged);
      return udfId;
    } catch (error) {
      staged?.release();
      throw error;
    }
  }

  async unregister(udfId: number): Promise<void> {
    await this.scheduler.unregister(udfId);
    this.staged.get(udfId)?.release();
    this.staged.delete(udfId);
  }

  submit(request: BatchRequest): BatchTask {
    return this.scheduler.submit(request);
  }

  cancel(tasks: readonly BatchTask[], reason: Error): void {
    this.scheduler.cancel(tasks, reason);
  }

  isServing(udfId: number): boolean {
    return this.scheduler.isServing(udfId);
  }

  stats(): RayBackendStats {
    const { scheduler } = this;
    const driver: RayDriver = this.launcher.current;
    const cluster = driver.cluster;
    return {
      backend: 'ray',
      queued: scheduler.queued,
      inFlight: scheduler.inFlight,
      readyWorkers: scheduler.readyWorkers,
      restarts: scheduler.restarts,
      workers: scheduler.workers.map((slot) => {
        const where = slot.executor.placement;
        return {
          id: slot.id, state: slot.state, inFlight: slot.running.size, udfs: slot.udfs.size, udfIds: [...slot.udfs],
          pid: where?.pid, nodeId: where?.nodeId, nodeIp: where?.nodeIp, actorId: where?.actorId,
        };
      }),
      ray: {
        address: this.address, gcsAddress: cluster?.address ?? '', local: cluster?.local ?? this.address === null, pids: cluster?.pids ?? [],
        driverPid: driver.pid, connected: driver.alive && cluster !== undefined, endpoint: this.launcher.endpoint,
      },
    };
  }

  keepAlive(keep: boolean): void {
    this.launcher.keepAlive(keep);
  }

  /** Drains queued and running batches, then stops every actor (SHUTDOWN, then ray.kill), the driver, and a Ray the pool started. */
  close(): Promise<void> {
    this.closed ??= this.scheduler.close().then(() => this.launcher.close(this.shutdownTimeoutMs));
    return this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
