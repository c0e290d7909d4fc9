// Unit tests of the CLI's pieces: flag parsing, formats, exit codes, CSV typing and quoting, TS generation, progress.
import { PassThrough } from 'node:stream';
import {
  DenseUnion, Dictionary, Field, FixedSizeList, Float32, Float64, Int16, Int32, List, Schema, Struct, TimestampNanosecond, Utf8,
} from 'apache-arrow';
import { CommanderError, InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { describeError, EXIT, exitCodeFor } from '../src/cli/exit-codes.js';
import { duration, startProgress } from '../src/cli/progress.js';
import { parseConf, parsePositiveInteger } from '../src/cli/udf-options.js';
import {
  AbortError, InvalidInputError, InvalidOptionError, PythonEnvError, PythonError, RowCountError, SchemaError, WorkerCrashedError,
} from '../src/errors.js';
import { buildColumn, inferKind } from '../src/files/csv-columns.js';
import { formatOf } from '../src/files/format.js';
import { generateTypes } from '../src/types-gen/generate.js';
import { tsType } from '../src/types-gen/ts-type.js';

describe('--conf key=value', () => {
  it('parses the value as JSON when it parses, else keeps the text; later keys add to earlier ones', () => {
    let conf = parseConf('n=3');
    conf = parseConf('name=resnet', conf);
    conf = parseConf('flags=[1,"a"]', conf);
    conf = parseConf('nested={"a":null}', conf);
    conf = parseConf('empty=', conf);
    conf = parseConf('eq=a=b', conf);
    expect(conf).toEqual({ n: 3, name: 'resnet', flags: [1, 'a'], nested: { a: null }, empty: '', eq: 'a=b' });
    expect(() => parseConf('novalue')).toThrow(InvalidArgumentError);
    expect(() => parseConf('=1')).toThrow(/expected key=value/);
  });

  it('--workers and --batch-size take whole numbers of 1 or more', () => {
    expect(parsePositiveInteger('4')).toBe(4);
    for (const bad of ['0', '-1', '1.5', 'x', '']) expect(() => parsePositiveInteger(bad)).toThrow(InvalidArgumentError);
  });
});

describe('formats', () => {
  it('come from the extension, - is an Arrow IPC stream, and an explicit format wins', () => {
    expect(formatOf('a.parquet', undefined, '--input-format')).toBe('parquet');
    expect(formatOf('A.CSV', undefined, '--input-format')).toBe('csv');
    expect(formatOf('a.feather', undefined, '--input-format')).toBe('arrow');
    expect(formatOf('a.arrows', undefined, '--input-format')).toBe('arrow-stream');
    expect(formatOf('-', undefined, '--output-format')).toBe('arrow-stream');
    expect(formatOf('-', 'csv', '--output-format')).toBe('csv');
    expect(() => formatOf('a.xlsx', undefined, '--output-format')).toThrow(/pass --output-format parquet\|csv\|arrow\|arrow-stream/);
    expect(() => formatOf('a.csv', 'json', '--input-format')).toThrow(InvalidOptionError);
  });
});

describe('exit codes', () => {
  const pythonError = new PythonError({
    pythonType: 'ValueError', pythonMessage: 'bad', traceback: 'Traceback (most recent call last):\n  File "m.py", line 1\nValueError: bad\n',
    frames: [], phase: 'apply', udf: 'm', batchIndex: 0,
  });
  it.each([
    ['a Python exception', pythonError, EXIT.UDF_FAILED],
    ['a crashed worker', new WorkerCrashedError({ workerId: 'w0', exitCode: undefined, signal: 'SIGKILL', stderrTail: [], attempts: 2 }), EXIT.UDF_FAILED],
    ['a schema mismatch', new SchemaError({ side: 'output', column: 'y', expected: 'Float64', actual: 'Utf8', udf: 'm' }), EXIT.UDF_FAILED],
    ['a row-count mismatch', new RowCountError({ udf: 'm', batchIndex: 0, expected: 3, actual: 2 }), EXIT.UDF_FAILED],
    ['a bad option', new InvalidOptionError('--input', 'no such file'), EXIT.USAGE],
    ['unreadable input', new InvalidInputError('not CSV'), EXIT.USAGE],
    ['a commander usage error', new CommanderError(1, 'commander.unknownOption', 'unknown'), EXIT.USAGE],
    ['--help', new CommanderError(0, 'commander.helpDisplayed', ''), EXIT.OK],
    ['a missing file', Object.assign(new Error('ENOENT'), { code: 'ENOENT', path: '/x' }), EXIT.USAGE],
    ['a Python environment problem', new PythonEnvError({ python: 'python3', problem: 'no pyarrow', fix: 'pip install pyarrow' }), EXIT.PYTHON_ENV],
    ['an interrupt', new AbortError(), EXIT.INTERRUPTED],
  ])('%s → %i', (_, error, code) => {
    expect(exitCodeFor(error)).toBe(code);
  });

  it('messages are one line plus the Python traceback, without a Node stack', () => {
    const text = describeError(pythonError, false);
    expect(text.split('\n')[0]).toBe('pyudf: ValueError: bad — raised in apply() of UDF "m" on batch 0');
    expect(text).toContain('Traceback (most recent call last):');
    expect(text).not.toMatch(/\n\s+at /);
    expect(describeError(new PythonEnvError({ python: 'py', problem: 'no pyarrow', fix: 'py -m pip install pyarrow' }), false))
      .toBe('pyudf: no pyarrow (interpreter: py)\n  fix: py -m pip install pyarrow');
    expect(describeError(new InvalidOptionError('--input', 'no such file: /x'), false)).toBe('pyudf: Invalid option "--input": no such file: /x');
  });
});

describe('CSV', () => {
  it('infers bool, int64, float64 and text from the values, ignoring empty (null) fields', () => {
    expect(inferKind(['true', 'FALSE', ''])).toBe('bool');
    expect(inferKind(['1', '-2', '', '+3'])).toBe('int64');
    expect(inferKind(['1', '2.5', '1e3', 'nan', '-inf'])).toBe('float64');
    expect(inferKind(['99999999999999999999'])).toBe('float64'); // beyond int64
    expect(inferKind(['1', 'x'])).toBe('utf8');
    expect(inferKind(['', ''])).toBe('utf8');
  });

  it('builds typed columns with nulls, and names the row and column of a value that does not fit', () => {
    const site = { name: 'n', firstRow: 101, inferredFromRows: 100 };
    expect([...buildColumn('int64', ['1', '', '-9223372036854775808'], site)]).toEqual([1n, null, -9223372036854775808n]);
    expect([...buildColumn('float64', ['1.5', 'NaN', ''], site)]).toEqual([1.5, Number.NaN, null]);
    expect([...buildColumn('bool', ['True', '', 'false'], site)]).toEqual([true, null, false]);
    expect([...buildColumn('utf8', ['a', '', 'é, "q"'], site)]).toEqual(['a', null, 'é, "q"']);
    expect(() => buildColumn('int64', ['1', '2.5'], site))
      .toThrow('CSV data row 102 (header not counted): column "n" has "2.5", but it was inferred as int64 from the first 100 rows');
  });
});

describe('TypeScript generation', () => {
  it('maps nested and parameterised types to apache-arrow types and constructors', () => {
    const imports = new Set<string>();
    const list = tsType(new List(new Field('item', new Float32(), true)), imports);
    expect(list).toEqual({ type: 'List<Float32>', value: 'new List(new Field("item", new Float32(), true))' });
    const fixed = tsType(new FixedSizeList(3, new Field('item', new Int16(), false)), imports);
    expect(fixed.type).toBe('FixedSizeList<Int16>');
    expect(tsType(new TimestampNanosecond('UTC'), imports).value).toBe('new TimestampNanosecond("UTC")');
    expect(tsType(new Dictionary(new Utf8(), new Int32()), imports).type).toBe('Dictionary<Utf8, Int32>');
    const struct = tsType(new Struct([new Field('a b', new Float64(), true)]), imports);
    expect(struct.type).toBe('Struct<{ "a b": Float64; }>');
    expect([...imports].sort()).toEqual(['Dictionary', 'Field', 'FixedSizeList', 'Float32', 'Float64', 'Int16', 'Int32', 'List', 'Struct', 'TimestampNanosecond', 'Utf8']);
    expect(() => tsType(new DenseUnion([0], [new Field('a', new Int32())]), imports)).toThrow(/unions are not supported/);
  });

  it('emits only the sides the module declares', () => {
    const source = generateTypes({ input: new Schema([new Field('x', new Float64(), true)]), output: undefined, sources: { input: 'INPUT' } }, 'm.py');
    expect(source).toContain("import { Field, Float64, Schema } from 'apache-arrow';");
    expect(source).toContain('export type Input = {\n  x: Float64;\n};');
    expect(source).toContain('export const inputSchema = new Schema<Input>([\n  new Field("x", new Float64(), true),\n]);');
    expect(source).not.toContain('Output');
  });
});

describe('progress', () => {
  it('prints a plain line a tick when stderr is not a terminal, with % and ETA when the size is known', async () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (chunk: Buffer) => { text += String(chunk); });
    const progress = startProgress({ tty: false, stream: stream as unknown as NodeJS.WriteStream, intervalMs: 20, fraction: () => 0.25 });
    progress.add(1000);
    await new Promise((resolve) => setTimeout(resolve, 70));
    progress.stop('done');
    expect(text).toMatch(/^pyudf: 1000 rows, \d+ rows\/s, 25%, ETA \d+ s$/m);
    expect(text.endsWith('done\n')).toBe(true);
  });

  it('formats durations for the ETA', () => {
    expect(duration(undefined)).toBe('?');
    expect(duration(4.2)).toBe('5 s');
    expect(duration(125)).toBe('2 min 5 s');
    expect(duration(7260)).toBe('2 h 1 min');
  });
});
