// Reads a worker's RESULT and ERROR bodies: Arrow tables (from the socket or a shared-memory file) and typed errors.
import type { Table } from 'apache-arrow';
import { ProtocolError, PythonError, type PyUdfError } from '../errors.js';
import { StreamDecoder } from '../protocol/arrow-ipc.js';
import { ArrowValidationError, MAX_ARRAY_LENGTH } from '../protocol/arrow-validate.js';
import { decodeErrorPayload, FLAG_BODY_IN_FILE, type Header, MAX_RESULT_BYTES } from '../protocol/wire.js';
import type { SharedMemoryFiles } from '../transport/shared-memory.js';

/**
 * Most rows a RESULT may hold when its caller gives no bound: the most apache-arrow can hold. Validation
 * bounds every buffer by the body either way; the Udf checks the row count against the input afterwards.
 */
const MAX_RESULT_ROWS = MAX_ARRAY_LENGTH;

/** Who answered: the worker (whose spare a read result file becomes, protocol.md §3.7) and the UDF errors name. */
export interface ResultSource {
  readonly workerId: string;
  readonly udfName: string;
}

export class ReplyReader {
  // One decoder for the pool: its schema cache serves every worker's results.
  private readonly decoder = new StreamDecoder();
  private fileResults = 0;

  constructor(private readonly files: SharedMemoryFiles | undefined) {}

  /** Results that came through shared-memory files. */
  get resultsFromFiles(): number {
    return this.fileResults;
  }

  /**
   * The table a RESULT carries; a ProtocolError if its body (or its file) is not a valid Arrow stream of at
   * most `maxRows` rows (the input batch's row count, where the caller has it).
   */
  result(header: Header, frames: readonly Buffer[], from: ResultSource, maxRows = MAX_RESULT_ROWS): Table {
    const { udfName } = from;
    const body = (header.flags & FLAG_BODY_IN_FILE) !== 0 ? this.takeFile(frames, from) : frames[1] ?? new Uint8Array();
    try {
      return this.decoder.decode(body, { maxRows });
    } catch (cause) {
      const reason = cause instanceof ArrowValidationError ? `: ${cause.message}` : '';
      throw new ProtocolError(`RESULT body of UDF "${udfName}" is not an Arrow IPC stream${reason}`, { cause });
    }
  }

  /** Deletes the file of a RESULT nobody waits for, so that it does not hold memory. */
  discard(header: Header, frames: readonly Buffer[]): void {
    if ((header.flags & FLAG_BODY_IN_FILE) === 0) return;
    const file = this.files?.resolve(frames[1]);
    if (file) this.files?.discard(file);
  }

  /** Deletes the file a worker that died may have written for `requestId` (protocol.md §3.7), if there is one. */
  discardUnannounced(requestId: number): void {
    this.files?.discardResultOf(requestId);
  }

  /** Deletes the spare result file of a worker that is gone. */
  discardSpareOf(workerId: string): void {
    this.files?.discardSpareOf(workerId);
  }

  /** The typed error an ERROR payload describes. */
  error(frame: Uint8Array | undefined, udf: string, batchIndex?: number): PyUdfError {
    const payload = decodeErrorPayload(frame);
    if (payload.kind === 'protocol') {
      return new ProtocolError(`worker rejected a message of UDF "${udf}": ${payload.message}`);
    }
    const phase = payload.phase ?? 'apply';
    return new PythonError({
      pythonType: payload.type, pythonMessage: payload.message, traceback: payload.traceback, frames: payload.frames ?? [],
      phase, udf, batchIndex: phase === 'apply' ? batchIndex : undefined,
    });
  }

  /** The body of a RESULT sent as a shared-memory file: read, then kept as the worker's spare or deleted. */
  private takeFile(frames: readonly Buffer[], { workerId, udfName }: ResultSource): Buffer {
    const file = this.files?.resolve(frames[1]);
    if (!this.files || !file || frames.length !== 2) {
      throw new ProtocolError(`RESULT of UDF "${udfName}" names no file of the pool's shared-memory directory`);
    }
    try {
      const body = this.files.take(file, MAX_RESULT_BYTES, workerId);
      this.fileResults++;
      return body;
    } catch (cause) {
      throw new ProtocolError(`RESULT file of UDF "${udfName}" cannot be read: ${String(cause)}`, { cause });
    }
  }
}
