// Request tensors (JSON data or binary-extension bytes) to Arrow columns, checked against the declared inputs.
import { isUtf8 } from 'node:buffer';
import {
  type Data, type DataType, Field, RecordBatch, Schema, Struct, Table, makeData, makeVector, vectorFromArray, DataType as Types,
} from 'apache-arrow';
import { InvalidInputError } from '../errors.js';
import { MAX_ARRAY_LENGTH } from '../protocol/arrow-validate.js';
import {
  DATATYPES, type OipDatatype, childField, defaultArrowType, isOipDatatype, shapeText, tensorTypeOf, toHalfBits,
} from './datatypes.js';

/** One input tensor of an inference request; `data` is JSON (flat or nested) or the tensor's binary bytes. */
export interface RequestTensor {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly data: unknown;
}

/**
 * Builds the table a UDF receives from the request's tensors: one column per tensor, rows along the
 * first dimension. With a declared input schema the columns take its types and order, and every tensor
 * must match a declared column (datatype and dimensions); without one, tensor datatypes pick the types.
 * A tensor of more than `maxRows` rows (the server's maxRequestRows) is refused before anything is
 * converted. Throws InvalidInputError naming the tensor and what is wrong.
 */
export function tensorsToTable(tensors: readonly RequestTensor[], declared?: Schema, maxRows = Number.POSITIVE_INFINITY): Table {
  if (tensors.length === 0) throw new InvalidInputError('the request has no inputs');
  const byName = new Map<string, RequestTensor>();
  for (const tensor of tensors) {
    checkDatatypeAndShape(tensor);
    if (tensor.shape[0]! > maxRows) {
      throw new InvalidInputError(`input "${tensor.name}" has ${tensor.shape[0]} rows (shape ${shapeText(tensor.shape)}); at most ${maxRows} are accepted (the server's maxRequestRows)`);
    }
    checkEmptyTensor(tensor, maxRows);
    if (byName.has(tensor.name)) throw new InvalidInputError(`input "${tensor.name}" is given twice`);
    byName.set(tensor.name, tensor);
  }
  const fields = declared ? declaredFields(byName, declared) : tensors.map((t) => undeclaredField(t));
  const rows = tensors[0]!.shape[0] ?? 0;
  const columns = fields.map((field) => {
    const tensor = byName.get(field.name)!;
    if (tensor.shape[0] !== rows) {
      throw new InvalidInputError(`input "${tensor.name}" has ${tensor.shape[0]} rows (shape ${shapeText(tensor.shape)}) but input "${tensors[0]!.name}" has ${rows}; the first dimension is rows and must agree`);
    }
    return tensorToData(tensor, field.type);
  });
  const schema = new Schema(fields);
  const struct = makeData({ type: new Struct(fields), length: rows, nullCount: 0, children: columns });
  return new Table([new RecordBatch(schema, struct)]);
}

function declaredFields(byName: ReadonlyMap<string, RequestTensor>, declared: Schema): Field[] {
  const unknown = [...byName.keys()].find((name) => !declared.fields.some((f) => f.name === name));
  const names = declared.fields.map((f) => `"${f.name}"`).join(', ');
  if (unknown !== undefined) throw new InvalidInputError(`unknown input "${unknown}"; the model takes ${names}`);
  const missing = declared.fields.find((f) => !byName.has(f.name));
  if (missing) throw new InvalidInputError(`input "${missing.name}" is missing; the model takes ${names}`);
  return declared.fields;
}

function undeclaredField(tensor: RequestTensor): Field {
  return new Field(tensor.name, defaultArrowType(tensor.datatype as OipDatatype, tensor.shape.slice(1)), true);
}

function checkDatatypeAndShape(tensor: RequestTensor): void {
  if (!isOipDatatype(tensor.datatype)) {
    throw new InvalidInputError(`input "${tensor.name}" has datatype "${tensor.datatype}"; supported: ${Object.keys(DATATYPES).join(', ')}`);
  }
  if (tensor.shape.length === 0) throw new InvalidInputError(`input "${tensor.name}" has shape []; the first dimension is rows, so give at least [N]`);
}

/** One tensor as the Arrow data of `type`, which it must match in datatype and dimensions. */
/**
 * An empty tensor (a 0 dimension) carries no values, yet its dimensions before the 0 still count lists to
 * build (an offsets array each, for a model declaring variable lists) and each dimension is a 32-bit list
 * size: [1, 10^9, 0] would allocate gigabytes and block the server, [0, 2^32] come back as [0, 0].
 */
