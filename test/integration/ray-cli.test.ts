// `pyudf apply … --ray`: the CLI runs a UDF on Ray actors of a Ray it starts itself, and stops that Ray after.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { PYTHON, RAY_TEST_ENV, ROOT, tempDir } from '../helpers.js';

it('pyudf apply --ray --actors 1 scores a CSV on a Ray actor, then leaves no Ray process of its own', async () => {
  const dir = tempDir('ray-cli-');
  writeFileSync(path.join(dir, 'in.csv'), 'a,b\n1,10\n2,20\n3,30\n');
  const run = await execa('node', [path.join(ROOT, 'dist', 'cli', 'main.js'), 'apply', path.join(ROOT, 'examples', 'cli', 'model.py'),
    '-i', 'in.csv', '-o', 'out.csv', '--conf', 'weights=[0.5,2]', '--ray', '--actors', '1', '--no-progress', '--python', PYTHON],
  { cwd: dir, env: RAY_TEST_ENV, reject: false });
  expect(run.exitCode, run.stderr).toBe(0);
  expect(readFileSync(path.join(dir, 'out.csv'), 'utf8').trim()).toBe('score\n20.5\n41\n61.5');
  const joined = /joined the Ray cluster at (\S+)/.exec(run.stderr);
  expect(joined, run.stderr).not.toBeNull();
  // The Ray the command started is stopped: its head no longer accepts connections.
  const [host, port] = joined![1]!.split(':');
  const probe = await execa(PYTHON, ['-c', `import socket,sys\ntry:\n socket.create_connection((sys.argv[1], int(sys.argv[2])), 1)\n print("open")\nexcept OSError:\n print("closed")`, host!, port!]);
  expect(probe.stdout).toBe('closed');
});

it('--actors without --ray, and --workers with --ray, are usage errors', async () => {
  const dir = tempDir('ray-cli-flags-');
  writeFileSync(path.join(dir, 'x.csv'), 'a,b\n1,2\n');
  const cli = (args: string[]) => execa('node', [path.join(ROOT, 'dist', 'cli', 'main.js'), 'apply', path.join(ROOT, 'examples', 'cli', 'model.py'), '-i', 'x.csv', '-o', 'y.csv', ...args], { cwd: dir, reject: false });
  const actors = await cli(['--actors', '2']);
  expect(actors.exitCode).toBe(2);
  expect(actors.stderr).toContain('--actors');
  const workers = await cli(['--ray', '--workers', '2']);
  expect(workers.exitCode).toBe(2);
  expect(workers.stderr).toContain('with --ray, give the number of actors as --actors');
});
