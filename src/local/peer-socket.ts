// The pool's socket as its workers' handles see it: one link for all, each message routed to its worker, frozen workers probed.
import type { Logger } from '../log/logger.js';
import type { Heartbeat, RouterTransport } from '../transport/router.js';
import type { SharedMemoryFiles } from '../transport/shared-memory.js';
import { ReplyReader } from './reply-reader.js';
import type { WorkerLink, WorkerPeer } from './worker-peer.js';

/** A worker handle the socket serves: a peer that may also hold things that keep Node running. */
export interface SocketPeer extends WorkerPeer {
  keepAlive(keep: boolean): void;
}

export class PeerSocket<P extends SocketPeer> {
  readonly replies: ReplyReader;
  readonly link: WorkerLink;
  private readonly peers = new Map<string, P>();
  private readonly receiving: Promise<void>;
  private readonly prober: NodeJS.Timeout | undefined;
  private nextRequest = 1;
  private referenced = true;

  constructor(
    private readonly transport: RouterTransport,
    files: SharedMemoryFiles | undefined,
    logger: Logger,
    heartbeat: Heartbeat | null,
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
      logger,
      expectReplies: () => transport.expectReplies(),
    };
    const expecting = (): boolean => [...this.peers.values()].some((peer) => peer.expectsMessages);
    this.receiving = transport.receiveLoop((id, frames) => this.peers.get(id)?.onMessage(frames), expecting).catch((error: unknown) => {
      // The socket failed under us: nothing more can arrive, so end the workers rather than hang.
      logger(`the pool's socket failed: ${String(error)}`, { level: 'error', source: 'pool' });
      for (const peer of this.peers.values()) peer.kill();
    });
    // A worker that misses its heartbeats is dropped by the socket, which makes a send to it fail: busy
    // workers are probed once a heartbeat interval (an idle one is found at its next request).
    if (heartbeat) {
      this.prober = setInterval(() => {
        for (const peer of this.peers.values()) if (peer.expectsMessages) peer.probe();
      }, heartbeat.intervalMs);
      this.prober.unref();
    }
  }

  get endpoint(): string {
    return this.transport.endpoint;
  }

  /** Whether the socket and the peers keep Node's event loop alive while no request awaits an answer. */
  keepAlive(keep: boolean): void {
    this.referenced = keep;
    this.transport.keepAlive(keep);
    for (const peer of this.peers.values()) peer.keepAlive(keep);
  }

  /** Routes the worker's messages to its handle until it exited (a late message from a replaced worker is dropped). */
  add(peer: P): P {
    this.peers.set(peer.id, peer);
    if (!this.referenced) peer.keepAlive(false);
    // It owes READY: an unref'd socket parked while the pool was idle must receive again.
    this.transport.expectReplies();
    void peer.exited.then(() => {
      if (this.peers.get(peer.id) === peer) this.peers.delete(peer.id);
    });
    return peer;
  }

  /** Closes the socket (after the workers stopped). */
  async close(): Promise<void> {
    clearInterval(this.prober);
    await this.transport.close();
    await this.receiving;
  }
}