function checkEmptyTensor(tensor: RequestTensor, maxRows: number): void {
  const { name, shape } = tensor;
  const zero = shape.indexOf(0);
  if (zero === -1) return;
  const lists = shape.slice(0, zero).reduce((product, d) => product * d, 1);
  if (lists > maxRows) {
    throw new InvalidInputError(`input "${name}" has shape ${shapeText(shape)}: no values, but ${lists} lists of them; at most ${maxRows} are accepted (the server's maxRequestRows)`);
  }
  if (shape.some((d) => d > MAX_ARRAY_LENGTH)) {
    throw new InvalidInputError(`input "${name}" has shape ${shapeText(shape)}; a dimension may be at most ${MAX_ARRAY_LENGTH}`);
  }
}

export function tensorToData(tensor: RequestTensor, type: DataType): Data {
  checkDatatypeAndShape(tensor);
  const expected = tensorTypeOf(type);
  if (typeof expected === 'string') throw new InvalidInputError(`input "${tensor.name}" cannot be given as a tensor: ${expected}`);
  const dims = tensor.shape.slice(1);
  const fits = expected.dims.length === dims.length && expected.dims.every((d, i) => d === -1 || d === dims[i]);
  if (expected.datatype !== tensor.datatype || !fits) {
    throw new InvalidInputError(`input "${tensor.name}" is ${tensor.datatype} ${shapeText(tensor.shape)}; the model takes ${expected.datatype} ${shapeText([-1, ...expected.dims])}`);
  }
  const count = tensor.shape.reduce((a, b) => a * b, 1);
  const leaf = leafData(tensor, leafType(type), count);
  return wrapInLists(leaf, type, tensor.shape);
}

function leafType(type: DataType): DataType {
  let leaf = type;
  while (Types.isFixedSizeList(leaf) || Types.isList(leaf) || Types.isLargeList(leaf)) leaf = childField(leaf).type as DataType;
  return leaf;
}

/** Nests the flat leaf values into the list levels of `type`, innermost first. */
function wrapInLists(leaf: Data, type: DataType, shape: readonly number[]): Data {
  const levels: DataType[] = [];
  for (let t = type; Types.isFixedSizeList(t) || Types.isList(t) || Types.isLargeList(t); t = childField(t).type as DataType) levels.push(t);
  let data = leaf;
  for (let i = levels.length - 1; i >= 0; i--) {
    const level = levels[i]!;
    const length = shape.slice(0, i + 1).reduce((a, b) => a * b, 1);
    if (Types.isFixedSizeList(level)) {
      data = makeData({ type: level, length, nullCount: 0, child: data });
    } else {
      const size = shape[i + 1]!;
      const offsets = Types.isLargeList(level)
        ? BigInt64Array.from({ length: length + 1 }, (_, j) => BigInt(j * size))
        : Int32Array.from({ length: length + 1 }, (_, j) => j * size);
      data = makeData({ type: level, length, nullCount: 0, valueOffsets: offsets as Int32Array, child: data } as never);
    }
  }
  return data;
}

function leafData(tensor: RequestTensor, type: DataType, count: number): Data {
  if (Types.isDictionary(type)) {
    // Tensors carry plain values; the dictionary builder collects the distinct ones.
    return vectorFromArray([...makeVector(leafData(tensor, type.dictionary, count))], type).data[0]!;
  }
  const spec = DATATYPES[tensor.datatype as OipDatatype];
  const binary = tensor.data instanceof Uint8Array ? tensor.data : undefined;
  if (spec.datatype === 'BYTES') {
    const items = binary ? splitBytes(tensor.name, binary, count) : jsonValues(tensor, count).map((v, i) => stringBytes(tensor.name, v, i));
    return bytesData(tensor.name, items, type);
  }
  if (binary && binary.byteLength !== count * spec.bytes) {
    throw new InvalidInputError(`input "${tensor.name}" has ${binary.byteLength} bytes of binary data; shape ${shapeText(tensor.shape)} of ${spec.datatype} needs ${count * spec.bytes}`);
  }
  if (spec.datatype === 'BOOL') {
    const values = binary ?? jsonValues(tensor, count);
    const bits = new Uint8Array(Math.ceil(count / 8));
    for (let i = 0; i < count; i++) {
      const v = values[i];
      if (v !== true && v !== false && v !== 0 && v !== 1) throw elementError(tensor.name, i, v, 'true or false');
      if (v === true || v === 1) bits[i >> 3]! |= 1 << (i & 7);
    }
    return makeData({ type: type as never, length: count, nullCount: 0, data: bits });
  }
  const ArrayType = spec.array!;
  let values: ArrayLike<number | bigint>;
  if (binary) {
    // A view when the bytes happen to be aligned, a copy when they are not (typed arrays require alignment).
    values = (binary.byteOffset % ArrayType.BYTES_PER_ELEMENT === 0)
      ? new ArrayType(binary.buffer as ArrayBuffer, binary.byteOffset, count)
      : new ArrayType(new Uint8Array(binary).buffer, 0, count);
  } else {
    values = jsonNumbers(tensor, count, spec.datatype);
  }
  return makeData({ type: type as never, length: count, nullCount: 0, data: values as never });
}

