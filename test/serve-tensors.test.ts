// Tensor ↔ column mapping of the serving front end: every datatype, shapes of rank 1-3, JSON and binary data.
import {
  Binary, Bool, type DataType, Dictionary, Int8, Field, FixedSizeList, Float32, Float64, Int32, Int64, List, Schema, Struct, Table, Uint8, Utf8,
  makeData, makeVector, tableFromArrays, vectorFromArray,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, SchemaError } from '../src/index.js';
import { DATATYPES, type OipDatatype, fromHalfBits, tensorTypeOf, toHalfBits } from '../src/serve/datatypes.js';
import { type RequestTensor, tensorsToTable } from '../src/serve/tensor-decode.js';
import { columnToTensor } from '../src/serve/tensor-encode.js';

/** Sample JSON values per datatype, including each integer type's extremes. */
const SAMPLES: Record<OipDatatype, unknown[]> = {
  BOOL: [true, false, true],
  UINT8: [0, 7, 255],
  UINT16: [0, 7, 65_535],
  UINT32: [0, 7, 4_294_967_295],
  UINT64: [0, 7, 2 ** 53],
  INT8: [-128, 0, 127],
  INT16: [-32_768, 0, 32_767],
  INT32: [-2_147_483_648, 0, 2_147_483_647],
  INT64: [-(2 ** 53), 0, 2 ** 53],
  FP16: [0.5, -2, 65_504],
  FP32: [0.5, -2.25, 2 ** 100],
  FP64: [0.1, -2.5, 1e300],
  BYTES: ['a', '', 'ünïcødé'],
};

const tensor = (name: string, datatype: string, shape: number[], data: unknown): RequestTensor => ({ name, datatype, shape, data });

/** Encodes a column as binary tensor data and concatenates its chunks. */
function binaryOf(table: Table, name: string): Uint8Array {
  const { chunks } = columnToTensor(name, table.getChild(name)!, true, 'm');
  return Buffer.concat(chunks);
}

