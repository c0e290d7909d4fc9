// How a local worker process ended, turned into the error each party needs: crash, failed start, bad environment.
import { type ProtocolError, PythonEnvError, type PyUdfError, WorkerCrashedError } from '../errors.js';
import { ENV_ERROR_PREFIX, EXIT_ENV } from '../protocol/wire.js';
import { installAdvice } from '../python/install-advice.js';
import type { ExecutorExit } from '../scheduler/executor.js';
import type { WorkerExit } from './worker-process.js';

export class LocalWorkerExit implements ExecutorExit {
  readonly permanent: boolean;

  constructor(
    private readonly workerId: string,
    private readonly python: string,
    private readonly exit: WorkerExit,
    private readonly stderrTail: readonly string[],
    /** Set when the worker broke the protocol: reported instead of the kill that followed. */
    private readonly protocolError: ProtocolError | undefined,
    /** Why the pool killed the worker (` after using … MB, over memoryLimitMb=…`), appended to its crash report. */
    private readonly killReason = '',
  ) {
    this.permanent = exit.spawnError !== undefined || this.envLine() !== undefined;
  }

  crashError(attempts: number, detail = ''): PyUdfError {
    const { exitCode, signal } = this.exit;
    return new WorkerCrashedError({
      workerId: this.workerId, exitCode, signal, stderrTail: this.stderrTail, attempts, detail: `${this.killReason}${detail}`,
    });
  }

  startError(detail: string): PyUdfError {
    if (this.protocolError) return this.protocolError;
    const { spawnError, exitCode, signal } = this.exit;
    if (spawnError) {
      return new PythonEnvError({
        python: this.python,
        problem: `cannot run the Python interpreter (${spawnError.code ?? spawnError.message})`,
        fix: 'install Python 3.9 or newer, or point the "python" option or $PYUDF_PYTHON at an interpreter',
        cause: spawnError,
      });
    }
    const envLine = this.envLine();
    if (envLine) {
      return new PythonEnvError({
        python: this.python, problem: `the worker cannot import ${envLine.slice(ENV_ERROR_PREFIX.length)}`, fix: installAdvice(this.python),
      });
    }
    return new WorkerCrashedError({ workerId: this.workerId, exitCode, signal, stderrTail: this.stderrTail, detail: `${this.killReason}${detail}` });
  }

  /** The worker's `pyudf-env-error:` line, when it exited because it cannot import what it needs (protocol.md §4). */
  private envLine(): string | undefined {
    if (this.exit.exitCode !== EXIT_ENV) return undefined;
    return [...this.stderrTail].reverse().find((line) => line.startsWith(ENV_ERROR_PREFIX));
  }
}
