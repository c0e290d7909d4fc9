// The body of POST /v2/models/{name}/infer: JSON, optionally followed by binary tensor data (Triton's extension).
import { InvalidInputError } from '../errors.js';
import type { RequestTensor } from './tensor-decode.js';
import type { EncodedTensor } from './tensor-encode.js';

/** The HTTP header giving the JSON part's length when binary tensor data follows it. */
export const HEADER_LENGTH = 'inference-header-content-length';

export interface RequestedOutput {
  readonly name: string;
  /** Whether this output is wanted as binary data; undefined: the request's `binary_data_output`. */
  readonly binary: boolean | undefined;
}

export interface InferRequest {
  readonly id: string | undefined;
  readonly inputs: readonly RequestTensor[];
  /** undefined: every output of the model. */
  readonly outputs: readonly RequestedOutput[] | undefined;
  /** `parameters.binary_data_output`: outputs not named otherwise come back as binary data. */
  readonly binaryByDefault: boolean;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses a request body. `headerLength` is the Inference-Header-Content-Length header: when present the
 * JSON is that many bytes, and each input with `parameters.binary_data_size` takes its bytes, in input
 * order, from what follows. Throws InvalidInputError saying what is malformed.
 */
export function parseInferRequest(body: Buffer, headerLength: string | undefined): InferRequest {
  let jsonLength = body.byteLength;
  if (headerLength !== undefined) {
    jsonLength = Number(headerLength);
    if (!/^\d+$/.test(headerLength.trim()) || jsonLength > body.byteLength) {
      throw new InvalidInputError(`Inference-Header-Content-Length is "${headerLength}"; it must be an integer no larger than the body (${body.byteLength} bytes)`);
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8', 0, jsonLength));
  } catch (cause) {
    throw new InvalidInputError(`the request body is not valid JSON: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
  if (!isObject(json)) throw new InvalidInputError('the request body must be a JSON object with "inputs"');
  const { id, inputs, outputs, parameters = {} } = json;
  if (id !== undefined && typeof id !== 'string') throw new InvalidInputError('"id" must be a string');
  if (!Array.isArray(inputs) || inputs.length === 0) throw new InvalidInputError('"inputs" must be a non-empty array of tensors');
  if (!isObject(parameters)) throw new InvalidInputError('"parameters" must be an object');
  const binary = body.subarray(jsonLength);
  let at = 0;
  const tensors = inputs.map((input: unknown, i): RequestTensor => {
    const tensor = parseInput(input, i);
    const size = tensor.binarySize;
    if (size === undefined) return tensor;
    if (headerLength === undefined) throw new InvalidInputError(`input "${tensor.name}" has binary_data_size but the request has no Inference-Header-Content-Length header`);
    if (at + size > binary.byteLength) throw new InvalidInputError(`input "${tensor.name}" has binary_data_size ${size}, past the end of the body`);
    const data = binary.subarray(at, at + size);
    at += size;
    return { ...tensor, data };
  });
  if (at !== binary.byteLength) throw new InvalidInputError(`the body has ${binary.byteLength - at} bytes after the JSON that no input's binary_data_size accounts for`);
  return {
    id, inputs: tensors, outputs: parseOutputs(outputs), binaryByDefault: parameters['binary_data_output'] === true,
  };
}

/** More dimensions than any model takes, and few enough that checking them costs nothing. */
export const MAX_TENSOR_DIMS = 32;
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

function parseInput(input: unknown, index: number): RequestTensor & { binarySize?: number } {
  if (!isObject(input)) throw new InvalidInputError(`inputs[${index}] must be an object with name, datatype, shape and data`);
  const { name, datatype, shape, data, parameters = {} } = input;
  if (typeof name !== 'string' || name === '') throw new InvalidInputError(`inputs[${index}] needs a "name"`);
  if (typeof datatype !== 'string') throw new InvalidInputError(`input "${name}" needs a "datatype"`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new InvalidInputError(`input "${name}" needs a "shape": an array of non-negative integers`);
  }
  if (shape.length > MAX_TENSOR_DIMS) {
    throw new InvalidInputError(`input "${name}" has a shape of ${shape.length} dimensions; at most ${MAX_TENSOR_DIMS} are accepted`);
  }
  // Elements are counted in 32-bit Arrow offsets and lengths: a larger tensor cannot be one request.
  const elements = (shape as number[]).reduce((product, d) => product * d, 1);
  if (elements > MAX_TENSOR_ELEMENTS) {
    throw new InvalidInputError(`input "${name}" has shape [${shape.join(', ')}], ${elements} elements; at most ${MAX_TENSOR_ELEMENTS} fit in one request: send fewer rows per request`);
  }
  if (!isObject(parameters)) throw new InvalidInputError(`input "${name}": "parameters" must be an object`);
  const size = parameters['binary_data_size'];
  if (size === undefined) {
    if (data === undefined) throw new InvalidInputError(`input "${name}" has neither "data" nor parameters.binary_data_size`);
    return { name, datatype, shape: shape as number[], data };
  }
  if (!Number.isSafeInteger(size) || (size as number) < 0) throw new InvalidInputError(`input "${name}": binary_data_size must be a non-negative integer`);
  if (data !== undefined) throw new InvalidInputError(`input "${name}" has both "data" and binary_data_size`);
  return { name, datatype, shape: shape as number[], data: undefined, binarySize: size as number };
}

function parseOutputs(outputs: unknown): RequestedOutput[] | undefined {
  if (outputs === undefined) return undefined;
  if (!Array.isArray(outputs)) throw new InvalidInputError('"outputs" must be an array');
  return outputs.map((output: unknown, i) => {
    if (!isObject(output) || typeof output['name'] !== 'string') throw new InvalidInputError(`outputs[${i}] must be an object with a "name"`);
    const parameters = output['parameters'];
    const binary = isObject(parameters) ? parameters['binary_data'] : undefined;
    if (binary !== undefined && typeof binary !== 'boolean') throw new InvalidInputError(`output "${output['name']}": binary_data must be true or false`);
    return { name: output['name'], binary };
  });
}

/** A response ready to write: its headers and body chunks (JSON, then any binary tensors in output order). */
export interface InferResponseBody {
  readonly headers: Record<string, string>;
  readonly chunks: readonly Uint8Array[];
}

/** `version`: the model version that answered (`model_version`), when known. */
export function inferResponseBody(modelName: string, id: string | undefined, outputs: readonly EncodedTensor[], version?: string): InferResponseBody {
  const json = Buffer.from(JSON.stringify({
    model_name: modelName, ...(version === undefined ? {} : { model_version: version }), ...(id === undefined ? {} : { id }), outputs: outputs.map((o) => o.tensor),
  }));
  const binary = outputs.flatMap((o) => o.chunks);
  if (!outputs.some((o) => o.tensor.parameters)) {
    return { headers: { 'content-type': 'application/json' }, chunks: [json] };
  }
  return {
    headers: { 'content-type': 'application/octet-stream', [HEADER_LENGTH]: String(json.byteLength) },
    chunks: [json, ...binary],
  };
}
