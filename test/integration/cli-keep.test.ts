// `pyudf apply --keep id,ts` / `--keep-all`: input columns carried into the output beside the UDF's,
// row for row, in every format, in bounded memory; names the input lacks or the UDF returns too are usage errors.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, fixture, PYTHON, ROOT, tempDir } from '../helpers.js';
import { type CliRun, runCli } from '../fixtures/cli_run.js';

/** More than one Arrow batch (65 536 rows each) and many --batch-size batches, so result batches split input batches. */
const ROWS = 150_000;
const BATCH_SIZE = '10000';
const MB = 1024 * 1024;

let dir: string;
const file = (name: string): string => path.join(dir, name);
/** Returns `doubled` = 2 × id, computed from the id column the UDF is given: a misaligned kept id shows. */
let doubler: string;

/**
 * Checks with pyarrow that `output` holds `kept` (equal to the input's columns, row for row) followed by
 * the UDF's `doubled`, which must be twice the kept id on every row.
 */
const expectKept = (input: string, output: string, kept: string[]): void => {
  const check = `
import sys
sys.path.insert(0, ${JSON.stringify(FIXTURES)})
import cli_tables as t
import pyarrow.compute as pc
source, out, kept = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
a, b = t.read(source, t.format_of(source)), t.read(out, t.format_of(out))
assert b.column_names == kept + ["doubled"], b.column_names
assert b.num_rows == a.num_rows, (b.num_rows, a.num_rows)
for name in kept:
    assert b.column(name).type == a.column(name).type, (name, b.column(name).type, a.column(name).type)
    assert b.column(name).equals(a.column(name)), f"column {name} differs"
assert pc.all(pc.equal(b.column("doubled"), pc.multiply(b.column("id"), 2))).as_py(), "rows are misaligned"
print("kept", b.num_rows)
`;
  expect(execFileSync(PYTHON, ['-c', check, input, output, kept.join(',')], { encoding: 'utf8' })).toContain(`kept ${ROWS}`);
};

const apply = (module: string, args: string[], options: CliRun = {}) =>
  runCli(['apply', module, '--workers', '2', '--no-progress', '--batch-size', BATCH_SIZE, ...args], options);

beforeAll(() => {
  dir = tempDir('cli-keep-');
  execFileSync(PYTHON, [fixture('cli_tables.py'), 'make', String(ROWS), ...['in.parquet', 'in.arrow', 'in.arrows', 'in.csv'].map(file)]);
  doubler = file('doubler.py');
  writeFileSync(doubler, [
    'import pyarrow.compute as pc',
    '',
    '',
    'def apply(state, batch):',
    '    return {"doubled": pc.multiply(batch.column("id"), 2)}',
    '',
  ].join('\n'));
});

describe('pyudf apply --keep: every format', () => {
  it.each([
    ['in.parquet', 'out.arrow'],
    ['in.arrow', 'out.parquet'],
    ['in.csv', 'out.csv'],
    ['in.arrows', 'out.arrows'],
  ])('%s → %s', async (input, output) => {
    const result = await apply(doubler, ['-i', file(input), '-o', file(output), '--keep', 'id,name', '--keep', 'flag']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`wrote ${ROWS} rows`);
    expectKept(file(input), file(output), ['id', 'name', 'flag']);
  });

  it('stdin → stdout (Arrow IPC streams), --keep-all in the input\'s order', async () => {
    const result = await apply(doubler, ['-i', '-', '-o', '-', '--keep-all'], { stdinFile: file('in.arrows'), stdoutFile: file('piped.arrows') });
    expect(result.code, result.stderr).toBe(0);
    expectKept(file('in.arrows'), file('piped.arrows'), ['id', 'x', 'name', 'flag']);
  });

  it('a module that declares INPUT gets only its declared columns, and the kept ones go past it', async () => {
    writeFileSync(file('scores.csv'), 'id,a,b,note\n7,1,10,x\n8,2,20,y\n9,3,30,\n');
    const result = await runCli(['apply', path.join(ROOT, 'examples', 'cli', 'model.py'), '-i', file('scores.csv'), '-o', file('scores-out.csv'),
      '--conf', 'weights=[0.5,2]', '--workers', '1', '--keep', 'id, note']);
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(file('scores-out.csv'), 'utf8')).toBe('id,note,score\n7,x,20.5\n8,y,41\n9,,61.5\n');
  });
});

