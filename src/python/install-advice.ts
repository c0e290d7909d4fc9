// The command that installs the worker's packages, or, for an OS-managed Python (PEP 668), the venv to create instead.
import { execFileSync } from 'node:child_process';
import { installCommand, REQUIREMENTS_FILE } from './package-paths.js';

/** What to run so that `python` can start workers. */
export function installAdvice(python: string): string {
  if (!isExternallyManaged(python)) return installCommand(python);
  // pip refuses to install into it, and --break-system-packages would do just that: a venv is the fix.
  return `${python} is managed by the operating system (PEP 668), so pip will not install into it. `
    + 'Create a virtual environment for your project, which pyudf finds by itself (the nearest .venv):\n'
    + `  ${python} -m venv .venv\n  .venv/bin/python -m pip install -r ${REQUIREMENTS_FILE}`;
}

/** Interpreters already asked, so that a crash loop of failed starts does not run one each time. */
const managed = new Map<string, boolean>();

/** True for a system interpreter marked EXTERNALLY-MANAGED (a venv made from it is not). */
export function isExternallyManaged(python: string): boolean {
  let answer = managed.get(python);
  if (answer === undefined) {
    answer = askExternallyManaged(python);
    managed.set(python, answer);
  }
  return answer;
}

function askExternallyManaged(python: string): boolean {
  const probe = 'import os, sys, sysconfig\n'
    + 'print(sys.prefix == sys.base_prefix and os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")))';
  try {
    return execFileSync(python, ['-c', probe], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim() === 'True';
  } catch {
    return false;
  }
}
