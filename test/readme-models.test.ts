// Keeps the README's "Serving saved models" and "A model repository" true: the examples it shows are the shipped files, and they print what their comments say.
import { cpSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { PYTHON, ROOT, tempDir } from './helpers.js';

const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const EXAMPLES = path.join(ROOT, 'examples');

/** What an example's `console.log(…); // text` lines say they print, in order. */
function promised(file: string): string[] {
  return readFileSync(path.join(EXAMPLES, file), 'utf8').split('\n')
    .map((line) => /console\.log\(.*\);\s*\/\/\s*(.*)$/.exec(line)?.[1]?.trim())
    .filter((text): text is string => text !== undefined);
}

const printed = (stdout: string): string[] => stdout.trim().split('\n').map((line) => line.trim());

describe('README: saved models and a model repository', () => {
  it.each(['saved-models/predict.mjs', 'repository/make-repo.sh', 'repository/client.mjs'])('shows examples/%s exactly', (name) => {
    const block = new RegExp(`<!-- example:${name.replace(/[./]/g, '\\$&')} -->\\n\`\`\`\\w+\\n([\\s\\S]*?)\`\`\``).exec(readme);
    expect(block?.[1]).toBe(readFileSync(path.join(EXAMPLES, name), 'utf8'));
  });

  it('train.py, predict.mjs, make-repo.sh, pyudf serve --repository and client.mjs work as the README runs them', async () => {
    const dir = tempDir('readme-models-');
    const run = (command: string, args: string[]) => execa(command, args, { cwd: dir, env: { PYUDF_PYTHON: PYTHON } });
    await run(PYTHON, [path.join(EXAMPLES, 'saved-models', 'train.py'), 'models']);
    // predict.mjs imports 'pyudf': run it where that resolves, as the README does, from the repository.
    const predict = await execa('node', [path.join(EXAMPLES, 'saved-models', 'predict.mjs'), path.join(dir, 'models')], { cwd: ROOT });
    expect(printed(predict.stdout)).toEqual(promised('saved-models/predict.mjs'));

    await run('bash', [path.join(EXAMPLES, 'repository', 'make-repo.sh'), 'models', 'repo']);
    expect(readme).toContain('npx pyudf serve --repository repo --grpc-port 8001');
    const server = execa('node', [path.join(ROOT, 'dist', 'cli', 'main.js'), 'serve', '--repository', 'repo', '--grpc-port', '0', '--port', '0', '--workers', '1'],
      { cwd: dir, env: { PYUDF_PYTHON: PYTHON }, reject: false });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let text = '';
        server.stderr!.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          const match = /serving repo at (http:\S+)/.exec(text);
          if (match) resolve(match[1]!);
        });
        void server.then(() => reject(new Error(`pyudf serve exited: ${text}`)));
      });
      const client = await execa('node', [path.join(EXAMPLES, 'repository', 'client.mjs'), url, path.join(dir, 'models'), path.join(dir, 'repo')], { cwd: ROOT });
      expect(printed(client.stdout)).toEqual(promised('repository/client.mjs'));
    } finally {
      server.kill('SIGTERM');
      expect((await server).exitCode).toBe(0);
    }
  }, 240_000);
});
