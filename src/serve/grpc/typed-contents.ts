// An input's typed `contents` (fp32_contents, int64_contents, bytes_contents, …) laid out as raw_input_contents bytes.
import { InvalidInputError } from '../../errors.js';
import { DATATYPES, type OipDatatype, shapeText } from '../datatypes.js';
import type { InferTensorContents } from './messages.js';

/** The contents field each datatype's values go in, as Triton reads them. */
const FIELD: Readonly<Record<OipDatatype, keyof InferTensorContents | undefined>> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents', INT16: 'int_contents', INT32: 'int_contents', INT64: 'int64_contents',
  UINT8: 'uint_contents', UINT16: 'uint_contents', UINT32: 'uint_contents', UINT64: 'uint64_contents',
  FP16: undefined, FP32: 'fp32_contents', FP64: 'fp64_contents', BYTES: 'bytes_contents',
};

/**
 * The values of a tensor's typed contents as the bytes raw_input_contents would carry for it, so that both
 * decode through one path (tensor-decode.ts, as REST's binary extension). 64-bit integers arrive as decimal
 * strings and stay exact. Throws InvalidInputError for a wrong count, a value out of the datatype's range,
 * or values given in another datatype's field.
 */
export function contentsToBytes(name: string, datatype: OipDatatype, shape: readonly number[], contents: InferTensorContents): Uint8Array {
  const field = FIELD[datatype];
  if (field === undefined) throw new InvalidInputError(`input "${name}" is ${datatype}, which travels only in raw_input_contents`);
  const stray = (Object.keys(FIELD_NAMES) as (keyof InferTensorContents)[]).find((f) => f !== field && contents[f].length > 0);
  if (stray !== undefined) {
    throw new InvalidInputError(`input "${name}" is ${datatype}, whose values go in ${field}; it has values in ${stray}`);
  }
  const values = contents[field];
  const count = shape.reduce((a, b) => a * b, 1);
  if (values.length !== count) {
    throw new InvalidInputError(`input "${name}" has ${values.length} values in ${field}; shape ${shapeText(shape)} needs ${count}`);
  }
  if (datatype === 'BYTES') return lengthPrefixed(contents.bytes_contents);
  if (datatype === 'BOOL') return Uint8Array.from(contents.bool_contents, Number);
  const spec = DATATYPES[datatype];
  const out = new spec.array!(count);
  const wide = spec.bytes === 8 && spec.range !== undefined;
  for (let i = 0; i < count; i++) {
    const value = values[i] as number | string;
    if (wide) {
      const big = BigInt(value);
      if (big < BigInt(spec.range![0]) || big > BigInt(spec.range![1])) throw outOfRange(name, i, value, datatype);
      out[i] = big as never;
    } else {
      if (spec.range && (Number(value) < Number(spec.range[0]) || Number(value) > Number(spec.range[1]))) throw outOfRange(name, i, value, datatype);
      out[i] = Number(value) as never;
    }
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

const FIELD_NAMES: Readonly<Record<keyof InferTensorContents, true>> = {
  bool_contents: true, int_contents: true, int64_contents: true, uint_contents: true, uint64_contents: true,
  fp32_contents: true, fp64_contents: true, bytes_contents: true,
};

function outOfRange(name: string, index: number, value: number | string, datatype: OipDatatype): InvalidInputError {
  const [low, high] = DATATYPES[datatype].range!;
  return new InvalidInputError(`input "${name}" element ${index} is ${value}; ${datatype} holds ${low}..${high}`);
}

/** BYTES elements each as a 4-byte little-endian length followed by its bytes. */
function lengthPrefixed(items: readonly Uint8Array[]): Uint8Array {
  const out = Buffer.allocUnsafe(items.reduce((sum, item) => sum + 4 + item.byteLength, 0));
  let at = 0;
  for (const item of items) {
    out.writeUInt32LE(item.byteLength, at);
    out.set(item, at + 4);
    at += 4 + item.byteLength;
  }
  return out;
}
