// One batch of one apply(): what to run, how often it was tried, and its result, settled exactly once.
import type { Table } from 'apache-arrow';
import { ipcStreamFrames } from '../protocol/arrow-ipc.js';

export interface BatchRequest {
  readonly udfId: number;
  readonly udfName: string;
  readonly input: Table;
  /** Index of this batch within its call (or stream item), for error reports. */
  readonly batchIndex: number;
  /** Re-sends after the worker holding the batch died. */
  readonly retries: number;
  readonly timeoutMs: number | undefined;
}

export class BatchTask {
  readonly result: Promise<Table>;
  /** Times the batch was sent to a worker. */
  attempts = 0;
  /** When the batch was last sent to a worker (performance.now()), for latency metrics. */
  sentAt: number | undefined;
  private done = false;
  private payload: Uint8Array[] | undefined;
  private resolveResult!: (table: Table) => void;
  private rejectResult!: (error: Error) => void;

  constructor(readonly request: BatchRequest) {
    this.result = new Promise<Table>((resolve, reject) => {
      this.resolveResult = resolve;
      this.rejectResult = reject;
    });
    // The caller may stop listening after the first failure of a multi-batch call.
    this.result.catch(() => undefined);
  }

  get settled(): boolean {
    return this.done;
  }

  /** The input as Arrow IPC stream frames, built once and kept for retries; they view the input's buffers. */
  encoded(): Uint8Array[] {
    this.payload ??= ipcStreamFrames(this.request.input);
    return this.payload;
  }

  resolve(table: Table): void {
    if (this.finish()) this.resolveResult(table);
  }

  reject(error: Error): void {
    if (this.finish()) this.rejectResult(error);
  }

  private finish(): boolean {
    if (this.done) return false;
    this.done = true;
    this.payload = undefined;
    return true;
  }
}
