// Starts actors through the pool's Ray driver (restarting the driver when it is gone) and routes its reports to their handles.
import { PoolClosedError, type PyUdfError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { PeerSocket } from '../local/index.js';
import type { Launcher } from '../scheduler/executor.js';
import { type DriverConfig, type RayFiles, RayDriver, type StageRequest } from './driver.js';
import { RayExecutor } from './ray-executor.js';
import { stagedHashes } from './staging.js';

export interface RayLauncherOptions {
  readonly python: string;
  /** The driver's environment. */
  readonly env: Readonly<Record<string, string>>;
  readonly config: DriverConfig;
  readonly logger: Logger;
  /** The heartbeat timeout of the pool's socket, for the report of an actor killed for missing it. */
  readonly livenessTimeoutMs: number | null;
}

/** A registration's files in the object store; `release` lets the driver drop them. */
export interface Staged {
  readonly files: RayFiles;
  release(): void;
}

export class RayLauncher implements Launcher<RayExecutor> {
  private driver: RayDriver;
  private connecting: Promise<RayDriver> | undefined;
  /** Live actors' handles and the driver that launched each. */
  private readonly actors = new Map<string, { readonly executor: RayExecutor; driver: RayDriver | undefined }>();
  /** Registrations' stage requests, sent again to a new driver (equal content gives equal hashes). */
  private readonly stages = new Map<number, StageRequest>();
  private nextStage = 1;
  private referenced = true;
  private closing = false;

  /** `driver`: the first driver, already connected (createRayBackend() needed its cluster's address). */
  constructor(
    private readonly socket: PeerSocket<RayExecutor>,
    driver: RayDriver,
    /** The endpoint actors connect to. */
    readonly endpoint: string,
    private readonly options: RayLauncherOptions,
  ) {
    this.driver = driver;
    this.attach(driver);
  }

  /** Starts a driver process (`connected` says when it joined the cluster). */
  static startDriver(options: RayLauncherOptions): RayDriver {
    return new RayDriver(options.python, options.env, options.config, options.logger);
  }

  /** The current driver: its pid, and the cluster it is connected to. */
  get current(): RayDriver {
    return this.driver;
  }

  launch(id: string): RayExecutor {
    const executor = this.socket.add(new RayExecutor(this.socket.link, {
      id, token: this.options.config.token, livenessTimeoutMs: this.options.livenessTimeoutMs,
    }, { kill: (actorId) => this.kill(actorId) }));
    const entry: { readonly executor: RayExecutor; driver: RayDriver | undefined } = { executor, driver: undefined };
    this.actors.set(id, entry);
    void executor.exited.then(() => this.actors.delete(id));
    this.ready().then((driver) => {
      if (!executor.accepting) return executor.ended({ kind: 'actor', end: { clean: false, type: '', cause: 'killed before it was launched' } });
      entry.driver = driver;
      driver.launch(id, this.endpoint);
    }, (error: PyUdfError) => executor.ended({ kind: 'unavailable', error }));
    return executor;
  }

  /** Puts a registration's files into the object store (and again into a new driver's, should it restart). */
  async stage(request: StageRequest): Promise<Staged> {
    const id = this.nextStage++;
    this.stages.set(id, request);
    try {
      const driver = await this.ready();
      const files = await driver.stage(request);
      return {
        files,
        release: () => {
          this.stages.delete(id);
          if (this.driver.alive) this.driver.release(stagedHashes(files));
        },
      };
    } catch (error) {
      this.stages.delete(id);
      throw error;
    }
  }

  /** Whether the driver keeps Node's event loop alive while the pool is idle. */
  keepAlive(keep: boolean): void {
    this.referenced = keep;
    this.driver.keepAlive(keep);
    this.socket.keepAlive(keep);
  }

  /** Ends the driver (after the actors stopped): it kills what is left and stops a Ray it started; then the socket. */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    // A driver still joining the cluster is ended too: its restart then fails, and so do the launches waiting on it.
    await this.driver.close(graceMs);
    await this.socket.close();
  }

  private kill(id: string): void {
    const entry = this.actors.get(id);
    // Not launched yet: ready() sees the handle is no longer accepting, and ends it instead of launching.
    if (entry?.driver?.alive) entry.driver.kill(id);
  }

  /** The driver, connected; a new one when the last is gone (the cluster was lost, or it crashed). */
  private ready(): Promise<RayDriver> {
    // A restarting driver is ready once it has staged every registration again, not when it joined.
    if (this.connecting) return this.connecting;
    const { driver } = this;
    if (driver.alive) return driver.connected.then(() => driver);
    if (this.closing) return Promise.reject(new PoolClosedError('the pool is closing'));
    this.connecting ??= this.restart().finally(() => { this.connecting = undefined; });
    return this.connecting;
  }

  private async restart(): Promise<RayDriver> {
    const driver = RayLauncher.startDriver(this.options);
    this.driver = driver;
    this.attach(driver);
    if (!this.referenced) driver.keepAlive(false);
    const cluster = await driver.connected;
    this.options.logger(`connected to the Ray cluster at ${cluster.address} again`, { level: 'info', source: 'pool' });
    // The actors' REGISTER specs name bundles by content hash: put them where the new driver's actors find them.
    await Promise.all([...this.stages.values()].map((request) => driver.stage(request).catch((error: unknown) => {
      this.options.logger(`cannot stage a UDF's files again: ${String(error)}`, { level: 'error', source: 'pool' });
    })));
    return driver;
  }

  /**
   * Routes a driver's reports to the actors it launched. When it ends, every actor it launched is gone
   * with it (Ray ends the actors of an owner that is gone).
   */
  private attach(driver: RayDriver): void {
    driver.listen({
      placed: (id, placement) => {
        const entry = this.actors.get(id);
        if (entry?.driver === driver) entry.executor.placed(placement);
      },
      exited: (id, end) => {
        const entry = this.actors.get(id);
        if (entry?.driver === driver) entry.executor.ended({ kind: 'actor', end });
      },
    });
    void driver.exited.then((error) => {
      if (!this.closing) this.options.logger(`the Ray driver ended: ${error.message}`, { level: 'error', source: 'pool' });
      for (const entry of this.actors.values()) if (entry.driver === driver) entry.executor.ended({ kind: 'unavailable', error });
    });
  }
}
