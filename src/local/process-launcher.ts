// Starts local worker processes on the pool's socket and routes each incoming message to its worker's handle.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log/logger.js';
import type { Launcher } from '../scheduler/executor.js';
import type { Heartbeat, RouterTransport } from '../transport/router.js';
import type { SharedMemoryFiles } from '../transport/shared-memory.js';
import { PeerSocket } from './peer-socket.js';
import type { ReplyReader } from './reply-reader.js';
import { WorkerConnection } from './worker-connection.js';

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
  private readonly socket: PeerSocket<WorkerConnection>;
  /** Proves a peer on the socket is a worker this pool started (protocol.md §4). */
  private readonly token = randomBytes(32).toString('hex');

  constructor(
    transport: RouterTransport,
    private readonly files: SharedMemoryFiles | undefined,
    private readonly options: ProcessLauncherOptions,
  ) {
    this.socket = new PeerSocket(transport, files, options.logger, options.heartbeat);
  }

  get replies(): ReplyReader {
    return this.socket.replies;
  }

  /** Whether the pool's workers and socket keep Node's event loop alive while no request awaits an answer. */
  keepAlive(keep: boolean): void {
    this.socket.keepAlive(keep);
  }

  launch(id: string): WorkerConnection {
    return this.socket.add(new WorkerConnection(this.socket.link, {
      id,
      python: this.options.python,
      ...(this.options.entry ? { entry: this.options.entry } : {}),
      endpoint: this.socket.endpoint,
      env: this.options.env,
      logger: this.options.logger,
      stderrTailLines: this.options.stderrTailLines,
      memoryLimitMb: this.options.memoryLimitMb,
      livenessTimeoutMs: this.options.heartbeat?.timeoutMs ?? null,
      token: this.token,
      sharedMemory: this.files ? { dir: this.files.dir, minBytes: this.files.minBytes } : undefined,
    }));
  }

  /** Closes the socket and removes its directory and the shared-memory files (after the workers stopped). */
  async close(): Promise<void> {
    await this.socket.close();
    await this.files?.close();
  }
}
