// The pool's view of one worker: its process, its state, and the requests it holds.
import type { WorkerInfo } from '../protocol/wire.js';
import type { WorkerProcess } from '../worker/worker-process.js';
import type { CallTask } from './call-task.js';

/**
 * `starting`: spawned, no READY yet. `initializing`: READY received, registering the pool's UDFs.
 * `ready`: serving calls. `dead`: exited (a replacement takes a new slot).
 */
export type SlotState = 'starting' | 'initializing' | 'ready' | 'dead';

export interface ControlRequest {
  readonly udfId: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class WorkerSlot {
  state: SlotState = 'starting';
  info: WorkerInfo | undefined;
  /** UDFs whose `init` succeeded in this worker. */
  readonly udfs = new Set<number>();
  readonly calls = new Map<number, CallTask>();
  readonly controls = new Map<number, ControlRequest>();
  /** Set when the worker broke the protocol; reported instead of the exit that follows. */
  protocolError: Error | undefined;
  /** Called once when READY arrives (used by start-up to know the worker connected). */
  connected: (() => void) | undefined;

  constructor(readonly process: WorkerProcess) {}

  get id(): string {
    return this.process.id;
  }

  canServe(udfId: number): boolean {
    return this.state === 'ready' && this.udfs.has(udfId);
  }
}
