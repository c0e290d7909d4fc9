// One Python worker child process: spawn, log forwarding, exit detection and kill escalation.
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import type { Logger, LogStream } from '../log/logger.js';

export interface WorkerExit {
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  /** Set when the process could not be started at all (e.g. ENOENT for a missing interpreter). */
  readonly spawnError: NodeJS.ErrnoException | undefined;
}

/** What the interpreter runs: the worker's entry point (protocol.md §4), before its own arguments. */
export const DEFAULT_WORKER_ENTRY: readonly string[] = ['-m', 'pyudf.worker'];

export interface WorkerProcessOptions {
  readonly id: string;
  readonly python: string;
  /** Interpreter arguments that start the worker. Default DEFAULT_WORKER_ENTRY. */
  readonly entry?: readonly string[];
  readonly endpoint: string;
  readonly env: Record<string, string>;
  readonly logger: Logger;
  readonly stderrTailLines: number;
  /** Where large results go as files, and from what size (protocol.md §3.7); undefined: socket only. */
  readonly sharedMemory: { readonly dir: string; readonly minBytes: number } | undefined;
  /** The pool's secret, written as the first line of the worker's stdin (never in argv or env, which other processes can read). */
  readonly token?: string;
}

export class WorkerProcess {
  readonly id: string;
  readonly exited: Promise<WorkerExit>;
  private readonly child: ReturnType<typeof spawnWorker>;
  private readonly tail: string[] = [];
  private exitInfo: WorkerExit | undefined;

  constructor(private readonly options: WorkerProcessOptions) {
    this.id = options.id;
    this.child = spawnWorker(options);
    if (options.token !== undefined) this.child.stdin?.write(`${options.token}\n`, () => undefined);
    const drained = Promise.all([this.forwardLines('stdout'), this.forwardLines('stderr')]);
    // Wait for the pipes to drain too, so a crash report holds the very last stderr lines.
    this.exited = Promise.all([this.child, drained]).then(([result]) => {
      const failure = result as { code?: string; cause?: unknown };
      const spawnError = failure.code === 'ENOENT' || failure.code === 'EACCES'
        ? (failure.cause as NodeJS.ErrnoException | undefined) ?? (failure as unknown as NodeJS.ErrnoException)
        : undefined;
      this.exitInfo = { exitCode: result.exitCode, signal: result.signal, spawnError };
      return this.exitInfo;
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get isAlive(): boolean {
    return this.exitInfo === undefined;
  }

  /** The last stderr lines, kept for crash reports (faulthandler writes the Python stack there). */
  get stderrTail(): readonly string[] {
    return [...this.tail];
  }

  /** Whether the process and its pipes keep Node's event loop alive (they still work either way). */
  keepAlive(keep: boolean): void {
    for (const handle of [this.child, this.child.stdin, this.child.stdout, this.child.stderr]) {
      const refable = handle as { ref?: () => void; unref?: () => void } | null;
      if (keep) refable?.ref?.();
      else refable?.unref?.();
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.isAlive) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL if the process is still there after `graceMs`. */
  async terminate(graceMs: number): Promise<WorkerExit> {
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves with the exit if it happens within `ms`, else undefined. */
  async waitForExit(ms: number): Promise<WorkerExit | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), ms); });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private forwardLines(stream: LogStream): Promise<void> {
    const source = this.child[stream];
    if (!source) return Promise.resolve();
    // Always reading keeps the pipe drained, so a chatty worker never blocks on a full pipe.
    const lines = createInterface({ input: source, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (stream === 'stderr') {
        this.tail.push(line);
        if (this.tail.length > this.options.stderrTailLines) this.tail.shift();
      }
      this.options.logger(line, { level: 'info', source: this.id, stream });
    });
    return new Promise((resolve) => lines.once('close', resolve));
  }
}

function spawnWorker(options: WorkerProcessOptions) {
  const entry = options.entry ?? DEFAULT_WORKER_ENTRY;
  const args = ['-u', '-X', 'faulthandler', ...entry, '--endpoint', options.endpoint, '--id', options.id];
  if (options.sharedMemory) args.push('--shm-dir', options.sharedMemory.dir, '--shm-min-bytes', String(options.sharedMemory.minBytes));
  if (options.token !== undefined) args.push('--token-stdin');
  return execa(options.python, args, {
    env: options.env,
    extendEnv: false,
    // The worker gets only the pool's secret on stdin; otherwise the pipe tells it, by closing, that we are gone.
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    cleanup: true,
    forceKillAfterDelay: false,
  });
}
