// Arrow result columns to response tensors: JSON `data`, or binary-extension bytes placed after the JSON.
import { type Data, type DataType, type Vector, DataType as Types, makeVector, vectorFromArray } from 'apache-arrow';
import { SchemaError } from '../errors.js';
import { type OipDatatype, fromHalfBits, tensorTypeOf } from './datatypes.js';

export interface ResponseTensor {
  readonly name: string;
  readonly datatype: OipDatatype;
  readonly shape: readonly number[];
  readonly data?: readonly unknown[];
  readonly parameters?: { readonly binary_data_size: number };
}

/** A response tensor and, when sent as binary, the byte chunks that follow the JSON header in order. */
export interface EncodedTensor {
  readonly tensor: ResponseTensor;
  readonly chunks: readonly Uint8Array[];
}

/** What an output column must be to travel as a tensor; named in the error when it is not. */
const TENSOR_TYPES = 'a tensor: bool, int, float, utf8 or binary, or (fixed-size) lists of equal length of them, without nulls';

/**
 * One result column as a tensor of shape [rows, ...dims]: fixed-size lists give their size; variable-size
 * lists are accepted when every row has the same length (a ragged column has no tensor shape). Throws
 * SchemaError (side "output") for a column that cannot be a tensor; `udf` names the model in it.
 */
export function columnToTensor(name: string, column: Vector, binary: boolean, udf: string): EncodedTensor {
  const fail = (actual: string): SchemaError => new SchemaError({ side: 'output', column: name, expected: TENSOR_TYPES, actual, udf });
  const tensorType = tensorTypeOf(column.type as DataType);
  if (typeof tensorType === 'string') throw fail(String(column.type));
  const dims = [...tensorType.dims];
  const leaves = column.data.map((chunk) => leafOf(chunk as Data, dims, 0, (why) => fail(`${String(column.type)} ${why}`)));
  // A column with no rows has no list to measure a variable dimension by.
  const shape = [column.length, ...dims.map((d) => (d === -1 ? 0 : d))];
  const { datatype } = tensorType;
  if (binary) {
    const chunks = leaves.map((leaf) => leafBytes(leaf, datatype));
    const size = chunks.reduce((sum, c) => sum + c.byteLength, 0);
    return { tensor: { name, datatype, shape, parameters: { binary_data_size: size } }, chunks };
  }
  const data = leaves.flatMap((leaf) => leafJson(leaf, datatype));
  // JSON has no NaN or Infinity (JSON.stringify would write null): say so rather than answer wrong numbers.
  const bad = datatype.startsWith('FP') ? data.findIndex((value) => !Number.isFinite(value)) : -1;
  if (bad >= 0) {
    throw new SchemaError({
      side: 'output', column: name, udf, actual: `${datatype} holding ${String(data[bad])} at element ${bad}`,
      expected: 'finite numbers in JSON (ask for it as binary data, "binary_data": true, or as Arrow, which carry NaN and Infinity)',
    });
  }
  return { tensor: { name, datatype, shape, data }, chunks: [] };
}

/**
 * Descends list levels to the leaf values this chunk covers. Arrow JS keeps a fixed-size list's child
 * sliced to its parent's rows, while a variable list's child is addressed through its offsets.
 */
function leafOf(data: Data, dims: number[], depth: number, fail: (why: string) => SchemaError): Data {
  if (data.nullCount > 0) throw fail('holds nulls, which a tensor cannot represent');
  const type = data.type as DataType;
  if (Types.isFixedSizeList(type)) return leafOf(data.children[0]!, dims, depth + 1, fail);
  if (Types.isList(type) || Types.isLargeList(type)) {
    const offsets = Array.from(data.valueOffsets as ArrayLike<number | bigint>, Number);
    const first = offsets[0] ?? 0;
    for (let i = 0; i < data.length; i++) {
      const size = offsets[i + 1]! - offsets[i]!;
      if (dims[depth] === -1) dims[depth] = size;
      if (size !== dims[depth]) throw fail(`has lists of different lengths (${dims[depth]} and ${size}), so no tensor shape`);
    }
    return leafOf(data.children[0]!.slice(first, offsets[data.length]! - first), dims, depth + 1, fail);
  }
  if (Types.isDictionary(type)) return vectorFromArray([...makeVector(data)], type.dictionary).data[0]!;
  return data;
}

function leafBytes(leaf: Data, datatype: OipDatatype): Uint8Array {
  if (datatype === 'BOOL') return Uint8Array.from({ length: leaf.length }, (_, i) => Number(bitAt(leaf, i)));
  if (datatype === 'BYTES') return lengthPrefixed(leaf);
  // Arrow JS views primitive values from the chunk's first row: no offset to apply, and no copy needed.
  const values = (leaf.values as ArrayBufferView & { BYTES_PER_ELEMENT: number });
  return new Uint8Array(values.buffer, values.byteOffset, leaf.length * values.BYTES_PER_ELEMENT);
}

function leafJson(leaf: Data, datatype: OipDatatype): unknown[] {
  if (datatype === 'BOOL') return Array.from({ length: leaf.length }, (_, i) => bitAt(leaf, i));
  if (datatype === 'BYTES') {
    const decoder = new TextDecoder();
    return elements(leaf).map((bytes) => decoder.decode(bytes));
  }
  const values = (leaf.values as ArrayLike<number | bigint>);
  const out = new Array<number>(leaf.length);
  // JSON numbers are doubles: 64-bit integers beyond 2^53 lose precision here (binary data keeps them exact).
  for (let i = 0; i < leaf.length; i++) out[i] = datatype === 'FP16' ? fromHalfBits(values[i] as number) : Number(values[i]);
  return out;
}

function bitAt(data: Data, index: number): boolean {
  const bit = data.offset + index;
  return ((data.values as Uint8Array)[bit >> 3]! & (1 << (bit & 7))) !== 0;
}

function elements(leaf: Data): Uint8Array[] {
  const offsets = leaf.valueOffsets as ArrayLike<number | bigint>;
  const values = leaf.values as Uint8Array;
  return Array.from({ length: leaf.length }, (_, i) => values.subarray(Number(offsets[i]), Number(offsets[i + 1])));
}

/** Binary BYTES: each element as a 4-byte little-endian length followed by its bytes. */
function lengthPrefixed(leaf: Data): Uint8Array {
  const items = elements(leaf);
  const out = new Uint8Array(items.reduce((sum, item) => sum + 4 + item.byteLength, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const item of items) {
    view.setUint32(at, item.byteLength, true);
    out.set(item, at + 4);
    at += 4 + item.byteLength;
  }
  return out;
}
