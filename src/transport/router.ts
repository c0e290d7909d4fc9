// The pool's end of the transport: one ROUTER bound on an ipc:// path in a private temp directory, or on tcp with CURVE.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { curveKeyPair, Router } from 'zeromq';
import { ownPrefix, removeAbandoned } from './abandoned.js';

export type Frames = Buffer[];
/** How long a send may wait for a peer (see bind()). */
export const SEND_TIMEOUT_MS = 1_000;
/** The longest one receive waits before the loop looks again at whether it should keep receiving. */
export const RECEIVE_TIMEOUT_MS = 500;
export type MessageHandler = (workerId: string, frames: Frames) => void;

/**
 * ZMTP heartbeats: libzmq pings each peer every `intervalMs` and drops a peer that has not answered
 * within `timeoutMs`. A worker's own libzmq I/O thread answers, so a busy worker (Python holding the
 * GIL for minutes) still does; only a stopped or frozen process does not.
 */
export interface Heartbeat {
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/** Z85-encoded CURVE keys (40 characters each), as libzmq takes them. */
export interface CurveKeyPair {
  readonly publicKey: string;
  readonly secretKey: string;
}

/** A fresh key pair; the pool makes its own for every pool (protocol.md §9.2). */
export function newCurveKeyPair(): CurveKeyPair {
  const { publicKey, secretKey } = curveKeyPair();
  return { publicKey, secretKey };
}

/**
 * Where a socket for workers on other machines listens: tcp on `host` (an ephemeral port), as a CURVE
 * server, so that only peers given `serverKey`'s public half can complete the handshake, and every
 * frame on the wire is encrypted and authenticated.
 */
export interface TcpBinding {
  readonly host: string;
  readonly serverKey: CurveKeyPair;
}

export class RouterTransport {
  private sendChain: Promise<void> = Promise.resolve();
  private closed = false;
  private keepingAlive = true;
  private wake: (() => void) | undefined;

  /** `dir`: the private directory of an ipc:// socket; undefined on tcp. */
  private constructor(private readonly socket: Router, readonly dir: string | undefined, readonly endpoint: string) {}

  /**
   * `maxFrameBytes`: libzmq drops the connection of a peer that sends a larger frame instead of
   * receiving it (zeromq.js aborts the process on a frame over 4 GiB). `tcp`: listen there with CURVE
   * instead of on a private ipc:// path; the endpoint then names the port the system chose.
   */
  static async bind(maxFrameBytes: number, heartbeat: Heartbeat | null = null, tcp?: TcpBinding): Promise<RouterTransport> {
    let dir: string | undefined;
    let endpoint: string;
    if (tcp) {
      endpoint = `tcp://${tcp.host.includes(':') ? `[${tcp.host}]` : tcp.host}:*`;
    } else {
      // Named after this process, so that a later pool removes it if this one is killed before close().
      removeAbandoned(os.tmpdir());
      // mkdtemp creates the directory with mode 0700, so only this user can connect to the socket.
      dir = await mkdtemp(path.join(os.tmpdir(), ownPrefix()));
      endpoint = `ipc://${path.join(dir, 'pool.sock')}`;
    }
    // mandatory: a send to a worker that is gone fails instead of being silently dropped. sendTimeout:
    // with mandatory, libzmq can block a send to a peer that has just disconnected until some other
    // event arrives (measured: the second send after a worker's SIGKILL never returned, 30 of 30
    // times); the timeout turns that into an error. With no high-water mark a send to a live peer
    // never waits, so the timeout only ever ends sends to dead ones.
    const socket = new Router({
      mandatory: true, linger: 0, sendHighWaterMark: 0, receiveHighWaterMark: 0, sendTimeout: SEND_TIMEOUT_MS,
      maxMessageSize: maxFrameBytes, receiveTimeout: RECEIVE_TIMEOUT_MS,
      ...(heartbeat ? { heartbeatInterval: heartbeat.intervalMs, heartbeatTimeout: heartbeat.timeoutMs } : {}),
      ...(tcp ? { curveServer: true, curveSecretKey: tcp.serverKey.secretKey, ipv6: tcp.host.includes(':') } : {}),
    });
    try {
      await socket.bind(endpoint);
    } catch (error) {
      socket.close();
      if (dir) await rm(dir, { recursive: true, force: true });
      throw error;
    }
    return new RouterTransport(socket, dir, tcp ? socket.lastEndpoint ?? endpoint : endpoint);
  }

  /**
   * Runs the receive loop until close(); each message goes to `onMessage` with its worker id. While
   * unref'd (`keepAlive(false)`), it receives only when `expecting()` (some request awaits its answer):
   * a pending receive is what keeps Node's event loop alive, and an idle pool must not. A receive waits
   * at most RECEIVE_TIMEOUT_MS, so that a change to either is seen.
   */
  async receiveLoop(onMessage: MessageHandler, expecting: () => boolean): Promise<void> {
    while (!this.closed) {
      if (!this.keepingAlive && !expecting()) {
        await new Promise<void>((resolve) => { this.wake = resolve; });
        continue;
      }
      let message: Buffer[];
      try {
        message = await this.socket.receive();
      } catch (error) {
        if (this.closed) return;
        if ((error as { code?: string }).code === 'EAGAIN') continue; // the receive timed out
        throw error;
      }
      const [id, ...frames] = message;
      if (id) onMessage(id.toString('latin1'), frames);
    }
  }

  /** Whether an idle socket keeps Node's event loop alive (the default). */
  keepAlive(keep: boolean): void {
    this.keepingAlive = keep;
    this.expectReplies();
  }

  /** Call after sending a request: an unref'd loop starts receiving again. */
  expectReplies(): void {
    this.wake?.();
    this.wake = undefined;
  }

  /** Queues a message; zeromq.js allows one send in flight per socket, so sends are chained. */
  send(workerId: string, frames: readonly (Buffer | Uint8Array)[]): Promise<void> {
    const next = this.sendChain.then(() => this.socket.send([workerId, ...frames]));
    this.sendChain = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.expectReplies();
    await this.sendChain;
    this.socket.close();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
