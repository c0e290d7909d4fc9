// Open Inference Protocol tensor datatypes, the Arrow types they stand for, and Arrow types back to tensors.
import {
  Bool, type DataType, Field, FixedSizeList, Float16, Float32, Float64, Int16, Int32, Int64, Int8, List, Precision,
  Uint16, Uint32, Uint64, Uint8, Utf8, DataType as Types,
} from 'apache-arrow';

export type OipDatatype =
  | 'BOOL' | 'UINT8' | 'UINT16' | 'UINT32' | 'UINT64' | 'INT8' | 'INT16' | 'INT32' | 'INT64'
  | 'FP16' | 'FP32' | 'FP64' | 'BYTES';

type TypedArrayConstructor =
  | Uint8ArrayConstructor | Uint16ArrayConstructor | Uint32ArrayConstructor | BigUint64ArrayConstructor
  | Int8ArrayConstructor | Int16ArrayConstructor | Int32ArrayConstructor | BigInt64ArrayConstructor
  | Float32ArrayConstructor | Float64ArrayConstructor;

/** How one element of a datatype is stored: `bytes` per element in the binary extension (0: variable). */
export interface DatatypeSpec {
  readonly datatype: OipDatatype;
  readonly bytes: number;
  /** The Arrow type a request tensor of this datatype becomes when the model declares nothing. */
  readonly arrow: () => DataType;
  /** The Arrow values array (FP16 is kept as raw half-float bits, as Arrow stores it). */
  readonly array?: TypedArrayConstructor;
  /** Inclusive bounds for integer JSON values. */
  readonly range?: readonly [number | bigint, number | bigint];
}

const int = (datatype: OipDatatype, bytes: number, arrow: () => DataType, array: TypedArrayConstructor, signed: boolean): DatatypeSpec => {
  const bits = BigInt(bytes * 8);
  const range: [bigint, bigint] = signed ? [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n] : [0n, (1n << bits) - 1n];
  return { datatype, bytes, arrow, array, range };
};

export const DATATYPES: Readonly<Record<OipDatatype, DatatypeSpec>> = {
  BOOL: { datatype: 'BOOL', bytes: 1, arrow: () => new Bool() },
  UINT8: int('UINT8', 1, () => new Uint8(), Uint8Array, false),
  UINT16: int('UINT16', 2, () => new Uint16(), Uint16Array, false),
  UINT32: int('UINT32', 4, () => new Uint32(), Uint32Array, false),
  UINT64: int('UINT64', 8, () => new Uint64(), BigUint64Array, false),
  INT8: int('INT8', 1, () => new Int8(), Int8Array, true),
  INT16: int('INT16', 2, () => new Int16(), Int16Array, true),
  INT32: int('INT32', 4, () => new Int32(), Int32Array, true),
  INT64: int('INT64', 8, () => new Int64(), BigInt64Array, true),
  FP16: { datatype: 'FP16', bytes: 2, arrow: () => new Float16(), array: Uint16Array },
  FP32: { datatype: 'FP32', bytes: 4, arrow: () => new Float32(), array: Float32Array },
  FP64: { datatype: 'FP64', bytes: 8, arrow: () => new Float64(), array: Float64Array },
  BYTES: { datatype: 'BYTES', bytes: 0, arrow: () => new Utf8() },
};

export function isOipDatatype(value: unknown): value is OipDatatype {
  return typeof value === 'string' && Object.hasOwn(DATATYPES, value);
}

/** A column's type seen as a tensor: element datatype and the dimensions after the row dimension (-1: varies). */
export interface TensorType {
  readonly datatype: OipDatatype;
  readonly dims: readonly number[];
}

/**
 * The tensor an Arrow type stands for, or a reason it stands for none. Fixed-size lists add a dimension;
 * variable-size lists add -1 (served only when every row has the same length).
 */
export function tensorTypeOf(type: DataType): TensorType | string {
  const dims: number[] = [];
  let leaf = type;
  while (Types.isFixedSizeList(leaf) || Types.isList(leaf) || Types.isLargeList(leaf)) {
    dims.push(Types.isFixedSizeList(leaf) ? leaf.listSize : -1);
    leaf = leaf.children[0]!.type as DataType;
  }
  const datatype = leafDatatype(leaf);
  return datatype ? { datatype, dims } : `${String(type)} has no tensor datatype`;
}

function leafDatatype(type: DataType): OipDatatype | undefined {
  // A dictionary column (a pandas categorical, say) is sent as its values.
  if (Types.isDictionary(type)) return leafDatatype(type.dictionary);
  if (Types.isBool(type)) return 'BOOL';
  if (Types.isInt(type)) return `${type.isSigned ? 'INT' : 'UINT'}${type.bitWidth}` as OipDatatype;
  if (Types.isFloat(type)) {
    return type.precision === Precision.HALF ? 'FP16' : type.precision === Precision.SINGLE ? 'FP32' : 'FP64';
  }
  if (Types.isUtf8(type) || Types.isLargeUtf8(type) || Types.isBinary(type) || Types.isLargeBinary(type)) return 'BYTES';
  return undefined;
}

/** The Arrow type for a tensor with no declared column: fixed-size lists of `item`, as pyarrow names them. */
export function defaultArrowType(datatype: OipDatatype, dims: readonly number[]): DataType {
  let type = DATATYPES[datatype].arrow();
  for (const dim of [...dims].reverse()) type = new FixedSizeList(dim, new Field('item', type, true));
  return type;
}

/** The child type of a (fixed-size or variable) list type. */
export function childField(type: DataType): Field {
  return (type as FixedSizeList | List).children[0]!;
}

/** `[-1, 4]`-style shape text for messages. */
export const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

// Half-precision floats: Arrow and the binary extension carry raw IEEE 754 binary16 bits; JSON carries numbers.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Rounds a number to the nearest binary16 (round half to even) and returns its bits. */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mantissa | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rounded = (m + half - 1 + ((m >>> shift) & 1)) >>> shift;
    return sign | rounded;
  }
  const rounded = ((e << 10) | (mantissa >>> 13)) + (((mantissa & 0x1fff) + ((mantissa >>> 13) & 1) + 0xfff) >>> 13);
  return sign | rounded;
}

export function fromHalfBits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
