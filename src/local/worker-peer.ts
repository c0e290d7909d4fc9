// The pool's half of one worker's conversation on the socket (protocol.md §3): requests, replies, READY and its token; no process.
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

/** What a worker's connection shares with the others of its pool. */
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

export interface WorkerPeerOptions {
  readonly id: string;
  /** The pool's secret, which the worker must send in READY (protocol.md §3.1); undefined: not checked. */
  readonly token?: string;
  /** The heartbeat timeout of the pool's socket, named in the report of a worker killed for missing it. */
  readonly livenessTimeoutMs?: number | null;
}

export type Pending =
  | { readonly kind: 'control'; readonly udfId: number; readonly udfName: string; readonly resolve: () => void; readonly reject: (e: Error) => void }
  | { readonly kind: 'call'; readonly task: BatchTask; readonly resolve: (t: Table) => void; readonly reject: (e: Error) => void };

/**
 * Everything a worker handle does on the socket, whatever runs the worker: a subclass owns the worker
 * itself (a child process, a Ray actor), says whether it is still there (`alive`), ends it (`kill`,
 * `stop`), and builds `exited`, settling it through `settleExit()`.
 */
export abstract class WorkerPeer implements Executor {
  readonly id: string;
  readonly started: Promise<void>;
  abstract readonly exited: Promise<ExecutorExit>;
  protected readonly pending = new Map<number, Pending>();
  protected info: WorkerInfo | undefined;
  protected protocolError: ProtocolError | undefined;
  protected killed = false;
  protected stopping = false;
  /** Why the pool killed the worker (memory, heartbeats), for its crash report. */
  protected killReason: string | undefined;
  /** Calls failed before the worker exited, whose result files are removed again once it has. */
  private readonly unannounced: number[] = [];
  private markStarted!: () => void;

  constructor(
    protected readonly link: WorkerLink,
    private readonly peer: WorkerPeerOptions,
  ) {
    this.id = peer.id;
    this.started = new Promise((resolve) => { this.markStarted = resolve; });
  }

  /** Whether the worker (process, actor) is still there. */
  protected abstract get alive(): boolean;
  /** Ends the worker at once; `exited` follows. Subclasses set `killed`. */
  abstract kill(): void;
  abstract stop(graceMs: number): Promise<void>;

  /** What a worker that stopped answering heartbeats probably is, for its crash report. */
  protected get unresponsive(): string {
    return 'its process was stopped, by SIGSTOP or a debugger, or frozen';
  }

  /** True while the worker owes the pool a message: READY, or answers to requests sent to it. */
  get expectsMessages(): boolean {
    return this.alive && (this.info === undefined || this.pending.size > 0);
  }

  get accepting(): boolean {
    return this.alive && !this.killed && this.protocolError === undefined;
  }

  /** The worker's versions, from READY; undefined until it connected. */
  get workerInfo(): WorkerInfo | undefined {
    return this.info;
  }

  register(udfId: number, spec: UdfSpec): Promise<void> {
    // The limits and the number of instances are the pool's business, not the worker's.
    const { memoryLimitMb: _limit, instances: _instances, ...message } = spec;
    return this.control(REGISTER, udfId, spec.name, [encodeJson(message)]);
  }

  unregister(udfId: number): Promise<void> {
    return this.control(UNREGISTER, udfId, `#${udfId}`, []);
  }

  run(task: BatchTask): Promise<Table> {
    return this.request((requestId, resolve, reject) => {
      this.pending.set(requestId, { kind: 'call', task, resolve, reject });
      return [encodeHeader(CALL, requestId, task.request.udfId), ...task.encoded()];
    });
  }

  /**
   * Checks that the worker is still connected: a send to a peer the socket dropped for missing its
   * heartbeats fails, and a worker that is still there then is frozen.
   */
  probe(): void {
    if (!this.info || !this.accepting || this.stopping) return;
    this.link.send(this.id, [encodeHeader(PING)]).catch(() => {
      setTimeout(() => {
        if (!this.alive || this.stopping) return;
        this.killFor(` after it stopped answering heartbeats for livenessTimeoutMs=${this.peer.livenessTimeoutMs ?? '(none)'} (${this.unresponsive})`);
      }, EXIT_GRACE_MS).unref();
    });
  }

  /** Handles one message from this worker; a malformed one ends the worker (protocol.md §5). */
  onMessage(frames: readonly Buffer[]): void {
    try {
      this.handle(decodeHeader(frames[0]), frames);
    } catch (error) {
      this.breakProtocol(error instanceof ProtocolError ? error : new ProtocolError(String(error), { cause: error }));
    }
  }

  /** Sends SHUTDOWN if the worker connected; false if it never did (it must be ended some other way). */
  protected async sendShutdown(): Promise<boolean> {
    if (!this.info) return false;
    await this.link.send(this.id, [encodeHeader(SHUTDOWN)]).catch(() => undefined);
    return true;
  }

  /** The request the worker is working on: the oldest (it answers in order). */
  protected get running(): Pending | undefined {
    return this.pending.values().next().value;
  }

  /** Called once the worker is gone: its waiting requests are lost with it (the scheduler retries or fails them). */
  protected settleExit<X extends ExecutorExit>(report: X): X {
    this.failPending(new ExecutorLostError(report));
    // A worker killed for breaking the protocol may have gone on writing a file after its requests failed.
    for (const requestId of this.unannounced.splice(0)) this.link.replies.discardUnannounced(requestId);
    this.link.replies.discardSpareOf(this.id);
    return report;
  }

  protected killFor(reason: string): void {
    if (this.killed) return;
    this.killReason = reason;
    this.link.logger(`killing the worker${reason}`, { level: 'error', source: this.id });
    this.kill();
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

  private tokenMatches(token: unknown): boolean {
    const expected = this.peer.token;
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
        call.resolve(this.failing(call, () => this.link.replies.result(header, frames, { workerId: this.id, udfName: call.task.request.udfName })));
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