function jsonNumbers(tensor: RequestTensor, count: number, datatype: OipDatatype): ArrayLike<number | bigint> {
  const spec = DATATYPES[datatype];
  const values = jsonValues(tensor, count);
  const out = new spec.array!(count);
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (typeof v !== 'number') throw elementError(tensor.name, i, v, 'a number');
    if (spec.range) {
      if (!Number.isInteger(v) || BigInt(v) < BigInt(spec.range[0]) || BigInt(v) > BigInt(spec.range[1])) {
        throw elementError(tensor.name, i, v, `an integer in ${spec.range[0]}..${spec.range[1]}`);
      }
      out[i] = (spec.bytes === 8 ? BigInt(v) : v) as never;
    } else {
      out[i] = datatype === 'FP16' ? toHalfBits(v) : v;
    }
  }
  return out;
}

/** JSON `data` flattened row-major; nested arrays are accepted as well as flat ones. */
function jsonValues(tensor: RequestTensor, count: number): unknown[] {
  if (!Array.isArray(tensor.data)) throw new InvalidInputError(`input "${tensor.name}" has no data: give "data" as an array, or binary data`);
  // Nested no deeper than the shape: deeper nesting (which would also overflow a recursive flatten) is refused.
  const values = (tensor.data as unknown[]).flat(Math.max(0, tensor.shape.length - 1));
  if (values.some(Array.isArray)) {
    throw new InvalidInputError(`input "${tensor.name}" has "data" nested deeper than its ${tensor.shape.length} dimensions (shape ${shapeText(tensor.shape)})`);
  }
  if (values.length !== count) {
    throw new InvalidInputError(`input "${tensor.name}" has ${values.length} values; shape ${shapeText(tensor.shape)} needs ${count}`);
  }
  return values;
}

function elementError(name: string, index: number, value: unknown, wanted: string): InvalidInputError {
  return new InvalidInputError(`input "${name}" element ${index} is ${JSON.stringify(value) ?? String(value)}; expected ${wanted}`);
}

const encoder = new TextEncoder();

function stringBytes(name: string, value: unknown, index: number): Uint8Array {
  if (typeof value !== 'string') throw elementError(name, index, value, 'a string');
  return encoder.encode(value);
}

/** Binary BYTES: each element is a 4-byte little-endian length, then that many bytes. */
function splitBytes(name: string, bytes: Uint8Array, count: number): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const items: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 4 > bytes.byteLength) throw new InvalidInputError(`input "${name}" binary data ends at element ${i} of ${count}`);
    const length = view.getUint32(at, true);
    at += 4;
    if (at + length > bytes.byteLength) throw new InvalidInputError(`input "${name}" element ${i} claims ${length} bytes, past the end of its binary data`);
    items.push(bytes.subarray(at, at + length));
    at += length;
  }
  if (at !== bytes.byteLength) throw new InvalidInputError(`input "${name}" has ${bytes.byteLength - at} bytes left after its ${count} elements`);
  return items;
}

function bytesData(name: string, items: readonly Uint8Array[], type: DataType): Data {
  const utf8 = Types.isUtf8(type) || Types.isLargeUtf8(type);
  const large = Types.isLargeUtf8(type) || Types.isLargeBinary(type);
  const total = items.reduce((sum, item) => sum + item.byteLength, 0);
  const values = new Uint8Array(total);
  const offsets = large ? new BigInt64Array(items.length + 1) : new Int32Array(items.length + 1);
  let at = 0;
  items.forEach((item, i) => {
    // Utf8 columns must hold valid UTF-8; pyarrow would fail later, in the worker, with a worse message.
    if (utf8 && !isUtf8(item)) throw new InvalidInputError(`input "${name}" element ${i} is not valid UTF-8 (the model takes strings)`);
    values.set(item, at);
    at += item.byteLength;
    offsets[i + 1] = (large ? BigInt(at) : at) as never;
  });
  return makeData({ type: type as never, length: items.length, nullCount: 0, valueOffsets: offsets as never, data: values });
}
