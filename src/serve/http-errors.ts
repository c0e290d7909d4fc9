// Which HTTP status and client message each failure gets; details that may leak stay in the log.
import {
  AbortError, InvalidInputError, PoolClosedError, PyUdfError, PythonError, SchemaError, UdfTimeoutError,
} from '../errors.js';

/** A request the server refuses with `status` (4xx, or 503 while loading); the message is safe to show the client. */
export class RequestError extends InvalidInputError {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export interface ErrorReply {
  readonly status: number;
  /** The `error` text of the JSON body: never a traceback or a worker's stderr. */
  readonly message: string;
  /** Whether the full error belongs in the server log (server-side failures). */
  readonly log: boolean;
}

/** Maps an error met while serving `requestId` to a reply; `exposeErrors` adds a Python error's message. */
export function errorReply(error: unknown, model: string, requestId: string, exposeErrors = false): ErrorReply {
  if (error instanceof RequestError) return { status: error.status, message: error.message, log: false };
  if (error instanceof InvalidInputError) return { status: 400, message: error.message, log: false };
  if (error instanceof SchemaError) {
    // An input schema mismatch is the client's doing (an Arrow body); an output one is the model's.
    if (error.side === 'input') return { status: 400, message: error.message, log: false };
    const message = `model "${model}" returned output "${error.column}" as ${error.actual}, which the server cannot send: it must be ${error.expected} (request ${requestId})`;
    return { status: 500, message, log: true };
  }
  // A built-in loader refusing the request's columns (pyudf.builtins' ModelInputError) is the client's doing.
  if (error instanceof PythonError && error.phase === 'apply' && error.pythonType.endsWith('.ModelInputError')) {
    return { status: 400, message: `model "${model}" cannot take the request's columns: ${error.pythonMessage}`, log: false };
  }
  if (error instanceof PythonError) {
    const what = exposeErrors ? `${error.pythonType}: ${error.pythonMessage}` : error.pythonType;
    return { status: 500, message: `model "${model}" raised ${what} (request ${requestId}; the traceback is in the server log)`, log: true };
  }
  if (error instanceof UdfTimeoutError) {
    return { status: 504, message: `model "${model}" did not answer within ${error.timeoutMs} ms (request ${requestId})`, log: true };
  }
  if (error instanceof PoolClosedError) return { status: 503, message: 'the server is shutting down', log: false };
  if (error instanceof AbortError) return { status: 499, message: 'the request was cancelled', log: false };
  return { status: 500, message: `model "${model}" failed (request ${requestId}; details are in the server log)`, log: true };
}

/** For the log: a pyudf error's message carries what matters (a Python traceback, a worker's stderr); others their stack. */
export function describeError(error: unknown): string {
  if (error instanceof PyUdfError) return `${error.name}: ${error.message}`;
  return error instanceof Error ? error.stack ?? error.message : String(error);
}