describe('tensorsToTable / columnToTensor', () => {
  it.each(Object.keys(SAMPLES) as OipDatatype[])('round-trips %s through JSON and binary data', (datatype) => {
    const values = SAMPLES[datatype];
    const table = tensorsToTable([tensor('x', datatype, [3], values)]);
    expect(tensorTypeOf(table.schema.fields[0]!.type as DataType)).toEqual({ datatype, dims: [] });
    expect(String(table.schema.fields[0]!.type)).toBe(String(DATATYPES[datatype].arrow()));
    const json = columnToTensor('x', table.getChild('x')!, false, 'm');
    expect(json.tensor).toEqual({ name: 'x', datatype, shape: [3], data: values });
    const bytes = binaryOf(table, 'x');
    const again = tensorsToTable([tensor('x', datatype, [3], bytes)]);
    expect(columnToTensor('x', again.getChild('x')!, false, 'm').tensor.data).toEqual(values);
    expect(columnToTensor('x', table.getChild('x')!, true, 'm').tensor.parameters).toEqual({ binary_data_size: bytes.byteLength });
  });

  it('lays binary data out as the binary tensor extension says: little-endian, BOOL one byte, BYTES length-prefixed', () => {
    const table = tensorsToTable([
      tensor('i', 'INT32', [2], [1, -2]), tensor('b', 'BOOL', [2], [true, false]), tensor('s', 'BYTES', [2], ['ab', 'c']),
    ]);
    expect([...binaryOf(table, 'i')]).toEqual([1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff]);
    expect([...binaryOf(table, 'b')]).toEqual([1, 0]);
    expect([...binaryOf(table, 's')]).toEqual([2, 0, 0, 0, 97, 98, 1, 0, 0, 0, 99]);
  });

  it('maps shape [N, k] to a fixed-size list and [N, a, b] to nested ones, from flat or nested JSON alike', () => {
    const flat = tensorsToTable([tensor('m', 'FP32', [2, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), tensor('v', 'INT32', [2, 2], [1, 2, 3, 4])]);
    const nested = tensorsToTable([
      tensor('m', 'FP32', [2, 2, 3], [[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]]), tensor('v', 'INT32', [2, 2], [[1, 2], [3, 4]]),
    ]);
    expect(String(flat.schema.fields[0]!.type)).toBe('FixedSizeList[2]<FixedSizeList[3]<Float32>>');
    expect(String(flat.schema.fields[1]!.type)).toBe('FixedSizeList[2]<Int32>');
    expect(flat.numRows).toBe(2);
    expect(nested.toArray().map((r) => JSON.stringify(r))).toEqual(flat.toArray().map((r) => JSON.stringify(r)));
    expect([...flat.getChild('m')!.get(1)!.get(0)!]).toEqual([7, 8, 9]);
    const out = columnToTensor('m', flat.getChild('m')!, false, 'm').tensor;
    expect(out).toMatchObject({ datatype: 'FP32', shape: [2, 2, 3], data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] });
    const binary = tensorsToTable([tensor('m', 'FP32', [2, 2, 3], binaryOf(flat, 'm'))]);
    expect(columnToTensor('m', binary.getChild('m')!, false, 'm').tensor.data).toEqual(out.data);
  });

  it('copies binary data that is not aligned for its type', () => {
    const aligned = new Uint8Array(new Float64Array([1.5, -3]).buffer);
    const shifted = new Uint8Array(17).subarray(1);
    shifted.set(aligned);
    const table = tensorsToTable([tensor('x', 'FP64', [2], shifted)]);
    expect([...table.getChild('x')!]).toEqual([1.5, -3]);
    // A Buffer's slice() is a view, not a copy: the copy must not start at its ArrayBuffer's first byte.
    const inBuffer = Buffer.concat([Buffer.from('{"json": 1}'), aligned]).subarray(11);
    expect([...tensorsToTable([tensor('x', 'FP64', [2], inBuffer)]).getChild('x')!]).toEqual([1.5, -3]);
  });

  it('takes the declared column types: BYTES as Binary, a declared order, declared list field names', () => {
    const declared = new Schema([
      new Field('v', new FixedSizeList(2, new Field('element', new Float64(), false))),
      new Field('blob', new Binary()),
    ]);
    const table = tensorsToTable([
      tensor('blob', 'BYTES', [1], Buffer.from([3, 0, 0, 0, 0xff, 0, 0x80])),
      tensor('v', 'FP64', [1, 2], [1, 2]),
    ], declared);
    expect(table.schema.fields.map((f) => [f.name, String(f.type)])).toEqual([['v', 'FixedSizeList[2]<Float64>'], ['blob', 'Binary']]);
    expect((table.schema.fields[0]!.type as FixedSizeList).children[0]!.name).toBe('element');
    expect([...table.getChild('blob')!.get(0)!]).toEqual([0xff, 0, 0x80]);
  });

  it('builds a declared dictionary column from plain values', () => {
    const declared = new Schema([new Field('c', new Dictionary(new Utf8(), new Int8()))]);
    const table = tensorsToTable([tensor('c', 'BYTES', [3], ['x', 'y', 'x'])], declared);
    expect(String(table.schema.fields[0]!.type)).toBe('Dictionary<Int8, Utf8>');
    expect([...table.getChild('c')!]).toEqual(['x', 'y', 'x']);
  });

  it('builds a declared variable-size list from a tensor of equal rows', () => {
    const declared = new Schema([new Field('seq', new List(new Field('item', new Int32(), true)))]);
    const table = tensorsToTable([tensor('seq', 'INT32', [2, 3], [1, 2, 3, 4, 5, 6])], declared);
    expect([...table.getChild('seq')!.get(1)!]).toEqual([4, 5, 6]);
  });

  it.each([
    ['data length differs from the shape', [tensor('x', 'FP32', [2, 2], [1, 2, 3])], /has 3 values; shape \[2, 2\] needs 4/],
    ['unknown datatype', [tensor('x', 'FP8', [1], [1])], /datatype "FP8"; supported: BOOL/],
    ['rank 0', [tensor('x', 'FP32', [], [1])], /shape \[\]/],
    ['integer out of range', [tensor('x', 'UINT8', [1], [256])], /element 0 is 256; expected an integer in 0..255/],
    ['fraction for an integer', [tensor('x', 'INT32', [1], [1.5])], /element 0 is 1.5/],
    ['string for a number', [tensor('x', 'FP64', [1], ['1'])], /element 0 is "1"; expected a number/],
    ['number for a string', [tensor('x', 'BYTES', [1], [1])], /expected a string/],
    ['binary size differs', [tensor('x', 'FP32', [2], new Uint8Array(7))], /7 bytes of binary data; shape \[2\] of FP32 needs 8/],
    ['truncated BYTES', [tensor('x', 'BYTES', [1], Buffer.from([5, 0, 0, 0, 1]))], /claims 5 bytes/],
    ['invalid UTF-8', [tensor('x', 'BYTES', [1], Buffer.from([1, 0, 0, 0, 0xff]))], /not valid UTF-8/],
    ['row counts differ', [tensor('a', 'FP32', [2], [1, 2]), tensor('b', 'FP32', [3], [1, 2, 3])], /has 3 rows .* "a" has 2/],
    ['a name twice', [tensor('a', 'FP32', [1], [1]), tensor('a', 'FP32', [1], [1])], /given twice/],
    ['no data', [tensor('a', 'FP32', [1], undefined)], /has no data/],
    ['a huge shape with little data', [tensor('a', 'BOOL', [1e15], [true])], /has 1 values; shape \[1000000000000000\] needs 1000000000000000/],
  ])('refuses %s with InvalidInputError', (_, tensors, message) => {
    expect(() => tensorsToTable(tensors)).toThrowError(message);
    expect(() => tensorsToTable(tensors)).toThrow(InvalidInputError);
  });

  it('checks tensors against the declared inputs: names, datatype and dimensions', () => {
    const declared = new Schema([new Field('x', new FixedSizeList(4, new Field('item', new Float32(), true)))]);
    const check = (t: RequestTensor[]): (() => Table) => () => tensorsToTable(t, declared);
    expect(check([tensor('y', 'FP32', [1, 4], [1, 2, 3, 4])])).toThrowError('unknown input "y"; the model takes "x"');
    expect(check([tensor('x', 'FP64', [1, 4], [1, 2, 3, 4])])).toThrowError('input "x" is FP64 [1, 4]; the model takes FP32 [-1, 4]');
    expect(check([tensor('x', 'FP32', [2, 2], [1, 2, 3, 4])])).toThrowError('input "x" is FP32 [2, 2]; the model takes FP32 [-1, 4]');
    const two = new Schema([...declared.fields, new Field('z', new Int32())]);
    expect(() => tensorsToTable([tensor('x', 'FP32', [1, 4], [1, 2, 3, 4])], two)).toThrowError('input "z" is missing');
  });
});

