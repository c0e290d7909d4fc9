// The pool's Ray driver process (python -m pyudf.ray_driver): its control channel, its events, and its end.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { InvalidOptionError, PythonEnvError, type PyUdfError, RayUnavailableError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { ENV_ERROR_PREFIX, EXIT_ENV } from '../protocol/wire.js';
import type { RayActorOptions } from './options.js';

/** The driver's exit status when the cluster cannot be reached, or was lost (python/pyudf/ray_driver.py). */
export const EXIT_UNAVAILABLE = 4;
const STDERR_TAIL_LINES = 30;

/** The first line the driver reads (protocol.md §9.3); it carries the pool's secrets, so never argv. */
export interface DriverConfig {
  readonly address: string | null;
  readonly namespace: string | null;
  readonly num_cpus: number | null;
  readonly actor_options: RayActorOptions;
  /** Environment variables for the actors (Ray's runtime_env env_vars). */
  readonly env: Readonly<Record<string, string>>;
  readonly package_dir: string;
  readonly token: string;
  readonly server_key: string;
  readonly public_key: string;
  readonly secret_key: string;
}

/** What the driver reports once it joined (or started) the cluster. */
export interface ClusterInfo {
  /** The cluster's GCS address. */
  readonly address: string;
  /** The address Ray reports for this machine. */
  readonly nodeIp: string;
  /** True for a Ray the driver started itself. */
  readonly local: boolean;
  /** That Ray's processes (empty when joining a cluster): the pool makes sure they end. */
  readonly pids: readonly number[];
  readonly cpus: number;
  readonly nodes: number;
  readonly ray: string;
}

/** Where an actor runs. */
export interface Placement {
  readonly pid: number;
  readonly nodeId: string;
  readonly nodeIp: string;
  readonly actorId: string;
}

/** How an actor ended: `clean` after SHUTDOWN, else the exception Ray raised for it (`type`, `cause`). */
export interface ActorEnd {
  readonly clean: boolean;
  readonly type: string;
  readonly cause: string;
}

/** The bundles of one registration (python/pyudf/ray_files.py `RayFiles`), passed on in the REGISTER spec. */
export type RayFiles = Readonly<Record<string, unknown>>;

/** What the driver bundles and puts in the object store for one registration. */
export interface StageRequest {
  readonly module: string | null;
  readonly package_module: string | null;
  readonly artifacts: Readonly<Record<string, string>>;
  readonly conf: Readonly<Record<string, string>>;
}

export interface DriverListener {
  placed(id: string, placement: Placement): void;
  exited(id: string, end: ActorEnd): void;
}

interface Staging {
  readonly resolve: (files: RayFiles) => void;
  readonly reject: (error: Error) => void;
}

export class RayDriver {
  readonly connected: Promise<ClusterInfo>;
  /** Resolves once the process ended, with the error that describes it for work that needed it. */
  readonly exited: Promise<PyUdfError>;
  private readonly child: ChildProcess;
  private readonly tail: string[] = [];
  private readonly stagings = new Map<number, Staging>();
  private nextStage = 1;
  private info: ClusterInfo | undefined;
  private lostMessage: string | undefined;
  private unavailableMessage: string | undefined;
  private ended = false;
  private listener: DriverListener | undefined;

