// One batch of one apply(): what to send, where it is, and how to settle it exactly once.
import type { Table } from 'apache-arrow';
import { ipcStreamFrames } from '../protocol/arrow-ipc.js';

export interface CallTaskInit {
  readonly udfId: number;
  readonly udfName: string;
  readonly input: Table;
  readonly batchIndex: number;
  readonly retries: number;
  readonly timeoutMs: number | undefined;
}

export class CallTask {
  readonly result: Promise<Table>;
  attempts = 0;
  /** When the batch was last sent to a worker (performance.now()), for latency metrics. */
  sentAt: number | undefined;
  settled = false;
  timer: NodeJS.Timeout | undefined;
  private payload: Uint8Array[] | undefined;
  private resolveResult!: (table: Table) => void;
  private rejectResult!: (error: Error) => void;

  constructor(readonly call: CallTaskInit) {
    this.result = new Promise<Table>((resolve, reject) => {
      this.resolveResult = resolve;
      this.rejectResult = reject;
    });
    // The caller may stop listening after the first failure of a multi-batch call.
    this.result.catch(() => undefined);
  }

  /** The CALL body frames, built at dispatch and kept for retries; they view the input's buffers. */
  encoded(): Uint8Array[] {
    this.payload ??= ipcStreamFrames(this.call.input);
    return this.payload;
  }

  resolve(table: Table): void {
    if (this.finish()) this.resolveResult(table);
  }

  reject(error: Error): void {
    if (this.finish()) this.rejectResult(error);
  }

  private finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    clearTimeout(this.timer);
    this.payload = undefined;
    return true;
  }
}
