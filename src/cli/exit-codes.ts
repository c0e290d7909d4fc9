// What the `pyudf` process exits with, and the one-line message it prints, for every kind of failure.
import { CommanderError } from 'commander';
import { AbortError, InvalidInputError, InvalidOptionError, PythonEnvError, PythonError, PyUdfError } from '../errors.js';

export const EXIT = {
  OK: 0,
  /** The UDF failed: a Python exception, a crashed worker, a schema or row-count mismatch, a timeout. */
  UDF_FAILED: 1,
  /** Bad flags, a missing or unreadable input file, an output that cannot be written. */
  USAGE: 2,
  /** The Python interpreter is missing or lacks pyarrow/pyzmq/numpy. */
  PYTHON_ENV: 3,
  /** Interrupted (SIGINT/SIGTERM), as shells report 128 + SIGINT. */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The `--help` epilog and README text for the codes above. */
export const EXIT_CODES_HELP = `Exit codes:
  0    success
  1    the UDF failed (Python exception, crashed worker, schema or row-count mismatch, timeout)
  2    usage error (bad flags, missing or unreadable input, unwritable output)
  3    Python environment problem (interpreter missing, or pyarrow/pyzmq/numpy not importable)
  130  interrupted`;

/** Errors of the user's files or flags that are not PyUdfErrors: fs errors on paths they named. */
const USAGE_ERRNOS = new Set(['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR', 'EROFS', 'ENOSPC', 'EPERM']);

export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  if (error instanceof AbortError) return EXIT.INTERRUPTED;
  if (error instanceof PythonEnvError) return EXIT.PYTHON_ENV;
  if (error instanceof InvalidOptionError || error instanceof InvalidInputError) return EXIT.USAGE;
  if (error instanceof PyUdfError) return EXIT.UDF_FAILED;
  if (isErrno(error) && USAGE_ERRNOS.has(error.code)) return EXIT.USAGE;
  return EXIT.UDF_FAILED;
}

/**
 * The text printed to stderr: one line saying what to fix, plus the Python traceback for a Python
 * exception. No Node stack trace unless PYUDF_DEBUG is set, since it would point at pyudf, not at the fix.
 */
export function describeError(error: unknown, debug = Boolean(process.env['PYUDF_DEBUG'])): string {
  if (debug && error instanceof Error && error.stack) return `pyudf: ${error.stack}`;
  if (error instanceof PythonError) {
    const summary = error.message.split('\n')[0]!;
    return `pyudf: ${summary}\n${error.traceback.trimEnd()}`;
  }
  if (error instanceof AbortError) return 'pyudf: interrupted; a file output was not written (stdout may hold a partial stream)';
  if (error instanceof PythonEnvError) return `pyudf: ${error.problem} (interpreter: ${error.python})\n  fix: ${error.fix}`;
  if (isErrno(error) && error.path) return `pyudf: cannot access ${error.path}: ${error.code}`;
  const message = error instanceof Error ? error.message : String(error);
  return `pyudf: ${message}`;
}

function isErrno(error: unknown): error is NodeJS.ErrnoException & { code: string } {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string'
    && (error as NodeJS.ErrnoException).code!.startsWith('E');
}
