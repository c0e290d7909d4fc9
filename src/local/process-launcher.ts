// Starts local worker processes on the pool's socket and routes each incoming message to its worker's handle.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log/logger.js';
import type { Launcher } from '../scheduler/executor.js';
import type { Heartbeat, RouterTransport } from '../transport/router.js';
import type { SharedMemoryFiles } from '../transport/shared-memory.js';
import { ReplyReader } from './reply-reader.js';
import { type WorkerLink, WorkerConnection } from './worker-connection.js';

export interface ProcessLauncherOptions {
  readonly python: string;
  /** Interpreter arguments that start a worker speaking protocol.md. Default `-m pyudf.worker`. */
  readonly entry?: readonly string[];
  readonly env: Record<string, string>;
  readonly logger: Logger;
  readonly stderrTailLines: number;
  /** A worker whose resident memory passes this many MiB is killed; null: no limit. */
  readonly memoryLimitMb: number | null;
  /** The socket's heartbeats: a worker that misses them is killed as frozen. null: no heartbeats. */
  readonly heartbeat: Heartbeat | null;
}

export class ProcessLauncher implements Launcher<WorkerConnection> {
  readonly replies: ReplyReader;
  private readonly connections = new Map<string, WorkerConnection>();
  private readonly link: WorkerLink;
  private readonly receiving: Promise<void>;
  private nextRequest = 1;
  private referenced = true;
  private readonly prober: NodeJS.Timeout | undefined;
  /** Proves a peer on the socket is a worker this pool started (protocol.md §4). */
  private readonly token = randomBytes(32).toString('hex');

  constructor(
    private readonly transport: RouterTransport,
    private readonly files: SharedMemoryFiles | undefined,
    private readonly options: ProcessLauncherOptions,
  ) {
    this.replies = new ReplyReader(files);
    this.link = {
      send: (workerId, frames) => transport.send(workerId, frames),
      nextRequestId: () => {
        const id = this.nextRequest;
        this.nextRequest = id === 0xffff_ffff ? 1 : id + 1;
        return id;
      },
      replies: this.replies,
      logger: options.logger,
      expectReplies: () => transport.expectReplies(),
    };
    const expecting = (): boolean => [...this.connections.values()].some((connection) => connection.expectsMessages);
    this.receiving = transport.receiveLoop((id, frames) => this.connections.get(id)?.onMessage(frames), expecting).catch((error: unknown) => {
      // The socket failed under us: nothing more can arrive, so end the workers rather than hang.
      options.logger(`the pool's socket failed: ${String(error)}`, { level: 'error', source: 'pool' });
      for (const connection of this.connections.values()) connection.kill();
    });
    // A worker that misses its heartbeats is dropped by the socket, which makes a send to it fail: busy
    // workers are probed once a heartbeat interval (an idle one is found at its next request).
    if (options.heartbeat) {
      this.prober = setInterval(() => {
        for (const connection of this.connections.values()) if (connection.expectsMessages) connection.probe();
      }, options.heartbeat.intervalMs);
      this.prober.unref();
    }
  }

  /** Whether the pool's workers and socket keep Node's event loop alive while no request awaits an answer. */
  keepAlive(keep: boolean): void {
    this.referenced = keep;
    this.transport.keepAlive(keep);
    for (const connection of this.connections.values()) connection.keepAlive(keep);
  }

  launch(id: string): WorkerConnection {
    const connection = new WorkerConnection(this.link, {
      id,
      python: this.options.python,
      ...(this.options.entry ? { entry: this.options.entry } : {}),
      endpoint: this.transport.endpoint,
      env: this.options.env,
      logger: this.options.logger,
      stderrTailLines: this.options.stderrTailLines,
      memoryLimitMb: this.options.memoryLimitMb,
      livenessTimeoutMs: this.options.heartbeat?.timeoutMs ?? null,
      token: this.token,
      sharedMemory: this.files ? { dir: this.files.dir, minBytes: this.files.minBytes } : undefined,
    });
    this.connections.set(id, connection);
    if (!this.referenced) connection.keepAlive(false);
    // It owes READY: an unref'd socket parked while the pool was idle must receive again.
    this.transport.expectReplies();
    // A late message from a worker already replaced is dropped.
    void connection.exited.then(() => this.connections.delete(id));
    return connection;
  }

  /** Closes the socket and removes its directory and the shared-memory files (after the workers stopped). */
  async close(): Promise<void> {
    clearInterval(this.prober);
    await this.transport.close();
    await this.receiving;
    await this.files?.close();
  }
}
