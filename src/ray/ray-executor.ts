// The handle of one Ray actor: the worker protocol over the pool's tcp socket, and the actor's life through the driver.
import type { Placement } from './driver.js';
import type { ExecutorExit } from '../scheduler/executor.js';
import { type WorkerLink, WorkerPeer, type WorkerPeerOptions } from '../local/index.js';
import { RayActorExit, type RayEnd } from './ray-exit.js';

/**
 * How long the pool waits for Ray to confirm the end of an actor it killed before it stops counting on
 * it (a driver cut off from its cluster cannot confirm anything; the driver's own end settles it sooner).
 */
export const KILL_CONFIRM_MS = 10_000;

/** What an actor's handle asks of the launcher: the driver's `kill`. */
export interface ActorControl {
  kill(id: string): void;
}

export class RayExecutor extends WorkerPeer {
  readonly exited: Promise<ExecutorExit>;
  private where: Placement | undefined;
  private gone = false;
  private confirmTimer: NodeJS.Timeout | undefined;
  private settle!: (exit: ExecutorExit) => void;

  constructor(link: WorkerLink, options: WorkerPeerOptions, private readonly actors: ActorControl) {
    super(link, options);
    this.exited = new Promise((resolve) => { this.settle = resolve; });
  }

  /** Where the actor runs, once Ray placed it. */
  get placement(): Placement | undefined {
    return this.where;
  }

  protected get alive(): boolean {
    return !this.gone;
  }

  protected override get unresponsive(): string {
    return "its actor's process was stopped or frozen, or its node cannot be reached";
  }

  /** The driver's socket and pipes are the launcher's: an actor holds nothing of Node's. */
  keepAlive(_keep: boolean): void {}

  placed(placement: Placement): void {
    this.where = placement;
  }

  /** The actor is gone (Ray said so, or its cluster or driver is): its requests are lost with it. */
  ended(end: RayEnd): void {
    if (this.gone) return;
    this.gone = true;
    clearTimeout(this.confirmTimer);
    this.settle(this.settleExit(new RayActorExit(this.id, end, this.where, this.protocolError, this.killReason)));
  }

  kill(): void {
    const first = !this.killed;
    this.killed = true;
    if (this.gone || !first) return;
    this.actors.kill(this.id);
    this.confirmTimer = setTimeout(() => this.ended({ kind: 'unconfirmed', afterMs: KILL_CONFIRM_MS }), KILL_CONFIRM_MS);
    this.confirmTimer.unref();
  }

  /** SHUTDOWN (a kill for an actor not connected yet); a kill if it has not ended after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    if (!(await this.sendShutdown())) this.kill();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), graceMs); });
    if ((await Promise.race([this.exited, late])) === 'late') this.kill();
    clearTimeout(timer);
    await this.exited;
  }
}
