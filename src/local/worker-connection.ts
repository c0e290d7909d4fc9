// The handle of one local worker: its child process and its requests over the socket. The only code that touches the child.
import { timingSafeEqual } from 'node:crypto';
import type { Table } from 'apache-arrow';
import { ProtocolError } from '../errors.js';
import type { UdfSpec } from '../backend/backend.js';
import type { BatchTask } from '../backend/batch-task.js';
import type { Logger } from '../log/logger.js';
import {
  CALL, decodeHeader, decodeJson, encodeHeader, encodeJson, ERROR, type Header, KIND_NAMES, PING, READY, REGISTER, REGISTERED,
  RESULT, SHUTDOWN, UNREGISTER, UNREGISTERED, WORKER_INFO_KEYS, type WorkerInfo,
} from '../protocol/wire.js';
import { type Executor, type ExecutorExit, ExecutorLostError } from '../scheduler/executor.js';
import type { ReplyReader } from './reply-reader.js';
import { type MemoryLimit, watchMemory } from './memory-watch.js';
import { LocalWorkerExit } from './worker-exit.js';
import { WorkerProcess, type WorkerProcessOptions } from './worker-process.js';

/** What a connection shares with the others of its pool. */
export interface WorkerLink {
  /** Sends a message to the worker with this id; rejects if it cannot be reached. */
  send(workerId: string, frames: readonly (Buffer | Uint8Array)[]): Promise<void>;
  /** Request ids are unique in the pool: results in shared-memory files are named after them. */
  nextRequestId(): number;
  readonly replies: ReplyReader;
  readonly logger: Logger;
  /** Tells the socket a reply is now expected (an unref'd socket receives only then). */
  expectReplies(): void;
}

/** A worker whose connection ended gets this long to exit on its own before it counts as frozen. */
const EXIT_GRACE_MS = 500;

export interface WorkerConnectionOptions extends WorkerProcessOptions {
  /** A worker whose resident memory passes this many MiB is killed; null: no limit. */
  readonly memoryLimitMb?: number | null;
  /** The heartbeat timeout of the pool's socket, named in the report of a worker killed for missing it. */
  readonly livenessTimeoutMs?: number | null;
}

type Pending =
  | { readonly kind: 'control'; readonly udfId: number; readonly udfName: string; readonly resolve: () => void; readonly reject: (e: Error) => void }
  | { readonly kind: 'call'; readonly task: BatchTask; readonly resolve: (t: Table) => void; readonly reject: (e: Error) => void };

export class WorkerConnection implements Executor {
  readonly started: Promise<void>;
  readonly exited: Promise<ExecutorExit>;
  private readonly process: WorkerProcess;
  private readonly pending = new Map<number, Pending>();
  private info: WorkerInfo | undefined;
  private protocolError: ProtocolError | undefined;
  private killed = false;
  private stopping = false;
  /** Why the pool killed the worker (memory, heartbeats), for its crash report. */
  private killReason: string | undefined;
  private readonly udfMemoryLimits = new Map<number, MemoryLimit>();
  /** Calls failed before the worker exited, whose result files are removed again once it has. */
  private readonly unannounced: number[] = [];
  private markStarted!: () => void;

  constructor(
    private readonly link: WorkerLink,
    private readonly options: WorkerConnectionOptions,
  ) {
    this.process = new WorkerProcess(options);
    this.started = new Promise((resolve) => { this.markStarted = resolve; });
    const pid = this.process.pid;
    const stopWatching = pid === undefined ? undefined : watchMemory(pid, () => this.memoryLimit(), (usedMb, limit) => this.killFor(
      ` after using ${Math.round(usedMb)} MB, over ${limit.owner} (raise the limit, or give it less per batch: a smaller batchSize)`,
    ));
    this.exited = this.process.exited.then((exit) => {
      stopWatching?.();
      const report = new LocalWorkerExit(this.id, options.python, exit, this.process.stderrTail, this.protocolError, this.killReason);
      const lost = new ExecutorLostError(report);
      this.failPending(lost);
      // A worker killed for breaking the protocol may have gone on writing a file after its requests failed.
      for (const requestId of this.unannounced.splice(0)) this.link.replies.discardUnannounced(requestId);
      return report;
    });
  }

