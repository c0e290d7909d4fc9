// The CLI finds Python in the nearest .venv above the module's directory when the current directory has none
// above it: `pyudf apply/types/doctor` from anywhere use the project's interpreter.
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers.js';
import { runCli } from '../fixtures/cli_run.js';

let project: string;
let elsewhere: string;
/** The interpreter the CLI should pick: the project's .venv, by the path it is reached through. */
let projectPython: string;
let model: string;
/** No $PYUDF_PYTHON, so the interpreter is looked for. */
const env = { PYUDF_PYTHON: '' };

beforeAll(() => {
  project = tempDir('cli-python-project-');
  // A symlink to this checkout's .venv, as `ln -s` would make one: its bin/python resolves through it.
  symlinkSync(path.join(ROOT, '.venv'), path.join(project, '.venv'));
  projectPython = path.join(project, '.venv', 'bin', 'python');
  mkdirSync(path.join(project, 'models'));
  model = path.join(project, 'models', 'which.py');
  writeFileSync(model, `"""Returns, for every row, the interpreter that ran it."""
import sys

import pyarrow as pa

INPUT = pa.schema([("x", pa.int64())])
OUTPUT = pa.schema([("python", pa.string())])


def apply(state, batch):
    return {"python": pa.array([sys.executable] * batch.num_rows, pa.string())}
`);
  // The current directory of the runs: a temp directory with no .venv in it or above it.
  elsewhere = tempDir('cli-python-cwd-');
  writeFileSync(path.join(elsewhere, 'in.csv'), 'x\n1\n2\n');
});

it('the test\'s working directory has no .venv above it (else the module\'s would not be needed)', () => {
  for (let at = elsewhere; at !== path.dirname(at); at = path.dirname(at)) {
    expect(existsSync(path.join(at, '.venv', 'bin', 'python')), at).toBe(false);
  }
});

it('pyudf doctor MODULE reports the interpreter of the .venv above the module', async () => {
  const result = await runCli(['doctor', model], { cwd: elsewhere, env });
  expect(result.stdout).toContain(`python      ${projectPython}  (chosen from the nearest .venv)`);
  expect(result.code, result.stdout + result.stderr).toBe(0);
  // Without the module, only the current directory counts: python3 on PATH.
  const bare = await runCli(['doctor'], { cwd: elsewhere, env });
  expect(bare.stdout).toContain('(chosen from python3 on PATH)');
});

it('pyudf apply runs the workers (and reads the declared schemas) with that interpreter', async () => {
  const result = await runCli(['apply', model, '-i', 'in.csv', '-o', 'out.csv', '--workers', '1', '--no-progress'], { cwd: elsewhere, env });
  expect(result.code, result.stderr).toBe(0);
  expect(readFileSync(path.join(elsewhere, 'out.csv'), 'utf8')).toBe(`python\n${projectPython}\n${projectPython}\n`);
});

it('pyudf types reads the schemas with that interpreter', async () => {
  const result = await runCli(['types', model], { cwd: elsewhere, env });
  expect(result.code, result.stderr).toBe(0);
  // python3 on PATH, the fallback, has no pyarrow here: it would have failed with exit 3.
  expect(result.stdout).toContain('export const outputSchema');
});