describe('columnToTensor', () => {
  it('encodes a column of several chunks and sliced chunks in row order', () => {
    const whole = tableFromArrays({ x: new Int32Array([0, 1, 2, 3, 4, 5]) });
    const sliced = whole.slice(1, 5);
    const chunked = new Table([...whole.slice(0, 2).batches, ...whole.slice(2).batches]);
    expect(columnToTensor('x', sliced.getChild('x')!, false, 'm').tensor).toMatchObject({ shape: [4], data: [1, 2, 3, 4] });
    expect([...new Int32Array(Uint8Array.from(Buffer.concat(columnToTensor('x', sliced.getChild('x')!, true, 'm').chunks)).buffer)]).toEqual([1, 2, 3, 4]);
    expect(columnToTensor('x', chunked.getChild('x')!, false, 'm').tensor.data).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('encodes sliced bool and nested fixed-size list columns from the right offset', () => {
    const bools = vectorFromArray([true, false, false, true, true, false, true, false, true, true], new Bool()).slice(3, 10);
    expect(columnToTensor('b', bools, false, 'm').tensor.data).toEqual([true, true, false, true, false, true, true]);
    const table = tensorsToTable([tensor('m', 'UINT8', [3, 2, 2], [...Array(12).keys()])]).slice(1);
    expect(columnToTensor('m', table.getChild('m')!, false, 'm').tensor).toMatchObject({ shape: [2, 2, 2], data: [4, 5, 6, 7, 8, 9, 10, 11] });
  });

  it('gives a variable-size list of equal rows its length as a dimension, and refuses a ragged one', () => {
    const equal = vectorFromArray([[1, 2], [3, 4]], new List(new Field('item', new Int32(), true)));
    expect(columnToTensor('l', equal, false, 'm').tensor).toMatchObject({ datatype: 'INT32', shape: [2, 2], data: [1, 2, 3, 4] });
    const ragged = vectorFromArray([[1, 2], [3]], new List(new Field('item', new Int32(), true)));
    expect(() => columnToTensor('l', ragged, false, 'm')).toThrowError(/lists of different lengths \(2 and 1\)/);
  });

  it('refuses nulls and types with no tensor datatype with SchemaError (side output)', () => {
    const nulls = vectorFromArray([1n, null], new Int64());
    expect(() => columnToTensor('n', nulls, false, 'm')).toThrow(SchemaError);
    expect(() => columnToTensor('n', nulls, false, 'm')).toThrowError(/holds nulls/);
    const struct = makeVector(makeData({ type: new Struct([new Field('a', new Uint8())]), length: 0, nullCount: 0, children: [makeData({ type: new Uint8(), length: 0 })] }));
    expect(() => columnToTensor('s', struct, false, 'm')).toThrowError(/output column "s" of UDF "m" is Struct<\{a:Uint8\}>/);
  });

  it('sends 64-bit integers exactly as binary data and as JSON numbers', () => {
    const big = vectorFromArray([2n ** 62n], new Int64());
    expect(columnToTensor('b', big, false, 'm').tensor.data).toEqual([2 ** 62]);
    expect(new BigInt64Array(Uint8Array.from(Buffer.concat(columnToTensor('b', big, true, 'm').chunks)).buffer)[0]).toBe(2n ** 62n);
  });

  it('sends a dictionary column (a pandas categorical) as its values', () => {
    const categories = tableFromArrays({ c: ['x', 'y', 'x'] }).getChild('c')!;
    expect(String(categories.type)).toMatch(/^Dictionary/);
    expect(columnToTensor('c', categories, false, 'm').tensor).toEqual({ name: 'c', datatype: 'BYTES', shape: [3], data: ['x', 'y', 'x'] });
    expect([...Buffer.concat(columnToTensor('c', categories.slice(2), true, 'm').chunks)]).toEqual([1, 0, 0, 0, 120]);
  });

  it('encodes strings of a Utf8 column as JSON strings', () => {
    const strings = vectorFromArray(['x', 'yz'], new Utf8());
    expect(columnToTensor('s', strings, false, 'm').tensor).toEqual({ name: 's', datatype: 'BYTES', shape: [2], data: ['x', 'yz'] });
  });
});

describe('half floats', () => {
  it.each([
    [1, 0x3c00, 1], [-2, 0xc000, -2], [65_504, 0x7bff, 65_504], [1e6, 0x7c00, Infinity], [-Infinity, 0xfc00, -Infinity],
    [2 ** -24, 0x0001, 2 ** -24], [2 ** -26, 0x0000, 0], [0.1, 0x2e66, 0.0999755859375],
    [1 + 2 ** -11, 0x3c00, 1], [1 + 3 * 2 ** -11, 0x3c02, 1 + 2 ** -9],
  ])('rounds %d to binary16 bits %i (nearest, ties to even), which read back as %d', (value, bits, back) => {
    expect(toHalfBits(value)).toBe(bits);
    expect(fromHalfBits(bits)).toBe(back);
  });

  it('keeps NaN a NaN', () => {
    expect(Number.isNaN(fromHalfBits(toHalfBits(NaN)))).toBe(true);
  });
});
