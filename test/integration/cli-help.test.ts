// `pyudf --help` and each command's: at most 80 columns (also on wide terminals), paragraphs wrapped
// greedily (no premature breaks), and exactly the exit codes the command can return, each of which it
// does return. A module that is not a .py file is a usage error (exit 2) for every command.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixture, PYTHON, ROOT, tempDir } from '../helpers.js';
import { type CliRun, runCli } from '../fixtures/cli_run.js';

const COMMANDS: Record<string, { args: string[]; codes: number[] }> = {
  pyudf: { args: [], codes: [0, 1, 2, 3, 130] },
  apply: { args: ['apply'], codes: [0, 1, 2, 3, 130] },
  serve: { args: ['serve'], codes: [0, 1, 2, 3] },
  types: { args: ['types'], codes: [0, 1, 2, 3] },
  doctor: { args: ['doctor'], codes: [0, 2, 3] },
};

let dir: string;
const file = (name: string): string => path.join(dir, name);
const MODEL = path.join(ROOT, 'examples', 'cli', 'model.py');

beforeAll(() => {
  dir = tempDir('cli-help-');
  writeFileSync(file('raises.py'), 'raise RuntimeError("broken at import")\n');
  writeFileSync(file('model.txt'), 'def apply(state, batch):\n    return batch\n');
  writeFileSync(file('noext'), 'def apply(state, batch):\n    return batch\n');
  mkdirSync(file('package'));
  writeFileSync(file('package/__init__.py'), 'def apply(state, batch):\n    return batch\n');
  // An interpreter that answers pyudf doctor's first probe but fails its package look-up.
  writeFileSync(file('half-python'), `#!/bin/sh\ncase "$*" in *packages_distributions*) echo "look-up exploded" >&2; exit 1;; esac\nexec ${PYTHON} "$@"\n`);
  chmodSync(file('half-python'), 0o755);
});

/** The codes listed under "Exit codes" in a help text. */
function listedCodes(help: string): number[] {
  const section = help.slice(help.indexOf('Exit codes'));
  return [...section.matchAll(/^ {2}(\d+) {2}/gm)].map((m) => Number(m[1]));
}

/**
 * Lines of prose paragraphs (starting at the margin, not headings or usage lines) that were broken
 * before the next line's first word would have fitted within `width`.
 */
function prematureBreaks(help: string, width: number): string[] {
  const lines = help.split('\n');
  const prose = (line: string | undefined): boolean => !!line && /^\S/.test(line) && !/:$/.test(line) && !line.startsWith('Usage:');
  return lines.flatMap((line, i) => {
    const next = lines[i + 1];
    if (!prose(line) || !prose(next)) return [];
    const word = next!.split(' ')[0]!;
    return line.length + 1 + word.length <= width ? [`${line} / ${next}`] : [];
  });
}

describe('help', () => {
  for (const [name, { args, codes }] of Object.entries(COMMANDS)) {
    it(`${name} --help: lines of at most 80 columns, wrapped without premature breaks, and exit codes ${codes.join(', ')}`, async () => {
      for (const columns of ['80', '200']) {
        const result = await runCli([...args, '--help'], { env: { COLUMNS: columns } });
        expect(result.code).toBe(0);
        const long = result.stdout.split('\n').filter((line) => line.length > 80);
        expect(long, `COLUMNS=${columns}`).toEqual([]);
        expect(prematureBreaks(result.stdout, 80)).toEqual([]);
        expect(listedCodes(result.stdout)).toEqual(codes);
      }
    });
  }

  it('wraps to a narrower terminal\'s width', async () => {
    const result = await runCli(['doctor', '--help'], { env: { COLUMNS: '70' } });
    expect(result.stdout.split('\n').filter((line) => line.length > 70)).toEqual([]);
    expect(prematureBreaks(result.stdout, 70)).toEqual([]);
  });
});

describe('each listed exit code is one the command returns', () => {
  const run = async (args: string[], options: CliRun = {}): Promise<number | null> => (await runCli(args, options)).code;

  it('types: 0 written, 1 the module raised on import, 2 no schemas declared, 3 no interpreter', async () => {
    expect(await run(['types', MODEL])).toBe(0);
    expect(await run(['types', file('raises.py')])).toBe(1);
    expect(await run(['types', fixture('identity.py')])).toBe(2);
    expect(await run(['types', MODEL, '--python', '/nonexistent/python3'])).toBe(3);
  });

  it('serve: 1 the module raised on import, 2 a bad flag, 3 no interpreter (0 on SIGTERM: cli-serve tests)', async () => {
    expect(await run(['serve', file('raises.py'), '--port', '0', '--workers', '1'])).toBe(1);
    expect(await run(['serve', MODEL, '--port', 'http'])).toBe(2);
    expect(await run(['serve', MODEL, '--port', '0', '--python', '/nonexistent/python3'])).toBe(3);
  });

  it('doctor: 0 ready, 2 a bad flag, 3 no interpreter; a failed look-up of the optional packages is reported, not an exit 1', async () => {
    expect(await run(['doctor', '--python', PYTHON])).toBe(0);
    expect(await run(['doctor', '--timeout', 'soon'])).toBe(2);
    expect(await run(['doctor', '--python', '/nonexistent/python3'])).toBe(3);
    const half = await runCli(['doctor', '--python', file('half-python')]);
    expect(half.code, half.stdout + half.stderr).toBe(0);
    expect(half.stdout).toContain('absent    tensorflow   could not be looked up: look-up exploded');
  });
});

describe('a module that is not a .py file is a usage error (exit 2) saying what is accepted', () => {
  const commands: [string, string[]][] = [
    ['apply', ['-i', 'in.csv', '-o', 'out.csv']],
    ['serve', ['--port', '0']],
    ['types', []],
    ['doctor', []],
  ];
  for (const [command, rest] of commands) {
    it.each([
      ['model.txt', 'is a .txt file'],
      ['noext', 'is a file without an extension'],
      ['package', 'is a directory'],
    ])(`${command} %s`, async (name, kind) => {
      const result = await runCli([command, file(name), ...rest], { cwd: dir });
      expect(result.code).toBe(2);
      // serve takes saved models too, and says so.
      const accepted = command === 'serve' ? 'pyudf serves a Python source file (.py) or a saved model (.keras' : 'pyudf loads a UDF from a Python source file (.py)';
      expect(result.stderr).toContain(`${file(name)} ${kind === 'is a directory' && command === 'serve' ? 'is a directory without saved_model.pb' : kind}; ${accepted}`);
    });
  }
});