describe('pyudf apply --keep: usage errors (exit 2)', () => {
  it('names the columns that exist when a kept column is not in the input, before any worker starts', async () => {
    const started = Date.now();
    const result = await apply(doubler, ['-i', file('in.parquet'), '-o', file('bad.arrow'), '--keep', 'id,nmae']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Invalid option "--keep": the input has no column "nmae"; its columns are: id, x, name, flag');
    expect(existsSync(file('bad.arrow'))).toBe(false);
    // No pool: the check reads the first batch only.
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('says so when a kept column is also a column the UDF returns (found in its first result), and leaves no output', async () => {
    const result = await apply(fixture('identity.py'), ['-i', file('in.arrow'), '-o', file('twice.csv'), '--keep', 'flag,id']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Invalid option "--keep": "flag", "id" would be in the output twice: kept from the input and returned by the UDF');
    expect(existsSync(file('twice.csv'))).toBe(false);
    expect(readdirSync(dir).filter((name) => name.includes('.partial'))).toEqual([]);
  });

  it('says so when a kept column is in the declared OUTPUT, before any worker starts', async () => {
    writeFileSync(file('has-score.csv'), 'a,b,score\n1,2,3\n');
    const result = await runCli(['apply', path.join(ROOT, 'examples', 'cli', 'model.py'), '-i', file('has-score.csv'), '-o', file('x.csv'), '--keep-all']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Invalid option "--keep-all": "score" would be in the output twice');
  });

  it.each([
    [['--keep', 'id', '--keep-all'], /option '--keep-all' cannot be used with option '--keep <columns>'/],
    [['--keep', 'id,,name'], /expected column names separated by commas, got "id,,name"/],
    [['--keep', 'id', '--keep', 'id'], /names column "id" twice/],
  ])('%j', async (flags, message) => {
    const result = await apply(doubler, ['-i', file('in.csv'), '-o', file('y.csv'), ...flags]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});

it('keeps every column of a 256 MB Arrow file with a peak RSS far below its size (nothing buffered beyond the batches in flight)', async () => {
  const rows = 4_000_000; // 8 float64 columns: 256 MB
  execFileSync(PYTHON, [fixture('cli_tables.py'), 'make', String(rows), '--wide', file('wide.arrow')]);
  writeFileSync(file('sum.py'), 'import pyarrow.compute as pc\n\n\ndef apply(state, batch):\n    return {"s": pc.add(batch.column("c0"), batch.column("c1"))}\n');
  const result = await runCli(['apply', file('sum.py'), '--workers', '2', '--no-progress', '-i', file('wide.arrow'), '-o', file('wide-out.arrows'), '--keep-all']);
  expect(result.code, result.stderr).toBe(0);
  expect(result.stderr).toContain(`wrote ${rows} rows`);
  const check = `
import sys, pyarrow as pa, pyarrow.compute as pc
with pa.OSFile(sys.argv[1], "rb") as f:
    t = pa.ipc.open_stream(f).read_all()
assert t.column_names == [f"c{i}" for i in range(8)] + ["s"], t.column_names
assert pc.all(pc.equal(t.column("s"), pc.add(t.column("c0"), t.column("c1")))).as_py()
print("rows", t.num_rows)`;
  expect(execFileSync(PYTHON, ['-c', check, file('wide-out.arrows')], { encoding: 'utf8' })).toContain(`rows ${rows}`);
  console.log(`pyudf apply --keep-all, 256 MB Arrow file: CLI peak RSS ${Math.round(result.peakRss / MB)} MB`);
  expect(result.peakRss).toBeGreaterThan(0);
  expect(result.peakRss).toBeLessThan(200 * MB);
});
