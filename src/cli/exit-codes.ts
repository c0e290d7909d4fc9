// What the `pyudf` process exits with, and the one-line message it prints, for every kind of failure.
import { CommanderError } from 'commander';
import { AbortError, InvalidInputError, InvalidOptionError, PythonEnvError, PythonError, PyUdfError } from '../errors.js';
import { definitionList } from './help-text.js';

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

/** The subcommands of `pyudf`. */
export type CommandName = 'apply' | 'serve' | 'types' | 'doctor';

/**
 * The codes each command can exit with, and what each means for it: its `--help` lists exactly these.
 * (`types` and `doctor` install no signal handlers: an interrupt ends them by the signal, not with 130.)
 */
export const COMMAND_EXIT_CODES: Readonly<Record<CommandName, readonly (readonly [ExitCode, string])[]>> = {
  apply: [
    [EXIT.OK, 'success: every row was written'],
    [EXIT.UDF_FAILED, 'the UDF failed (a Python exception, a crashed worker, a schema or row-count mismatch, a timeout)'],
    [EXIT.USAGE, 'usage error (bad flags, a module that is not a .py file, a missing or unreadable input, an unwritable output, a --keep column the input lacks or the UDF returns too)'],
    [EXIT.PYTHON_ENV, 'Python environment problem (the interpreter is missing, or pyarrow/pyzmq/numpy do not import)'],
    [EXIT.INTERRUPTED, 'interrupted by SIGINT or SIGTERM (no output file is left)'],
  ],
  serve: [
    [EXIT.OK, 'stopped by SIGINT or SIGTERM, after in-flight requests finished'],
    [EXIT.UDF_FAILED, 'the server could not start or stop cleanly: the module or its init raised, the port is taken, or a second signal stopped it without waiting'],
    [EXIT.USAGE, 'usage error (bad flags, a module that is missing or not a .py file)'],
    [EXIT.PYTHON_ENV, 'Python environment problem (the interpreter is missing, or pyarrow/pyzmq/numpy do not import)'],
  ],
  types: [
    [EXIT.OK, 'the TypeScript module was written'],
    [EXIT.UDF_FAILED, 'importing the module raised a Python exception'],
    [EXIT.USAGE, 'usage error (bad flags, a module that is missing, not a .py file or declares no schemas, an unwritable --out)'],
    [EXIT.PYTHON_ENV, 'Python environment problem (the interpreter is missing, or pyarrow does not import)'],
  ],
  doctor: [
    [EXIT.OK, 'ready: the interpreter runs and the required packages import'],
    [EXIT.USAGE, 'usage error (bad flags, a module that is missing or not a .py file)'],
    [EXIT.PYTHON_ENV, 'not ready: the interpreter is missing or too old, or a required package does not import'],
  ],
};

/** What each code means across the commands, for `pyudf --help`. */
const PROGRAM_EXIT_CODES: readonly (readonly [ExitCode, string])[] = [
  [EXIT.OK, 'success'],
  [EXIT.UDF_FAILED, 'the UDF failed (apply, serve, types)'],
  [EXIT.USAGE, 'usage error (bad flags, a missing or unreadable file)'],
  [EXIT.PYTHON_ENV, 'Python environment problem (interpreter missing, or a required package does not import)'],
  [EXIT.INTERRUPTED, 'interrupted (apply)'],
];

/** The "Exit codes:" section of a command's `--help` (or the program's, without a command), wrapped to `width`. */
export function exitCodesHelp(command: CommandName | undefined, width: number): string {
  const codes = command ? COMMAND_EXIT_CODES[command] : PROGRAM_EXIT_CODES;
  const title = command ? 'Exit codes:' : 'Exit codes (each command\'s --help says what they mean for it):';
  return `${title}\n${definitionList(codes.map(([code, meaning]) => [String(code), meaning]), width)}`;
}

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