  constructor(
    private readonly python: string,
    env: Readonly<Record<string, string>>,
    private readonly config: DriverConfig,
    private readonly logger: Logger,
  ) {
    this.child = spawn(python, ['-u', '-m', 'pyudf.ray_driver'], { env, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    this.child.stdin?.on('error', () => undefined); // a driver that died: its exit says why
    this.child.stdin?.write(`${JSON.stringify(config)}\n`);
    let connected!: (info: ClusterInfo) => void;
    this.connected = new Promise((resolve) => { connected = resolve; });
    const events = this.child.stdio[3] as Readable | null;
    const drained = Promise.all([
      this.lines(this.child.stdout, (line) => this.logger(line, { level: 'info', source: 'ray', stream: 'stdout' })),
      this.lines(this.child.stderr, (line) => {
        this.tail.push(line);
        if (this.tail.length > STDERR_TAIL_LINES) this.tail.shift();
        this.logger(line, { level: 'info', source: 'ray', stream: 'stderr' });
      }),
      this.lines(events, (line) => this.onEvent(line, connected)),
    ]);
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: NodeJS.ErrnoException }>((resolve) => {
      this.child.once('error', (error: NodeJS.ErrnoException) => resolve({ code: null, signal: null, error }));
      this.child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    this.exited = Promise.all([exit, drained]).then(([{ code, signal, error }]) => {
      this.ended = true;
      const failure = this.failure(code, signal, error);
      for (const staging of this.stagings.values()) staging.reject(failure);
      this.stagings.clear();
      return failure;
    });
    // Not connected before it ended: the pool's start (or a restart) fails with why.
    this.connected = Promise.race([this.connected, this.exited.then((failure) => Promise.reject(failure))]);
    this.connected.catch(() => undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Where the actors' placements and ends go (set before the first launch). */
  listen(listener: DriverListener): void {
    this.listener = listener;
  }

  get alive(): boolean {
    return !this.ended;
  }

  get cluster(): ClusterInfo | undefined {
    return this.info;
  }

  launch(id: string, endpoint: string): void {
    this.command({ op: 'launch', id, endpoint });
  }

  kill(id: string): void {
    this.command({ op: 'kill', id });
  }

  /** Bundles a registration's files into the object store; resolves with what the REGISTER spec names. */
  stage(request: StageRequest): Promise<RayFiles> {
    if (this.ended) return this.exited.then((failure) => Promise.reject(failure));
    const seq = this.nextStage++;
    return new Promise<RayFiles>((resolve, reject) => {
      this.stagings.set(seq, { resolve, reject });
      this.command({ op: 'stage', seq, ...request });
    });
  }

  /** Drops a registration's bundles from the object store once no other registration uses them. */
  release(hashes: readonly string[]): void {
    if (hashes.length) this.command({ op: 'release', hashes });
  }

  /** Whether the driver and its pipes keep Node's event loop alive. */
  keepAlive(keep: boolean): void {
    for (const handle of [this.child, this.child.stdin, this.child.stdout, this.child.stderr, this.child.stdio[3]]) {
      const refable = handle as { ref?: () => void; unref?: () => void } | null;
      if (keep) refable?.ref?.();
      else refable?.unref?.();
    }
  }

  /**
   * Ends the driver: it kills its actors and stops a Ray it started. SIGTERM, then SIGKILL, after
   * `graceMs` each; then any process of that Ray still there is killed too.
   */
  async close(graceMs: number): Promise<void> {
    if (!this.ended) {
      this.command({ op: 'shutdown' });
      this.child.stdin?.end();
      if (!(await this.exitsWithin(graceMs))) {
        this.child.kill('SIGTERM');
        if (!(await this.exitsWithin(graceMs))) this.child.kill('SIGKILL');
      }
      await this.exited;
    }
    for (const pid of this.info?.pids ?? []) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already, as it should be
      }
    }
  }

  private async exitsWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms); });
    try {
      return await Promise.race([this.exited.then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private command(message: Record<string, unknown>): void {
    if (this.ended || !this.child.stdin?.writable) return;
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  private onEvent(line: string, connected: (info: ClusterInfo) => void): void {
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.logger(`the Ray driver sent an unreadable event: ${line}`, { level: 'error', source: 'pool' });
      return;
    }
    const id = String(event['id'] ?? '');
    switch (event['event']) {
      case 'connected':
        this.info = {
          address: String(event['address'] ?? ''), nodeIp: String(event['node_ip'] ?? ''), local: event['local'] === true,
          pids: Array.isArray(event['pids']) ? event['pids'].filter((pid): pid is number => Number.isInteger(pid)) : [],
          cpus: Number(event['cpus'] ?? 0), nodes: Number(event['nodes'] ?? 0), ray: String(event['ray'] ?? ''),
        };
        connected(this.info);
        return;
      case 'unavailable':
        this.unavailableMessage = String(event['message'] ?? '');
        return;
      case 'lost':
        this.lostMessage = String(event['message'] ?? '');
        this.logger(`lost the Ray cluster: ${this.lostMessage}`, { level: 'error', source: 'pool' });
        return;
      case 'placed':
        this.listener?.placed(id, {
          pid: Number(event['pid']), nodeId: String(event['node_id'] ?? ''), nodeIp: String(event['node_ip'] ?? ''), actorId: String(event['actor_id'] ?? ''),
        });
        return;
      case 'exited':
        this.listener?.exited(id, { clean: event['clean'] === true, type: String(event['type'] ?? ''), cause: String(event['cause'] ?? '') });
        return;
      case 'staged': {
        const seq = Number(event['seq']);
        const staging = this.stagings.get(seq);
        this.stagings.delete(seq);
        if (!staging) return;
        if (typeof event['error'] === 'string') {
          // A saved model's file travels as conf.path: name the option the user gave.
          const what = String(event['what'] ?? 'module');
          const option = what === 'conf.path' ? 'model' : what;
          staging.reject(new InvalidOptionError(option, `cannot be sent to the Ray cluster: ${event['error']}`));
        } else {
          staging.resolve((event['files'] ?? {}) as RayFiles);
        }
        return;
      }
      default:
        this.logger(`the Ray driver sent an unknown event: ${line}`, { level: 'warn', source: 'pool' });
    }
  }

  /** What the driver's end means for the work that needed it. */
  private failure(code: number | null, signal: NodeJS.Signals | null, error: NodeJS.ErrnoException | undefined): PyUdfError {
    const address = this.config.address;
    if (error) {
      return new PythonEnvError({
        python: this.python, problem: `cannot run the Python interpreter for the Ray driver (${error.code ?? error.message})`,
        fix: 'install Python 3.9 or newer, or point the "python" option or $PYUDF_PYTHON at an interpreter', cause: error,
      });
    }
    const envLine = code === EXIT_ENV ? [...this.tail].reverse().find((line) => line.startsWith(ENV_ERROR_PREFIX)) : undefined;
    if (envLine) {
      return new PythonEnvError({
        python: this.python, problem: `the Ray driver cannot import ${envLine.slice(ENV_ERROR_PREFIX.length)}`,
        fix: `${this.python} -m pip install "ray[client]" (the same Ray version as the cluster's)`,
      });
    }
    if (this.unavailableMessage !== undefined || this.lostMessage !== undefined) {
      return new RayUnavailableError({ address, problem: this.lostMessage ?? this.unavailableMessage ?? '' });
    }
    const how = signal ? `was killed by ${signal}` : `exited with code ${code ?? 'unknown'}`;
    const tail = this.tail.length ? `; its last stderr lines:\n${this.tail.join('\n')}` : '';
    return new RayUnavailableError({ address, problem: `the pool's Ray driver ${how}${tail}` });
  }

  private lines(source: Readable | null | undefined, take: (line: string) => void): Promise<void> {
    if (!source) return Promise.resolve();
    const lines = createInterface({ input: source, crlfDelay: Infinity });
    lines.on('line', take);
    return new Promise((resolve) => lines.once('close', resolve));
  }
}
