// Starts local worker processes on the pool's socket and routes each incoming message to its worker's handle.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log/logger.js';
import type { Launcher } from '../scheduler/executor.js';
import type { RouterTransport } from '../transport/router.js';
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
  /** The socket's heartbeat timeout: a worker that misses it is killed as frozen. null: no heartbeats. */
  readonly livenessTimeoutMs: number | null;
}

/** After a peer's connection ends, the socket drops it from its routes within this time, so probes then see it gone. */
const PROBE_DELAY_MS = 100;

export class ProcessLauncher implements Launcher<WorkerConnection> {
  readonly replies: ReplyReader;
  private readonly connections = new Map<string, WorkerConnection>();
  private readonly link: WorkerLink;
  private readonly receiving: Promise<void>;
  private nextRequest = 1;
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
    };
    this.receiving = transport.receiveLoop((id, frames) => this.connections.get(id)?.onMessage(frames)).catch((error: unknown) => {
      // The socket failed under us: nothing more can arrive, so end the workers rather than hang.
      options.logger(`the pool's socket failed: ${String(error)}`, { level: 'error', source: 'pool' });
      for (const connection of this.connections.values()) connection.kill();
    });
    // Which worker a disconnect was is not said, so every connected worker is probed.
    transport.onDisconnect(() => {
      setTimeout(() => {
        for (const connection of this.connections.values()) connection.probe();
      }, PROBE_DELAY_MS).unref();
    });
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
      livenessTimeoutMs: this.options.livenessTimeoutMs,
      token: this.token,
      sharedMemory: this.files ? { dir: this.files.dir, minBytes: this.files.minBytes } : undefined,
    });
    this.connections.set(id, connection);
    // A late message from a worker already replaced is dropped.
    void connection.exited.then(() => this.connections.delete(id));
    return connection;
  }

  /** Closes the socket and removes its directory and the shared-memory files (after the workers stopped). */
  async close(): Promise<void> {
    await this.transport.close();
    await this.receiving;
    await this.files?.close();
  }
}
