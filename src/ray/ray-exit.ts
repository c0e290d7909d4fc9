// How a Ray actor ended, turned into the errors the scheduler reports: actor death, failed start, the cluster gone.
import { type ProtocolError, type PyUdfError, WorkerCrashedError } from '../errors.js';
import type { ExecutorExit } from '../scheduler/executor.js';
import type { ActorEnd, Placement } from './driver.js';

/** Lines of Ray's account of an actor's death kept for the crash report. */
const CAUSE_LINES = 30;

/**
 * `actor`: Ray reported the actor's end. `unavailable`: the cluster (or the driver, or Python) could
 * not be had: the error says which, and a restart will not help until that changes. `unconfirmed`: the
 * pool killed the actor and Ray never confirmed it (the actor no longer counts either way).
 */
export type RayEnd =
  | { readonly kind: 'actor'; readonly end: ActorEnd }
  | { readonly kind: 'unavailable'; readonly error: PyUdfError }
  | { readonly kind: 'unconfirmed'; readonly afterMs: number };

export class RayActorExit implements ExecutorExit {
  readonly permanent: boolean;

  constructor(
    private readonly workerId: string,
    readonly end: RayEnd,
    private readonly placement: Placement | undefined,
    /** Set when the actor broke the protocol: reported instead of the kill that followed. */
    private readonly protocolError: ProtocolError | undefined,
    /** Why the pool killed the actor (heartbeats), appended to its crash report. */
    private readonly killReason = '',
  ) {
    this.permanent = end.kind === 'unavailable';
  }

  crashError(attempts: number, detail = ''): PyUdfError {
    if (this.end.kind === 'unavailable') return this.end.error;
    return this.crash(`${this.killReason}${detail}`, attempts);
  }

  startError(detail: string): PyUdfError {
    if (this.protocolError) return this.protocolError;
    if (this.end.kind === 'unavailable') return this.end.error;
    return this.crash(`${this.killReason}${detail}`, 1);
  }

  private crash(detail: string, attempts: number): PyUdfError {
    const { end, placement } = this;
    const where = placement ? ` (Ray actor ${placement.actorId}, pid ${placement.pid} on node ${placement.nodeIp})` : ' (Ray actor)';
    const how = end.kind === 'unconfirmed' ? `; Ray did not confirm its end within ${end.afterMs} ms` : end.kind === 'actor' && end.end.type ? `: ${end.end.type}` : '';
    const cause = end.kind === 'actor' ? end.end.cause.split('\n').filter((line) => line.trim() !== '').slice(-CAUSE_LINES) : [];
    return new WorkerCrashedError({
      workerId: this.workerId, exitCode: undefined, signal: undefined, stderrTail: cause, attempts, detail: `${where}${how}${detail}`,
    });
  }
}
