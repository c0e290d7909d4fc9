// Unit tests of the CLI's pieces: flag parsing, formats, exit codes, CSV typing and quoting, TS generation, progress.
import { PassThrough } from 'node:stream';
import {
  DenseUnion, Dictionary, Field, FixedSizeList, Float32, Float64, Int16, Int32, List, type RecordBatch, Schema, Struct, Table,
  tableFromArrays, TimestampNanosecond, Utf8,
} from 'apache-arrow';
import { CommanderError, InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { accessLog, apacheTime, commonLogLine, jsonLogLine } from '../src/cli/access-log.js';
import { modelInPath } from '../src/serve/router.js';
import { COMMAND_EXIT_CODES, describeError, EXIT, exitCodeFor } from '../src/cli/exit-codes.js';
import { helpWidth, reflow, wrapLine } from '../src/cli/help-text.js';
import { CarriedColumns } from '../src/cli/keep-columns.js';
import { keepSpec, parseKeep } from '../src/cli/keep-flags.js';
import { duration, startProgress } from '../src/cli/progress.js';
import { parseConf, parseNonNegativeInteger, parsePositiveInteger } from '../src/cli/udf-options.js';
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

describe('--keep: carried columns', () => {
  /** Input batches of these sizes (ids 0, 1, … across them), with a `tag` column. */
  const inputs = (sizes: number[]): RecordBatch[] => {
    let next = 0;
    return sizes.map((size) => {
      const id = Float64Array.from({ length: size }, () => next++);
      return tableFromArrays({ id, tag: Array.from(id, (v) => `t${v}`), x: Float64Array.from(id, (v) => v / 2) }).batches[0]!;
    });
  };
  async function* iterate<T>(items: Iterable<T>): AsyncGenerator<T> {
    yield* items;
  }
  /**
   * Runs `sizes` through a fake UDF that returns y = 2x, re-cut into result batches of `outRows` rows
   * regardless of input boundaries (more than the stream does), with `pulled` input batches read ahead.
   */
  async function carry(sizes: number[], outRows: number, keep: string[]): Promise<Table> {
    const carried = await CarriedColumns.open(iterate(inputs(sizes)), { all: false, names: keep }, {});
    const given: RecordBatch[] = [];
    async function* udf(): AsyncGenerator<RecordBatch> {
      const rows: number[] = [];
      for await (const batch of carried.inputs) {
        given.push(batch);
        rows.push(...batch.getChild('x')!.toArray() as Float64Array);
        while (rows.length >= outRows) yield tableFromArrays({ y: Float64Array.from(rows.splice(0, outRows), (v) => 2 * v) }).batches[0]!;
      }
      if (rows.length) yield tableFromArrays({ y: Float64Array.from(rows, (v) => 2 * v) }).batches[0]!;
    }
    const out: RecordBatch[] = [];
    for await (const batch of carried.outputs(udf())) out.push(batch);
    expect(given.every((batch) => batch.schema.fields.length === 3)).toBe(true);
    return new Table(out);
  }

  it.each([
    [[5, 3, 7], 5], [[5, 3, 7], 4], [[5, 3, 7], 1], [[1, 1, 1, 12], 15], [[0, 4, 0, 4], 3],
  ])('pairs result rows with input rows whatever the batch boundaries (inputs %j, results of %i rows)', async (sizes, outRows) => {
    const table = await carry(sizes, outRows, ['tag', 'id']);
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(table.schema.fields.map((f) => f.name)).toEqual(['tag', 'id', 'y']);
    expect(table.numRows).toBe(total);
    const ids = [...table.getChild('id')!];
    expect(ids).toEqual(Array.from({ length: total }, (_, i) => i));
    expect([...table.getChild('tag')!]).toEqual(ids.map((v) => `t${v}`));
    expect([...table.getChild('y')!]).toEqual(ids.map((v) => v));
  });

  it('checks names against the first input batch and the declared output, and a result\'s columns', async () => {
    await expect(CarriedColumns.open(iterate(inputs([2])), { all: false, names: ['id', 'nope'] }, {}))
      .rejects.toThrow('Invalid option "--keep": the input has no column "nope"; its columns are: id, tag, x');
    const declared = new Schema([new Field('tag', new Utf8())]);
    await expect(CarriedColumns.open(iterate(inputs([2])), { all: true }, { output: declared }))
      .rejects.toThrow('Invalid option "--keep-all": "tag" would be in the output twice');
    const carried = await CarriedColumns.open(iterate(inputs([2])), { all: false, names: ['x'] }, {});
    const echo = async function* (): AsyncGenerator<RecordBatch> {
      for await (const batch of carried.inputs) yield batch;
    };
    await expect((async () => { for await (const _ of carried.outputs(echo())) { /* drain */ } })())
      .rejects.toThrow('"x" would be in the output twice');
  });

  it('gives a module that declares INPUT only its declared columns, in the declared order', async () => {
    const input = new Schema([new Field('x', new Float64()), new Field('id', new Float64())]);
    const carried = await CarriedColumns.open(iterate(inputs([3])), { all: false, names: ['tag'] }, { input });
    for await (const batch of carried.inputs) expect(batch.schema.fields.map((f) => f.name)).toEqual(['x', 'id']);
  });

  it('flags: comma-separated and repeatable; --keep and --keep-all exclude each other; no name twice', () => {
    expect(parseKeep(' ts', parseKeep('id,a b'))).toEqual(['id', 'a b', 'ts']);
    expect(() => parseKeep('a,,b')).toThrow(InvalidArgumentError);
    expect(keepSpec({})).toBeUndefined();
    expect(keepSpec({ keepAll: true })).toEqual({ all: true });
    expect(keepSpec({ keep: ['a'] })).toEqual({ all: false, names: ['a'] });
    expect(() => keepSpec({ keep: ['a'], keepAll: true })).toThrow(InvalidOptionError);
    expect(() => keepSpec({ keep: ['a', 'b', 'a'] })).toThrow('names column "a" twice');
  });
});

describe('serve flags and access log', () => {
  it('--max-delay-ms takes 0 and up', () => {
    expect(parseNonNegativeInteger('0')).toBe(0);
    for (const bad of ['-1', '1.5', 'x', '']) expect(() => parseNonNegativeInteger(bad)).toThrow(InvalidArgumentError);
  });

  const record = {
    time: new Date(2026, 0, 5, 7, 8, 9, 123), remoteAddress: '::ffff:10.0.0.7', method: 'POST', url: '/v2/models/m%20x/infer?v=1',
    httpVersion: '1.1', status: 200, bytes: 321, durationMs: 12.34567, model: 'm x', requestId: 'r1', aborted: false,
  };

  it('common: host, [local time with offset], the request line, status and body bytes (- for none)', () => {
    expect(commonLogLine(record)).toBe(`10.0.0.7 - - [${apacheTime(record.time)}] "POST /v2/models/m%20x/infer?v=1 HTTP/1.1" 200 321`);
    expect(apacheTime(record.time)).toMatch(/^05\/Jan\/2026:07:08:09 [+-]\d{4}$/);
    expect(commonLogLine({ ...record, bytes: 0, remoteAddress: undefined, url: '/a"b' })).toBe(`- - - [${apacheTime(record.time)}] "POST /a\\"b HTTP/1.1" 200 -`);
  });

  it('json: time, method, path, status, bytes, duration_ms, model', () => {
    expect(JSON.parse(jsonLogLine(record))).toEqual({
      time: record.time.toISOString(), method: 'POST', path: '/v2/models/m%20x/infer', status: 200, bytes: 321, duration_ms: 12.346, model: 'm x',
    });
    expect(modelInPath('/v2/health/ready')).toBeNull();
    expect(modelInPath('/v2/models/m%20x/infer')).toBe('m x');
    expect(modelInPath('/v2/models/%E0%A4%A')).toBeNull();
  });

  it('writes a line per answered request, none for a client that left, and nothing when off', () => {
    const lines: string[] = [];
    const log = accessLog('json', (line) => lines.push(line))!;
    log(record);
    log({ ...record, aborted: true });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    expect(accessLog('off')).toBeUndefined();
  });
});

describe('help text', () => {
  it('is at most 80 columns wide, narrower on a narrower terminal; piped output follows $COLUMNS', () => {
    expect(helpWidth({ isTTY: true, columns: 200 }, {})).toBe(80);
    expect(helpWidth({ isTTY: true, columns: 72 }, {})).toBe(72);
    expect(helpWidth({ isTTY: false }, { COLUMNS: '60' })).toBe(60);
    expect(helpWidth({ isTTY: false }, {})).toBe(80);
    expect(helpWidth({ isTTY: false }, { COLUMNS: 'wide' })).toBe(80);
  });

  it('reflows paragraphs greedily and keeps indented blocks as written', () => {
    expect(wrapLine('aaa bbb ccc ddd', 7)).toEqual(['aaa bbb', 'ccc ddd']);
    expect(reflow('one two\nthree four five\n\n  keep   this\n  as is\n\nsix', 10)).toBe('one two\nthree four\nfive\n\n  keep   this\n  as is\n\nsix');
  });

  it('lists for each command only the codes it returns', () => {
    expect(Object.fromEntries(Object.entries(COMMAND_EXIT_CODES).map(([name, codes]) => [name, codes.map(([code]) => code)]))).toEqual({
      apply: [0, 1, 2, 3, 130], serve: [0, 1, 2, 3], types: [0, 1, 2, 3], doctor: [0, 2, 3],
    });
  });
});
