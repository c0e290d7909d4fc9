// `pyudf apply`: every format pairing round-trips 2M rows through an identity UDF, in bounded memory,
// with exit codes and messages that say what went wrong.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, PYTHON } from '../helpers.js';
import { execa } from 'execa';
import { CLI, type CliRun, runCli } from '../fixtures/cli_run.js';

const ROWS = 2_000_000;
/** csv-parse reads about 200k rows/s here; a smaller CSV keeps the suite fast and proves the same. */
const CSV_ROWS = 200_000;
const IDENTITY = fixture('identity.py');
const TABLES = fixture('cli_tables.py');

let dir: string;
const file = (name: string): string => path.join(dir, name);
/** Asserts with pyarrow that two files hold equal tables (schema and values). */
const expectEqualTables = (a: string, b: string): void => {
  const out = execFileSync(PYTHON, [TABLES, 'equal', file(a), file(b)], { encoding: 'utf8' });
  expect(out).toContain('equal');
};
const apply = (args: string[], options: CliRun = {}) => runCli(['apply', IDENTITY, '--workers', '2', ...args], options);

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pyudf-cli-'));
  // One table, built once, in every input format (the CSV holds its first CSV_ROWS rows).
  execFileSync(PYTHON, [TABLES, 'make', String(ROWS), '--csv-rows', String(CSV_ROWS), ...['in.parquet', 'in.arrow', 'in.arrows', 'in.csv'].map(file)]);
  execFileSync(PYTHON, [TABLES, 'make', '100000', file('small.arrows')]);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('pyudf apply: the module\'s declared schemas', () => {
  it('types CSV columns by the declared INPUT and checks the result against OUTPUT', async () => {
    writeFileSync(file('ints.csv'), 'id\n1\n2\n3\n');
    const result = await runCli(['apply', fixture('cli_declared_float.py'), '-i', file('ints.csv'), '-o', file('ints-out.csv')]);
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(file('ints-out.csv'), 'utf8')).toBe('id,kind\n1,double\n2,double\n3,double\n');
  });
});

describe('pyudf apply: formats round-trip through an identity UDF', () => {
  it('Parquet → Arrow IPC file', async () => {
    const result = await apply(['-i', file('in.parquet'), '-o', file('out.arrow')]);
    expect(result.stderr).toContain(`wrote ${ROWS} rows to ${file('out.arrow')}`);
    expect(result.code).toBe(0);
    expectEqualTables('in.parquet', 'out.arrow');
  });

  it('Arrow IPC file → Parquet, with no partial file left beside it', async () => {
    const result = await apply(['-i', file('in.arrow'), '-o', file('out.parquet')]);
    expect(result.code, result.stderr).toBe(0);
    expectEqualTables('in.arrow', 'out.parquet');
    expect(readdirSync(dir).filter((name) => name.includes('.partial'))).toEqual([]);
  });

  it('CSV → CSV, with column types inferred (int64, float64, string, bool, nulls)', async () => {
    const result = await apply(['-i', file('in.csv'), '-o', file('out.csv'), '--batch-size', '50000']);
    expect(result.code, result.stderr).toBe(0);
    expectEqualTables('in.csv', 'out.csv');
  });

  it('stdin → stdout as Arrow IPC streams, so it composes in a pipe', async () => {
    const result = await apply(['-i', '-', '-o', '-', '--no-progress'], { stdinFile: file('in.arrows'), stdoutFile: file('out.arrows') });
    expect(result.code, result.stderr).toBe(0);
    expectEqualTables('in.arrows', 'out.arrows');
  });

  it('prints plain progress lines when stderr is not a terminal', async () => {
    const result = await runCli(['apply', fixture('sleepy.py'), '--workers', '2', '--conf', 'seconds=0.2', '--batch-size', '10000',
      '-i', file('small.arrows'), '-o', file('slow.arrows')]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^pyudf: \d+ rows, \d+ rows\/s, \d+%, ETA /m);
  });

  it('draws a progress bar (rows, rows/s, ETA) on a terminal', async () => {
    // script(1) runs the CLI on a pseudo-terminal, as a user's shell would.
    const command = [process.execPath, CLI, 'apply', fixture('sleepy.py'), '--workers', '2', '--conf', 'seconds=0.2',
      '--batch-size', '10000', '-i', file('small.arrows'), '-o', file('tty.arrows')].map((a) => `'${a}'`).join(' ');
    const { stdout } = await execa('script', ['-qec', command, '/dev/null'], { env: { ...process.env, PYUDF_PYTHON: PYTHON } });
    expect(stdout).toMatch(/rows\/s/);
    expect(stdout).toMatch(/ETA/);
    expect(stdout).not.toMatch(/^pyudf: \d+ rows, \d+ rows\/s, \d+%, ETA /m);
  });
});
