// ModelInferRequest inputs and requested outputs as the REST path's RequestTensor and RequestedOutput.
import { InvalidInputError } from '../../errors.js';
import { isOipDatatype, shapeText } from '../datatypes.js';
import { MAX_TENSOR_DIMS, MAX_TENSOR_ELEMENTS, type RequestedOutput } from '../infer-body.js';
import type { RequestTensor } from '../tensor-decode.js';
import type { InferInputTensor, ModelInferRequest } from './messages.js';
import { contentsToBytes } from './typed-contents.js';

/**
 * The request's input tensors, each with its values as bytes in Triton's raw layout (raw_input_contents as
 * received, typed contents laid out the same way): they decode exactly as REST's binary extension does,
 * which keeps 64-bit integers exact. Throws InvalidInputError saying what is malformed.
 */
export function requestTensors(request: ModelInferRequest): RequestTensor[] {
  const { inputs, raw_input_contents: raw } = request;
  if (inputs.length === 0) throw new InvalidInputError('the request has no inputs');
  if (raw.length > 0 && raw.length !== inputs.length) {
    throw new InvalidInputError(`the request has ${inputs.length} inputs but ${raw.length} raw_input_contents; give one per input, in input order, or none`);
  }
  return inputs.map((input, i): RequestTensor => {
    if (input.name === '') throw new InvalidInputError(`inputs[${i}] needs a name`);
    const shape = tensorShape(input);
    const { name, datatype, contents } = input;
    const typed = contents !== null && Object.values(contents).some((values: readonly unknown[]) => values.length > 0);
    if (raw.length > 0) {
      if (typed) throw new InvalidInputError(`input "${name}" has contents while the request has raw_input_contents; use one or the other for every input`);
      return { name, datatype, shape, data: raw[i]! };
    }
    // An unknown datatype is reported by tensorsToTable, with the list of supported ones.
    if (!isOipDatatype(datatype)) return { name, datatype, shape, data: new Uint8Array(0) };
    if (!typed && shape.some((d) => d === 0)) return { name, datatype, shape, data: new Uint8Array(0) };
    if (!typed) throw new InvalidInputError(`input "${name}" has no values: give them in its contents or in raw_input_contents`);
    return { name, datatype, shape, data: contentsToBytes(name, datatype, shape, contents) };
  });
}

/** The outputs asked for, all as binary data (raw_output_contents); undefined: every output of the model. */
export function requestedOutputs(request: ModelInferRequest): RequestedOutput[] | undefined {
  if (request.outputs.length === 0) return undefined;
  return request.outputs.map((output, i) => {
    if (output.name === '') throw new InvalidInputError(`outputs[${i}] needs a name`);
    return { name: output.name, binary: true };
  });
}

/** The shape's dimensions as numbers, checked as REST checks a JSON shape. */
function tensorShape(input: InferInputTensor): number[] {
  const shape = input.shape.map(Number);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new InvalidInputError(`input "${input.name}" has shape [${input.shape.join(', ')}]; dimensions must be non-negative integers`);
  }
  if (shape.length > MAX_TENSOR_DIMS) {
    throw new InvalidInputError(`input "${input.name}" has a shape of ${shape.length} dimensions; at most ${MAX_TENSOR_DIMS} are accepted`);
  }
  // Elements are counted in 32-bit Arrow offsets and lengths: a larger tensor cannot be one request.
  const elements = shape.reduce((product, d) => product * d, 1);
  if (elements > MAX_TENSOR_ELEMENTS) {
    throw new InvalidInputError(`input "${input.name}" has shape ${shapeText(shape)}, ${elements} elements; at most ${MAX_TENSOR_ELEMENTS} fit in one request: send fewer rows per request`);
  }
  return shape;
}
