// Every Arrow type apache-arrow JS can write, with nulls, round-trips through an identity UDF unchanged
// (dictionaries kept: these tests are about the wire, not about decoding them for apply),
// and pyarrow sees the declared types and values in the worker (not merely a symmetric round trip).
import {
  Binary, Bool, type Data, DataType, DateDay, DateMillisecond, Decimal, Dictionary, Field, FixedSizeList, Float16,
  Float32, Float64, Int8, Int16, Int32, Int64, LargeBinary, LargeUtf8, List, makeData, Null, RecordBatch, Schema,
  Struct, Table, TimestampMicrosecond, TimestampMillisecond, TimestampNanosecond, Uint8, Uint16, Uint32, Uint64,
  Utf8, util, Vector, vectorFromArray,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../../src/index.js';
import { startPool } from '../helpers.js';

const N = 10;
/** Rows per batch: 10 rows become 4 batches, three of them slices at offsets 3, 6 and 9. */
const BATCH_SIZE = 3;
const TZ = 'Europe/Paris';

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const F32_MAX = 3.4028234663852886e38;
const F32_MIN_SUBNORMAL = 1.401298464324817e-45;
const bytes = (...xs: number[]): Uint8Array => Uint8Array.from(xs);

/** Two's-complement little-endian 32-bit words of a decimal's unscaled value, as apache-arrow stores it. */
function decimalWords(unscaled: bigint, bitWidth: 128 | 256): Uint32Array {
  const words = new Uint32Array(bitWidth / 32);
  let v = BigInt.asUintN(bitWidth, unscaled);
  for (let i = 0; i < words.length; i++, v >>= 32n) words[i] = Number(v & 0xffffffffn);
  return words;
}

/** The unscaled value written as pyarrow's decimal.Decimal would print it. */
function decimalText(unscaled: bigint, scale: number): string {
  const digits = (unscaled < 0n ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  return `${unscaled < 0n ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

type Cell = unknown;
interface Column {
  /** The vector's Data (one chunk). */
  data: Data;
  /** What pyarrow should see per row (see encodeForPython); null for a null row. */
  python: Cell[];
  nullable?: boolean;
  metadata?: Map<string, string>;
}

function fromValues(type: DataType, values: Cell[]): Data {
  const vector = vectorFromArray(values as never[], type) as Vector;
  expect(vector.data).toHaveLength(1);
  return vector.data[0]!;
}

/** A fixed-width column from raw values (timestamps, dates: the builders round through milliseconds). */
function fromRaw(type: DataType, values: (bigint | number | null)[], ArrayType: BigInt64ArrayConstructor | Int32ArrayConstructor): Data {
  const valid = values.map((v) => v !== null);
  const raw = ArrayType === BigInt64Array
    ? BigInt64Array.from(values, (v) => BigInt(v ?? 0))
    : Int32Array.from(values, (v) => Number(v ?? 0));
  return makeData({
    type, length: values.length, nullCount: valid.filter((v) => !v).length,
    nullBitmap: util.packBools(valid), data: raw,
  } as never) as Data;
}

function same<T>(values: T[]): { data: (type: DataType) => Data; python: T[] } {
  return { data: (type) => fromValues(type, values), python: values };
}

function columns(): Record<string, Column> {
  const i8 = same([-128, 127, 0, null, -1, 1, null, 42, -42, 100]);
  const i16 = same([-32768, 32767, 0, null, -1, 1, 300, null, -300, 7]);
  const i32 = same([-2147483648, 2147483647, 0, -1, null, 1, 65536, -65536, null, 9]);
  const i64 = same([I64_MIN, I64_MAX, 0n, -1n, 1n, null, 2n ** 53n + 1n, -(2n ** 53n) - 1n, null, 123456789012345n]);
  const u8 = same([0, 255, 1, null, 128, 127, null, 200, 2, 3]);
  const u16 = same([0, 65535, 1, 32768, null, 2, 3, null, 4, 5]);
  const u32 = same([0, 4294967295, 1, 2147483648, 2, null, 3, 4, 5, null]);
  const u64 = same([0n, 2n ** 64n - 1n, 1n, 2n ** 63n, null, 2n ** 53n + 1n, null, 5n, 6n, 7n]);
  const f16 = same([0, -0, NaN, Infinity, -Infinity, 65504, null, 1.5, 6.103515625e-5, null]);
  const f32 = same([NaN, -0, Infinity, -Infinity, F32_MAX, F32_MIN_SUBNORMAL, null, 1.5, -2.25, null]);
  const f64 = same([NaN, -0, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, null, 0.1, -1e300, null]);
  const bool = same([true, false, null, true, true, false, null, false, true, null]);
  const strings = ['', 'héllo', '日本語', null, '🎉 emoji', 'a\u0000b', null, 'x'.repeat(100), 'tab\tnew\nline', 'z'];
  const binaries = [bytes(), bytes(0, 255), null, bytes(1, 2, 3), bytes(0), null, bytes(...Array(40).fill(7)), bytes(128), bytes(9), bytes(10)];
  const days = [-719162, 0, 1, null, 19716, 2932896, null, -1, 365, 10957];
  const millis = [-62135596800000n, 0n, 86400000n, null, 1703462400000n, 253402214400000n, null, -86400000n, 31536000000n, 946684800000n];
  const stamps = [I64_MIN + 1n, -1n, 0n, 1n, null, 1_700_000_000_123_456_789n, null, I64_MAX, 86_400_000_000_000n, -123_456_789n];
  const unscaled = [0n, 1n, -1n, 10n ** 20n - 1n, -(10n ** 20n - 1n), null, 123456789012n, null, -50000n, 42n];
  const unscaled256 = [0n, 10n ** 40n - 1n, -(10n ** 40n - 1n), null, 1n, -1n, null, 12345n, 2n ** 200n, 7n];
  const lists = [[1, 2], [], null, [null, 3], [2147483647, -2147483648], null, [5], [], [6, 7, 8, 9], [null]];
  const triples = [[1, 2, 3], null, [NaN, -0, Infinity], [null, 1, 2], null, [4, 5, 6], [-1.5, 0, 1.5], [7, null, 9], [0, 0, 0], null];
  const structs = [
    { a: 1, b: 'x' }, null, { a: null, b: 'y' }, { a: 2, b: null }, { a: null, b: null },
    { a: 3, b: 'ü' }, null, { a: -4, b: '' }, { a: 5, b: 'z' }, { a: 6, b: 'w' },
  ];
  const labels = ['a', 'b', null, 'a', 'c', null, 'b', 'b', 'a', 'c'];

  const timestamp = (name: string, unit: 'ms' | 'us' | 'ns', tz: string | null): [string, Column] => {
    const Ctor = { ms: TimestampMillisecond, us: TimestampMicrosecond, ns: TimestampNanosecond }[unit];
    return [name, { data: fromRaw(new Ctor(tz), stamps, BigInt64Array), python: stamps }];
  };
  const decimal = (precision: number, scale: number, bitWidth: 128 | 256, values: (bigint | null)[]): Column => ({
    data: fromValues(new Decimal(scale, precision, bitWidth), values.map((v) => (v === null ? null : decimalWords(v, bitWidth)))),
    python: values.map((v) => (v === null ? null : { $decimal: decimalText(v, scale) })),
  });

  return {
    row: { data: fromValues(new Int32(), [...Array(N).keys()]), python: [...Array(N).keys()], nullable: false },
    i8: { data: i8.data(new Int8()), python: i8.python, metadata: new Map([['note', 'field metadata survives']]) },
    i16: { data: i16.data(new Int16()), python: i16.python },
    i32: { data: i32.data(new Int32()), python: i32.python },
    i64: { data: i64.data(new Int64()), python: i64.python },
    u8: { data: u8.data(new Uint8()), python: u8.python },
    u16: { data: u16.data(new Uint16()), python: u16.python },
    u32: { data: u32.data(new Uint32()), python: u32.python },
    u64: { data: u64.data(new Uint64()), python: u64.python },
    f16: { data: f16.data(new Float16()), python: f16.python },
    f32: { data: f32.data(new Float32()), python: f32.python },
    f64: { data: f64.data(new Float64()), python: f64.python },
    bool: { data: bool.data(new Bool()), python: bool.python },
    utf8: { data: fromValues(new Utf8(), strings), python: strings },
    large_utf8: { data: fromValues(new LargeUtf8(), strings), python: strings },
    binary: { data: fromValues(new Binary(), binaries), python: binaries },
    large_binary: { data: fromValues(new LargeBinary(), binaries), python: binaries },
    date_day: { data: fromRaw(new DateDay(), days, Int32Array), python: days },
    date_ms: { data: fromRaw(new DateMillisecond(), millis, BigInt64Array), python: millis },
    ...Object.fromEntries([
      timestamp('ts_ms', 'ms', null), timestamp('ts_us', 'us', null), timestamp('ts_ns', 'ns', null),
      timestamp('ts_ms_paris', 'ms', TZ), timestamp('ts_us_paris', 'us', TZ), timestamp('ts_ns_paris', 'ns', TZ),
    ]),
    decimal128: decimal(20, 4, 128, unscaled),
    decimal256: decimal(40, 2, 256, unscaled256),
    list_i32: { data: fromValues(new List(new Field('item', new Int32(), true)), lists), python: lists },
    fsl_f32: { data: fromValues(new FixedSizeList(3, new Field('item', new Float32(), true)), triples), python: triples },
    struct: {
      data: fromValues(new Struct([new Field('a', new Int32(), true), new Field('b', new Utf8(), true)]), structs),
      python: structs,
    },
    dict: { data: fromValues(new Dictionary(new Utf8(), new Int32()), labels), python: labels },
    null: { data: makeData({ type: new Null(), length: N }) as Data, python: Array(N).fill(null) },
  };
}

/** pyarrow's type for each column, as the worker must see it. */
const PY_SCHEMA = `pa.schema([
    pa.field("row", pa.int32(), nullable=False),
    pa.field("i8", pa.int8(), metadata={"note": "field metadata survives"}),
    pa.field("i16", pa.int16()), pa.field("i32", pa.int32()), pa.field("i64", pa.int64()),
    pa.field("u8", pa.uint8()), pa.field("u16", pa.uint16()), pa.field("u32", pa.uint32()), pa.field("u64", pa.uint64()),
    pa.field("f16", pa.float16()), pa.field("f32", pa.float32()), pa.field("f64", pa.float64()),
    pa.field("bool", pa.bool_()),
    pa.field("utf8", pa.string()), pa.field("large_utf8", pa.large_string()),
    pa.field("binary", pa.binary()), pa.field("large_binary", pa.large_binary()),
    pa.field("date_day", pa.date32()), pa.field("date_ms", pa.date64()),
    pa.field("ts_ms", pa.timestamp("ms")), pa.field("ts_us", pa.timestamp("us")), pa.field("ts_ns", pa.timestamp("ns")),
    pa.field("ts_ms_paris", pa.timestamp("ms", tz="Europe/Paris")),
    pa.field("ts_us_paris", pa.timestamp("us", tz="Europe/Paris")),
    pa.field("ts_ns_paris", pa.timestamp("ns", tz="Europe/Paris")),
    pa.field("decimal128", pa.decimal128(20, 4)), pa.field("decimal256", pa.decimal256(40, 2)),
    pa.field("list_i32", pa.list_(pa.field("item", pa.int32()))),
    pa.field("fsl_f32", pa.list_(pa.field("item", pa.float32()), 3)),
    pa.field("struct", pa.struct([pa.field("a", pa.int32()), pa.field("b", pa.string())])),
    pa.field("dict", pa.dictionary(pa.int32(), pa.string())),
    pa.field("null", pa.null()),
], metadata={"origin": "pyudf types test"})`;

/**
 * A UDF that returns its batch after checking, in Python, that the schema is PY_SCHEMA (types, units,
 * time zones, precision, nullability, metadata) and every value is the one sent (conf: row → value).
 */
const CHECKING_UDF = `
import decimal
import math

import pyarrow as pa

EXPECTED = ${PY_SCHEMA}


def decode(v):
    if isinstance(v, dict) and len(v) == 1 and next(iter(v)).startswith("$"):
        (tag, text), = v.items()
        return {"$int": int, "$float": float, "$hex": bytes.fromhex, "$decimal": decimal.Decimal}[tag](text)
    if isinstance(v, dict):
        return {k: decode(x) for k, x in v.items()}
    if isinstance(v, list):
        return [decode(x) for x in v]
    return v


def same(got, want):
    if isinstance(want, float) or isinstance(got, float):
        if got is None or want is None:
            return got is want
        got, want = float(got), float(want)
        return (math.isnan(got) and math.isnan(want)) or (got == want and math.copysign(1, got) == math.copysign(1, want))
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(same(g, w) for g, w in zip(got, want))
    if isinstance(want, dict):
        return isinstance(got, dict) and got.keys() == want.keys() and all(same(got[k], want[k]) for k in want)
    return type(got) is type(want) and got == want


def python_values(column):
    t = column.type
    if pa.types.is_timestamp(t) or pa.types.is_date64(t):
        column = column.view(pa.int64())  # raw values: to_pylist would round nanoseconds
    elif pa.types.is_date32(t):
        column = column.view(pa.int32())
    values = column.to_pylist()
    if pa.types.is_float16(t):
        values = [None if v is None else float(v) for v in values]
    return values


def init(conf):
    return {name: decode(rows) for name, rows in conf.items()}


def apply(expected, batch):
    if not batch.schema.equals(EXPECTED, check_metadata=True):
        raise AssertionError(f"pyarrow sees schema\\n{batch.schema}\\nexpected\\n{EXPECTED}")
    rows = batch.column("row").to_pylist()
    for name, want in expected.items():
        for row, got in zip(rows, python_values(batch.column(name))):
            if not same(got, want[row]):
                raise AssertionError(f"{name}[{row}]: pyarrow sees {got!r}, expected {want[row]!r}")
    return batch
`;

/** JSON for the checking UDF's conf: values pyarrow's to_pylist should give, with exact numbers tagged. */
function encodeForPython(value: Cell): JsonValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return { $int: value.toString() };
  if (typeof value === 'number') {
    if (Object.is(value, -0)) return { $float: '-0.0' };
    return Number.isFinite(value) ? value : { $float: String(value) };
  }
  if (value instanceof Uint8Array) return { $hex: Buffer.from(value).toString('hex') };
  if (Array.isArray(value)) return value.map(encodeForPython);
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeForPython(v)]));
  }
  return value as JsonValue;
}

function buildTable(): Table {
  const cols = columns();
  const fields = Object.entries(cols).map(([name, c]) => new Field(name, c.data.type, c.nullable ?? true, c.metadata));
  const schema = new Schema(fields, new Map([['origin', 'pyudf types test']]));
  const children = Object.values(cols).map((c) => c.data);
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length: N, nullCount: 0, children }));
  return new Table(batch);
}

function pythonConf(): JsonValue {
  return Object.fromEntries(Object.entries(columns()).map(([name, c]) => [name, c.python.map(encodeForPython)]));
}

/** A cell as plain data for toEqual: bigints as-is, typed arrays (binary, decimals) and rows unwrapped. */
function plain(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Vector) return [...value].map(plain);
  if (ArrayBuffer.isView(value)) return { [value.constructor.name]: Array.from(value as unknown as ArrayLike<number | bigint>) };
  if (typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return Object.fromEntries(Object.entries((value as { toJSON(): object }).toJSON()).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/** Exact bytes of each fixed-width value (null where invalid): what get() would round or hide (NaN payloads). */
function rawCells(vector: Vector): (number[] | null)[] {
  const out: (number[] | null)[] = [];
  for (const data of vector.data) {
    const values = data.values as ArrayBufferView & { BYTES_PER_ELEMENT: number };
    const width = values.BYTES_PER_ELEMENT * data.stride;
    for (let j = 0; j < data.length; j++) {
      // Data.slice() already moved `values` to the slice's first value; only validity keeps the offset.
      out.push(data.getValid(j) ? Array.from(new Uint8Array(values.buffer, values.byteOffset + j * width, width)) : null);
    }
  }
  return out;
}

const isFixedWidth = (type: DataType): boolean =>
  DataType.isInt(type) || DataType.isFloat(type) || DataType.isDate(type) || DataType.isTimestamp(type) || DataType.isDecimal(type);

/**
 * util.compareTypes, except that (1) it checks `instanceof` one way only, so a built `Int32` and the
 * `Int` that IPC decoding yields differ in one direction, and (2) it compares dictionary ids, which are
 * a stream's numbering (pyarrow renumbers them), not part of the type.
 */
function sameType(a: DataType, b: DataType): boolean {
  if (DataType.isDictionary(a) && DataType.isDictionary(b)) {
    return a.isOrdered === b.isOrdered && sameType(a.indices, b.indices) && sameType(a.dictionary, b.dictionary);
  }
  return util.compareTypes(a, b) || util.compareTypes(b, a);
}

function expectSameTable(actual: Table, expected: Table): void {
  expect(actual.numRows).toBe(expected.numRows);
  const describeFields = (t: Table) => t.schema.fields.map((f) => ({
    name: f.name, type: String(f.type), nullable: f.nullable, metadata: Object.fromEntries(f.metadata),
  }));
  expect(describeFields(actual)).toEqual(describeFields(expected));
  expect(Object.fromEntries(actual.schema.metadata)).toEqual(Object.fromEntries(expected.schema.metadata));
  for (const [i, field] of expected.schema.fields.entries()) {
    const other = actual.schema.fields[i]!;
    expect(sameType(field.type, other.type), `${field.name}: ${String(other.type)}`).toBe(true);
    const type = other.type as DataType & Record<string, unknown>;
    for (const key of ['timezone', 'unit', 'precision', 'scale', 'bitWidth', 'listSize', 'isSigned', 'isOrdered']) {
      expect(type[key], `${field.name}.${key}`).toEqual((field.type as DataType & Record<string, unknown>)[key]);
    }
    if (DataType.isDictionary(field.type)) {
      expect(String((type as unknown as Dictionary).indices)).toBe(String(field.type.indices));
    }
  }
  for (const field of expected.schema.fields) {
    const want = expected.getChild(field.name)!;
    const got = actual.getChild(field.name)!;
    // Counted row by row, as a Null vector built in JS reports nullCount -1 once sliced or empty (and
    // isValid() true for its rows); every row of a Null column is null.
    let nulls = DataType.isNull(field.type) ? expected.numRows : 0;
    if (!DataType.isNull(field.type)) for (let row = 0; row < expected.numRows; row++) nulls += want.isValid(row) ? 0 : 1;
    expect(got.nullCount, `${field.name} null count`).toBe(nulls);
    // get() on dates and timestamps converts to milliseconds as a JS number: it throws beyond 2^53 and
    // drops sub-millisecond digits, so those are compared by their raw bytes alone.
    const viaGet = !DataType.isDate(field.type) && !DataType.isTimestamp(field.type);
    for (let row = 0; row < expected.numRows; row++) {
      expect(got.isValid(row), `${field.name}[${row}] validity`).toBe(want.isValid(row));
      // toEqual compares numbers with Object.is: NaN equals NaN, and -0 must stay -0.
      if (viaGet) expect(plain(got.get(row)), `${field.name}[${row}]`).toEqual(plain(want.get(row)));
    }
    if (isFixedWidth(field.type)) expect(rawCells(got), `${field.name} raw bytes`).toEqual(rawCells(want));
  }
}

describe('Arrow types through an identity UDF', () => {
  it('builds the input it means to (every column but row has nulls; special floats kept)', () => {
    const table = buildTable();
    expect(table.numRows).toBe(N);
    expect(table.batches).toHaveLength(1);
    for (const field of table.schema.fields) {
      if (field.name !== 'row') expect(table.getChild(field.name)!.nullCount, field.name).toBeGreaterThan(0);
    }
    expect(Object.is(table.getChild('f64')!.get(1), -0)).toBe(true);
    expect(Object.is(table.getChild('f16')!.get(1), -0)).toBe(true);
    expect(table.getChild('f32')!.get(0)).toBeNaN();
    expect(table.getChild('i64')!.get(0)).toBe(I64_MIN);
    expect(table.getChild('u64')!.get(1)).toBe(2n ** 64n - 1n);
    expect(String(table.schema.fields.find((f) => f.name === 'ts_ns_paris')!.type)).toBe(`Timestamp<NANOSECOND, ${TZ}>`);
  });

  it('returns every column unchanged, through 4 sliced batches on 2 workers', async () => {
    const table = buildTable();
    const pool = await startPool({ workers: 2 });
    const udf = await pool.register({ code: 'def apply(state, batch):\n    return batch\n', batchSize: BATCH_SIZE, keepDictionaries: true });
    const result = await udf.apply(table);
    expect(result.batches.map((b) => b.numRows)).toEqual([3, 3, 3, 1]);
    expectSameTable(result, table);
  });

  it('shows pyarrow the declared types and the exact values in the worker', async () => {
    const table = buildTable();
    const pool = await startPool({ workers: 2 });
    const udf = await pool.register({ code: CHECKING_UDF, conf: pythonConf(), batchSize: BATCH_SIZE, keepDictionaries: true });
    expectSameTable(await udf.apply(table), table);
    // A batch of the same schema whose rows start mid-table: the worker must see the same values.
    expectSameTable(await udf.apply(table.slice(4)), table.slice(4));
  });

  it('returns zero rows of the same schema for a zero-row input', async () => {
    const table = buildTable();
    const pool = await startPool({ workers: 2 });
    const identity = await pool.register({ code: 'def apply(state, batch):\n    return batch\n', batchSize: BATCH_SIZE, keepDictionaries: true });
    const checking = await pool.register({ code: CHECKING_UDF, conf: pythonConf(), batchSize: BATCH_SIZE, keepDictionaries: true });
    for (const empty of [new Table(table.schema), table.slice(0, 0)]) {
      expect(empty.numRows).toBe(0);
      for (const udf of [identity, checking]) {
        const result = await udf.apply(empty);
        expect(result.numRows).toBe(0);
        expectSameTable(result, empty);
      }
    }
  });

  it('accepts every type under declared input and output schemas built separately from the data', async () => {
    // Declared the way users do: a schema built on its own, so its Dictionary type has another id
    // (apache-arrow numbers dictionary types from a global counter; pyarrow renumbers them again).
    const declared = buildTable().schema;
    const table = buildTable();
    const pool = await startPool({ workers: 2 });
    const udf = await pool.register({
      code: 'def apply(state, batch):\n    return batch\n', batchSize: BATCH_SIZE, keepDictionaries: true, input: declared, output: declared,
    });
    expectSameTable(await udf.apply(table), table);
  });

  it('accepts a RecordBatch and a table of several uneven batches', async () => {
    const table = buildTable();
    const pool = await startPool({ workers: 2 });
    const udf = await pool.register({ code: 'def apply(state, batch):\n    return batch\n', batchSize: BATCH_SIZE, keepDictionaries: true });
    const batch = table.batches[0]!;
    expectSameTable(await udf.apply(batch), table);
    const uneven = new Table([batch.slice(0, 1), batch.slice(1, 5), batch.slice(5, 10)]);
    const result = await udf.apply(uneven);
    expect(result.batches.map((b) => b.numRows)).toEqual([1, 3, 1, 3, 2]);
    expectSameTable(result, table);
  });
});
