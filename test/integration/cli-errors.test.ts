// `pyudf` exit codes and messages: 1 the UDF failed, 2 usage, 3 Python environment, 130 interrupted;
// one clear line (plus the Python traceback), never a Node stack trace.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, PYTHON } from '../helpers.js';
import { runCli } from '../fixtures/cli_run.js';

let dir: string;
const file = (name: string): string => path.join(dir, name);
/** A Node stack frame: "    at fn (file.js:1:2)". */
const NODE_STACK = /^\s+at .+:\d+:\d+\)?$/m;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pyudf-cli-errors-'));
  execFileSync(PYTHON, ['-c', `
import pyarrow as pa
t = pa.table({"x": [1.0, 2.0, -3.0]})
with pa.OSFile(${JSON.stringify(file('neg.arrows'))}, "wb") as f, pa.ipc.new_stream(f, t.schema) as w:
    w.write_table(t)
`]);
  execFileSync(PYTHON, [fixture('cli_tables.py'), 'make', '200000', file('rows.arrows')]);
  writeFileSync(file('misfit.csv'), `n,s\n1,a\n2,b\n3.5,c\n`);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('pyudf exit codes', () => {
  it('--help for the program and every subcommand exits 0 and documents the exit codes (which ones: cli-help tests)', async () => {
    for (const args of [['--help'], ['apply', '--help'], ['serve', '--help'], ['types', '--help'], ['doctor', '--help']]) {
      const result = await runCli(args);
      expect(result.code, args.join(' ')).toBe(0);
      expect(result.stdout).toContain('Usage: pyudf');
      expect(result.stdout).toMatch(/^Exit codes.*:\n {2}0 {2}/m);
    }
  });

  it('1 and the Python traceback when apply() raises', async () => {
    const result = await runCli(['apply', fixture('failing.py'), '--workers', '1', '-i', file('neg.arrows'), '-o', file('out.arrow')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('pyudf: ValueError: negative input -3.0');
    expect(result.stderr).toContain('Traceback (most recent call last):');
    expect(result.stderr).toContain(`line 12, in check`);
    expect(result.stderr).not.toMatch(NODE_STACK);
    expect(existsSync(file('out.arrow'))).toBe(false);
    expect(readdirSync(dir).filter((name) => name.includes('.partial'))).toEqual([]);
  });

  it('1 and the user\'s file and line, without pyudf\'s or importlib\'s frames, for a module that cannot be imported', async () => {
    writeFileSync(file('typo.py'), 'import math\n\ndef apply(state, batch)\n    return batch\n');
    writeFileSync(file('helper_fails.py'), 'x = 1\nraise ValueError("helper broke")\n');
    writeFileSync(file('uses_helper.py'), 'import helper_fails\n\ndef apply(state, batch):\n    return batch\n');
    const typo = await runCli(['apply', file('typo.py'), '--workers', '1', '-i', file('neg.arrows'), '-o', file('out.arrow')]);
    expect(typo.code).toBe(1);
    expect(typo.stderr.split('\n')[0]).toBe(`pyudf: SyntaxError: expected ':' (typo.py, line 3) (${file('typo.py')}:3 in <module>) — raised in load() of UDF "typo"`);
    const helper = await runCli(['apply', file('uses_helper.py'), '--workers', '1', '-i', file('neg.arrows'), '-o', file('out.arrow')]);
    expect(helper.code).toBe(1);
    expect(helper.stderr.split('\n')[0]).toBe(`pyudf: ValueError: helper broke (${file('helper_fails.py')}:2 in <module>) — raised in load() of UDF "uses_helper"`);
    expect(helper.stderr).toContain(`File "${file('uses_helper.py')}", line 1, in <module>`);
    for (const { stderr } of [typo, helper]) {
      expect(stderr).not.toMatch(/pyudf\/(loader|schemas)\.py|<frozen importlib/);
      expect(stderr).not.toMatch(NODE_STACK);
    }
  });

  it.each(['parquet', 'csv', 'arrow'])('1 and no %s file when apply() raises late in the input, after output was written', async (format) => {
    writeFileSync(file('late.py'), 'def apply(state, batch):\n    if max(batch.column(0).to_pylist()) >= 250_000:\n        raise ValueError("late failure")\n    return batch\n');
    execFileSync(PYTHON, ['-c', `
import pyarrow as pa
t = pa.table({"x": pa.array(range(300_000), pa.float64())})
with pa.OSFile(${JSON.stringify(file('long.arrows'))}, "wb") as f, pa.ipc.new_stream(f, t.schema) as w:
    w.write_table(t, max_chunksize=10_000)
`]);
    const out = file(`late.${format}`);
    const result = await runCli(['apply', file('late.py'), '--workers', '1', '--batch-size', '10000', '-i', file('long.arrows'), '-o', out]);
    expect(result.stderr).toContain('pyudf: ValueError: late failure');
    expect(result.code).toBe(1);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((name) => name.includes('.partial'))).toEqual([]);
  });

  it.each([
    ['an unknown flag', ['apply', fixture('identity.py'), '-i', 'x.csv', '-o', 'y.csv', '--frobnicate'], /unknown option '--frobnicate'/],
    ['a missing input file', ['apply', fixture('identity.py'), '-i', 'missing.parquet', '-o', 'y.csv'], /no such file: .*missing\.parquet/],
    ['a missing module', ['apply', 'nope.py', '-i', 'x.csv', '-o', 'y.csv'], /no such file: .*nope\.py/],
    ['an unknown output extension', ['apply', fixture('identity.py'), '-i', 'in.csv', '-o', 'y.xlsx'], /pass --output-format/],
    ['a bad --workers', ['apply', fixture('identity.py'), '-i', 'x.csv', '-o', 'y.csv', '--workers', 'many'], /expected a whole number/],
    ['a bad --conf', ['serve', fixture('identity.py'), '--conf', 'novalue'], /expected key=value/],
    ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
  ])('2 for %s', async (_, args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(NODE_STACK);
  });

  it('2, naming the row and column, when a CSV value does not fit the type inferred for its column', async () => {
    const result = await runCli(['apply', fixture('identity.py'), '--workers', '1', '--batch-size', '2', '-i', file('misfit.csv'), '-o', file('m.csv')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('CSV data row 3 (header not counted): column "n" has "3.5", but it was inferred as int64 from the first 2 rows');
  });

  it('3 and the fix when the Python interpreter does not exist', async () => {
    const result = await runCli(['apply', fixture('identity.py'), '--python', '/nonexistent/python3', '-i', file('neg.arrows'), '-o', file('o.arrow')]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/cannot run the Python interpreter \(ENOENT\)/);
    expect(result.stderr).toContain('fix:');
  });

  it('130 on SIGINT, stopping the workers and leaving no output file', async () => {
    let child: { kill(signal: NodeJS.Signals): boolean; stderr: NodeJS.ReadableStream | null } | undefined;
    const run = runCli(['apply', fixture('sleepy.py'), '--workers', '1', '--conf', 'seconds=30', '-i', file('rows.arrows'), '-o', file('never.arrow')], {
      started: (spawned) => { child = spawned; },
    });
    // The first progress line comes once the pool is up and the first batch is in flight.
    await new Promise<void>((resolve) => child!.stderr!.on('data', (chunk: Buffer) => { if (String(chunk).includes('rows')) resolve(); }));
    child!.kill('SIGINT');
    const result = await run;
    expect(result.code).toBe(130);
    expect(result.stderr).toContain('pyudf: interrupted');
    expect(existsSync(file('never.arrow'))).toBe(false);
  });
});
