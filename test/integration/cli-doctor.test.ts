// `pyudf doctor`: exit 0 with the project's Python; exit 3 and the exact fix command with a bare venv.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { PYTHON } from '../helpers.js';
import { runCli } from '../fixtures/cli_run.js';

let dir: string | undefined;

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('reports the interpreter, its version and the required packages as ok with the project .venv', async () => {
  const result = await runCli(['doctor', '--python', PYTHON]);
  expect(result.code, result.stdout + result.stderr).toBe(0);
  expect(result.stdout).toContain(`python      ${PYTHON}  (chosen from --python)`);
  expect(result.stdout).toMatch(/^version {5}3\.\d+\.\d+$/m);
  for (const pkg of ['pyarrow', 'pyzmq', 'numpy']) expect(result.stdout).toMatch(new RegExp(`^  ok +${pkg} +\\d`, 'm'));
  // tensorflow is in the project's .venv: found without paying for its import.
  expect(result.stdout).toMatch(/^ {2}found +tensorflow +\d/m);
  expect(result.stdout).toContain('ready: pyudf can start workers with this interpreter');
});

it('exits 3 with the command that fixes each gap in a venv without packages (or pip)', async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pyudf-cli-doctor-'));
  const venv = path.join(dir, 'bare');
  execFileSync(PYTHON, ['-m', 'venv', '--without-pip', venv]);
  const bare = path.join(venv, 'bin', 'python');
  const result = await runCli(['doctor'], { env: { PYUDF_PYTHON: bare } });
  expect(result.code).toBe(3);
  expect(result.stdout).toContain('(chosen from $PYUDF_PYTHON)');
  expect(result.stdout).toMatch(/^ {2}MISSING +pyarrow +ModuleNotFoundError: No module named 'pyarrow'$/m);
  expect(result.stdout).toMatch(new RegExp(`fix: .*${bare.replaceAll('/', '\\/')} -m pip install pyzmq$`, 'm'));
  expect(result.stdout).toMatch(/NOT READY: fix all required packages at once with:\n {2}.* -m pip install -r .*requirements\.txt/);
});

it('exits 3 when the interpreter does not exist', async () => {
  const result = await runCli(['doctor', '--python', '/nonexistent/python3']);
  expect(result.code).toBe(3);
  expect(result.stdout).toContain('cannot run it (ENOENT)');
});
