// Tensor columns: N rows of (d1, …, dk) numbers as nested FixedSizeList columns, built from a typed array and a shape, and read back.
import {
  type Data, type DataType, Field, FixedSizeList, Float32, Float64, Int16, Int32, Int64, Int8, makeData, makeVector, Uint16, Uint32,
  Precision, Uint64, Uint8, type Vector, DataType as Types,
} from 'apache-arrow';
import { InvalidInputError } from '../errors.js';

/** The typed arrays a tensor's numbers may come in; each maps to the Arrow type of the same width. */
export type TensorValues =
  | Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array | Uint32Array | BigUint64Array;

/** A tensor column's numbers, row-major, and its shape `[rows, d1, …, dk]`. */
export interface Tensor<T extends TensorValues = TensorValues> {
  readonly values: T;
  readonly shape: readonly number[];
}

function arrowTypeOf(values: TensorValues): DataType {
  if (values instanceof Float32Array) return new Float32();
  if (values instanceof Float64Array) return new Float64();
  if (values instanceof Int8Array) return new Int8();
  if (values instanceof Int16Array) return new Int16();
  if (values instanceof Int32Array) return new Int32();
  if (values instanceof BigInt64Array) return new Int64();
  if (values instanceof Uint8Array) return new Uint8();
  if (values instanceof Uint16Array) return new Uint16();
  if (values instanceof Uint32Array) return new Uint32();
  if (values instanceof BigUint64Array) return new Uint64();
  throw new InvalidInputError('tensor values must be a typed array (Float32Array, Int32Array, BigInt64Array, …)');
}

/**
 * A column of `shape[0]` rows, each a `shape[1] × … × shape[k]` tensor, over `values` (row-major) without
 * copying them: one FixedSizeList level per dimension after the first, as `pyudf.tensors.to_numpy`
 * reads it in Python as an array of that shape. A shape of one dimension gives a plain column.
 */
export function tensorColumn<T extends TensorValues>(values: T, shape: readonly number[]): Vector {
  const type = arrowTypeOf(values);
  if (shape.length === 0 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new InvalidInputError(`a tensor's shape must be one or more non-negative integers, got [${shape.join(', ')}]`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== values.length) {
    throw new InvalidInputError(`shape [${shape.join(', ')}] holds ${count} values, but ${values.length} were given`);
  }
  let data: Data = makeData({ type: type as never, length: values.length, nullCount: 0, data: values as never });
  let length = values.length;
  for (let level = shape.length - 1; level >= 1; level--) {
    const size = shape[level]!;
    length = size === 0 ? shape.slice(0, level).reduce((a, b) => a * b, 1) : length / size;
    data = makeData({ type: new FixedSizeList(size, new Field('item', data.type, false)), length, nullCount: 0, child: data });
  }
  return makeVector(data);
}

/**
 * The numbers and shape of a tensor column (nested FixedSizeLists of numbers, as `tensorColumn` and
 * `pyudf.tensors.from_numpy` make them). The values view the column's memory when it is one chunk.
 * Throws InvalidInputError for another kind of column, or one with nulls.
 */
export function tensorOf(column: Vector): Tensor {
  const rows = column.length;
  const shape = [rows];
  let type = column.type as DataType;
  while (Types.isFixedSizeList(type)) {
    shape.push(type.listSize);
    type = type.children[0]!.type as DataType;
  }
  if (shape.length === 1) throw new InvalidInputError(`expected a tensor column (nested FixedSizeList), got ${String(column.type)}`);
  const per = shape.slice(1).reduce((a, b) => a * b, 1);
  const chunks = column.data.map((chunk) => leafValues(chunk, per));
  if (chunks.length === 1) return { values: chunks[0]!, shape };
  const joined = new (chunks[0]!.constructor as new (n: number) => TensorValues)(rows * per);
  let at = 0;
  for (const chunk of chunks) {
    joined.set(chunk as never, at);
    at += chunk.length;
  }
  return { values: joined, shape };
}

/** The chunk's rows of numbers (apache-arrow slices a FixedSizeList's child and a leaf's values with it). */
function leafValues(chunk: Data, per: number): TensorValues {
  let data = chunk;
  while (Types.isFixedSizeList(data.type)) {
    if (data.nullCount > 0) throw new InvalidInputError(`a tensor column must have no null rows; this one has ${data.nullCount}`);
    data = data.children[0]!;
  }
  if (data.nullCount > 0) throw new InvalidInputError(`a tensor's numbers must not be null; ${data.nullCount} are`);
  // Float16 values arrive as raw Uint16 bits, which would read as wrong numbers.
  const numbers = Types.isInt(data.type) || (Types.isFloat(data.type) && data.type.precision !== Precision.HALF);
  if (!numbers) throw new InvalidInputError(`a tensor's elements must be 8- to 64-bit integers or 32- or 64-bit floats, got ${String(data.type)}`);
  return (data.values as TensorValues).subarray(0, chunk.length * per) as TensorValues;
}