  get id(): string {
    return this.process.id;
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  /** True while the worker owes the pool a message: READY, or answers to requests sent to it. */
  get expectsMessages(): boolean {
    return this.process.isAlive && (this.info === undefined || this.pending.size > 0);
  }

  /** Whether the child process and its pipes keep Node's event loop alive. */
  keepAlive(keep: boolean): void {
    this.process.keepAlive(keep);
  }

  get accepting(): boolean {
    return this.process.isAlive && !this.killed && this.protocolError === undefined;
  }

  /** The worker's versions, from READY; undefined until it connected. */
  get workerInfo(): WorkerInfo | undefined {
    return this.info;
  }

  register(udfId: number, spec: UdfSpec): Promise<void> {
    // The limits and the number of instances are the pool's business, not the worker's.
    const { memoryLimitMb, instances: _instances, ...message } = spec;
    if (memoryLimitMb) this.udfMemoryLimits.set(udfId, { mb: memoryLimitMb, owner: `memoryLimitMb=${memoryLimitMb} of UDF "${spec.name}"` });
    return this.control(REGISTER, udfId, spec.name, [encodeJson(message)]);
  }

  unregister(udfId: number): Promise<void> {
    this.udfMemoryLimits.delete(udfId);
    return this.control(UNREGISTER, udfId, `#${udfId}`, []);
  }

  run(task: BatchTask): Promise<Table> {
    return this.request((requestId, resolve, reject) => {
      this.pending.set(requestId, { kind: 'call', task, resolve, reject });
      return [encodeHeader(CALL, requestId, task.request.udfId), ...task.encoded()];
    });
  }

  kill(): void {
    this.killed = true;
    this.process.kill('SIGKILL');
  }

  /**
   * Checks that the worker is still connected: a send to a peer the socket dropped for missing its
   * heartbeats fails, and a worker whose process is still there then is frozen.
   */
  probe(): void {
    if (!this.info || !this.accepting || this.stopping) return;
    this.link.send(this.id, [encodeHeader(PING)]).catch(() => {
      setTimeout(() => {
        if (!this.process.isAlive || this.stopping) return;
        this.killFor(` after it stopped answering heartbeats for livenessTimeoutMs=${this.options.livenessTimeoutMs ?? '(none)'} (its process was stopped, by SIGSTOP or a debugger, or frozen)`);
      }, EXIT_GRACE_MS).unref();
    });
  }

  /** SHUTDOWN (SIGTERM for a worker not connected yet), then SIGTERM and SIGKILL, `graceMs` apart. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    if (this.info) await this.link.send(this.id, [encodeHeader(SHUTDOWN)]).catch(() => undefined);
    else this.process.kill('SIGTERM');
    if (!(await this.process.waitForExit(graceMs))) await this.process.terminate(graceMs);
    await this.exited;
  }

  /** Handles one message from this worker; a malformed one ends the worker (protocol.md §5). */
  onMessage(frames: readonly Buffer[]): void {
    try {
      this.handle(decodeHeader(frames[0]), frames);
    } catch (error) {
      this.breakProtocol(error instanceof ProtocolError ? error : new ProtocolError(String(error), { cause: error }));
    }
  }

  /**
   * The lowest limit that applies now: the pool's, and that of the UDF whose init or batch the worker is
   * running (the oldest request: it answers in order; batches queued behind it are not running yet).
   * Both are compared with the whole process's resident memory, every loaded model included.
   */
  private memoryLimit(): MemoryLimit | undefined {
    const { memoryLimitMb } = this.options;
    const pool = memoryLimitMb ? { mb: memoryLimitMb, owner: `memoryLimitMb=${memoryLimitMb}` } : undefined;
    const running = this.pending.values().next().value;
    const udf = running && this.udfMemoryLimits.get(running.kind === 'call' ? running.task.request.udfId : running.udfId);
    return udf && (!pool || udf.mb < pool.mb) ? udf : pool;
  }

  /**
   * Rejects every request still waiting. A result the worker may have written to a shared-memory file
   * before it died (or broke the protocol) will never be announced: its file is removed, not left in memory.
   */
  private failPending(error: Error): void {
    for (const [requestId, request] of this.pending) {
      if (request.kind === 'call') {
        this.link.replies.discardUnannounced(requestId);
        this.unannounced.push(requestId);
      }
      request.reject(error);
    }
    this.pending.clear();
  }

  private killFor(reason: string): void {
    if (this.killed) return;
    this.killReason = reason;
    this.link.logger(`killing the worker${reason}`, { level: 'error', source: this.id });
    this.kill();
  }

  private tokenMatches(token: unknown): boolean {
    const expected = this.options.token;
    if (expected === undefined) return true;
    if (typeof token !== 'string' || token.length !== expected.length) return false;
    return timingSafeEqual(Buffer.from(token), Buffer.from(expected));
  }

  private control(kind: typeof REGISTER | typeof UNREGISTER, udfId: number, udfName: string, body: Buffer[]): Promise<void> {
    return this.request((requestId, resolve, reject) => {
      this.pending.set(requestId, { kind: 'control', udfId, udfName, resolve, reject });
      return [encodeHeader(kind, requestId, udfId), ...body];
    });
  }

  private request<T>(start: (requestId: number, resolve: (value: T) => void, reject: (e: Error) => void) => (Buffer | Uint8Array)[]): Promise<T> {
    // A worker being ended (its exit not seen yet) takes nothing more: the request is lost with it.
    if (!this.accepting) return this.exited.then((exit) => Promise.reject(new ExecutorLostError(exit)));
    return new Promise<T>((resolve, reject) => {
      const frames = start(this.link.nextRequestId(), resolve, reject);
      this.link.expectReplies();
      // A send fails only when the worker cannot be reached: ending it settles its requests, retries included.
      this.link.send(this.id, frames).catch(() => this.kill());
    });
  }

  private handle(header: Header, frames: readonly Buffer[]): void {
    switch (header.kind) {
      case READY: {
        if (this.info) throw new ProtocolError('READY sent twice');
        const info = decodeJson<WorkerInfo & { readonly token?: unknown }>(frames[1], 'READY', WORKER_INFO_KEYS);
        if (!this.tokenMatches(info.token)) {
          // Some other process connected under this worker's id: it gets nothing, and the worker's start times out.
          this.link.logger(`a peer without this pool's token connected as ${this.id}; nothing is sent to it`, { level: 'error', source: 'pool' });
          return;
        }
        const { token: _, ...versions } = info;
        this.info = versions;
        this.markStarted();
        return;
      }
      case REGISTERED:
      case UNREGISTERED:
        this.take(header, 'control').resolve();
        return;
      case RESULT: {
        const request = this.pending.get(header.requestId);
        // An answer to no request of ours (one whose worker was given up on): its file must not stay in memory.
        if (!request) return this.link.replies.discard(header, frames);
        const call = this.take(header, 'call');
        call.resolve(this.failing(call, () => this.link.replies.result(header, frames, call.task.request.udfName)));
        return;
      }
      case ERROR: {
        const request = this.pending.get(header.requestId);
        // An ERROR about no request of ours means the worker could not read a message we sent.
        if (!request) throw this.link.replies.error(frames[1], `#${header.udfId}`);
        this.pending.delete(header.requestId);
        const [udf, batchIndex] = request.kind === 'call' ? [request.task.request.udfName, request.task.request.batchIndex] : [request.udfName, undefined];
        request.reject(this.failing(request, () => this.link.replies.error(frames[1], udf, batchIndex)));
        return;
      }
      default:
        throw new ProtocolError(`a worker must not send ${KIND_NAMES[header.kind]} messages`);
    }
  }

  private take<K extends Pending['kind']>(header: Header, kind: K): Extract<Pending, { kind: K }> {
    const request = this.pending.get(header.requestId);
    if (request?.kind !== kind) throw new ProtocolError(`${KIND_NAMES[header.kind]} answers no ${kind === 'call' ? 'CALL' : 'REGISTER or UNREGISTER'} request ${header.requestId}`);
    this.pending.delete(header.requestId);
    return request as Extract<Pending, { kind: K }>;
  }

  /** Decodes a reply for a request already taken; a ProtocolError fails that request too, then the worker. */
  private failing<T>(request: Pending, decode: () => T): T {
    try {
      return decode();
    } catch (error) {
      request.reject(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
  }

  /** A worker that broke the protocol cannot be trusted: fail its work (no retry) and replace it. */
  private breakProtocol(error: ProtocolError): void {
    this.protocolError ??= error;
    this.failPending(error);
    this.link.logger(`protocol error, restarting the worker: ${error.message}`, { level: 'error', source: this.id });
    this.kill();
  }
}
