// A repository load that failed, as the load endpoint answers it: 400 and one line saying which version and why.
import { RequestError } from '../http-errors.js';

/**
 * A load that failed: the load endpoint's 400, as in Triton, saying which version failed and why in one
 * line (the full error, a traceback say, is in the log). `cause` is the error itself.
 */
export class ModelLoadError extends RequestError {
  override readonly cause: unknown;

  constructor(message: string, cause: unknown) {
    super(400, message);
    this.cause = cause;
  }
}

/** An error's first line: a PythonError's type, message and where it was raised, without the traceback. */
export const firstLine = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
