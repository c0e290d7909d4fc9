// Keeps the README true: its quick start is exactly examples/quickstart/, and those files work.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it, vi } from 'vitest';
import { ROOT } from './helpers.js';

const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const example = (name: string) => readFileSync(path.join(ROOT, 'examples', name.endsWith('.sh') ? 'cli' : 'quickstart', name), 'utf8');

describe('README', () => {
  it('starts with the set-up commands that .ci/run runs', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    const commands = firstBlock.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
    expect(commands).toEqual(['npm install', 'npm test', 'npm run demo']);
    const ci = readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8');
    expect(ci.split('\n').filter((l) => l.startsWith('npm '))).toEqual(commands);
  });

  it.each(['model.py', 'main.mjs', 'typed.ts', 'stream.mjs', 'rows.mjs', 'serve.mjs', 'score-csv.sh'])('shows example %s exactly', (name) => {
    const block = new RegExp(`<!-- quickstart:${name.replace('.', '\\.')} -->\\n\`\`\`\\w+\\n([\\s\\S]*?)\`\`\``).exec(readme);
    expect(block?.[1]).toBe(example(name));
  });

  it('quick start prints what its comments say, using ./.venv/bin/python found by default', async () => {
    const env = { ...process.env };
    delete env['PYUDF_PYTHON'];
    const { stdout } = await execa('node', ['examples/quickstart/main.mjs'], { cwd: ROOT, env, extendEnv: false });
    expect(stdout).toContain('Float64Array(3) [ 20.5, 41, 61.5 ]');
    expect(stdout).toMatch(/ValueError \{\s+file: '.*examples\/quickstart\/model\.py',\s+line: 13,\s+function: 'apply'/);
  });

  it('CLI example scores its CSV', async () => {
    const { stdout } = await execa('bash', ['examples/cli/score-csv.sh'], { cwd: ROOT });
    expect(stdout.trim()).toBe('score\n20.5\n41\n61.5');
  });

  it.each([
    ['stream.mjs', '[ 0, 20.5, 41, 61.5, 82, 2050 ]'],
    ['rows.mjs', '{ score: 2501.5 } 5000 calls in 5 batches'],
    ['serve.mjs', 'score [ 20.5, 41 ]'],
  ])('%s prints what its comment says', async (name, expected) => {
    const { stdout } = await execa('node', [`examples/quickstart/${name}`], { cwd: ROOT });
    expect(stdout.trim()).toBe(expected);
  });

  it('typed quick start runs', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await import(path.join(ROOT, 'examples', 'quickstart', 'typed.ts'));
      expect(log).toHaveBeenCalledWith(new Float64Array([20.5, 41, 61.5]));
    } finally {
      log.mockRestore();
    }
  });
});
