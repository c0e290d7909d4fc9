// POST /v2/models/{name}/infer: request body to table, one shared-batch call, table to response body.
import { type Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import { InvalidInputError } from '../errors.js';
import { ArrowRowLimitError, validateIpcStream } from '../protocol/arrow-validate.js';
import { type RequestedOutput, inferResponseBody, parseInferRequest } from './infer-body.js';
import type { InferProtocol } from './metrics.js';
import type { ServableUdf } from './servable-udf.js';
import type { Reply } from './reply.js';
import { type RequestTensor, tensorsToTable } from './tensor-decode.js';
import { type EncodedTensor, columnToTensor } from './tensor-encode.js';

/** The media type of a raw Arrow IPC stream body, in requests and in their replies. */
export const ARROW_STREAM = 'application/vnd.apache.arrow.stream';

export interface InferCall {
  readonly udf: ServableUdf;
  /** The model's name in URLs and replies. Default: the UDF's name. */
  readonly model?: string;
  /** The version that runs the request, for the reply's `model_version`. */
  readonly version?: string;
  readonly body: Buffer;
  readonly contentType: string | undefined;
  readonly headerLength: string | undefined;
  /** Fires when the client goes away or the server stops waiting. */
  readonly signal: AbortSignal;
  /** Most rows accepted (the server's `maxRequestRows`). */
  readonly maxRows: number;
}

/** How a request is encoded, from its headers alone (so it can label metrics even when parsing fails). */
export function inferProtocol(contentType: string | undefined, headerLength: string | undefined): InferProtocol {
  if (mediaType(contentType) === ARROW_STREAM) return 'arrow';
  return headerLength === undefined ? 'json' : 'binary';
}

const mediaType = (contentType: string | undefined): string => (contentType ?? '').split(';')[0]!.trim().toLowerCase();

/** Runs one inference request; throws InvalidInputError for a bad request and the UDF's errors as they come. */
export async function infer(call: InferCall): Promise<Reply> {
  if (inferProtocol(call.contentType, call.headerLength) === 'arrow') return inferArrow(call);
  const request = parseInferRequest(call.body, call.headerLength);
  const outputs = await inferTensors({
    udf: call.udf, model: call.model ?? call.udf.name, inputs: request.inputs, outputs: request.outputs,
    binaryByDefault: request.binaryByDefault, signal: call.signal, maxRows: call.maxRows,
  });
  const { headers, chunks } = inferResponseBody(call.model ?? call.udf.name, request.id, outputs, call.version);
  return { status: 200, headers, chunks };
}

/** Request tensors to run through a UDF: what REST's JSON and binary bodies and gRPC's ModelInfer have in common. */
export interface TensorCall {
  readonly udf: ServableUdf;
  /** The model's name, for errors. */
  readonly model: string;
  readonly inputs: readonly RequestTensor[];
  /** undefined: every output of the model. */
  readonly outputs: readonly RequestedOutput[] | undefined;
  /** Whether outputs that do not say are encoded as binary data. */
  readonly binaryByDefault: boolean;
  /** Fires when the client goes away or the server stops waiting. */
  readonly signal: AbortSignal;
  /** Most rows accepted (the server's `maxRequestRows`). */
  readonly maxRows: number;
}

/**
 * Runs request tensors through the UDF (one shared-batch call) and encodes the outputs asked for, in the
 * order asked (else the model's). Throws InvalidInputError for a bad request and the UDF's errors as they come.
 */
export async function inferTensors(call: TensorCall): Promise<EncodedTensor[]> {
  const wanted = requestedOutputs(call.outputs, call.udf);
  const input = tensorsToTable(call.inputs, call.udf.inputSchema, call.maxRows);
  const result = await call.udf.callTable(input, { signal: call.signal });
  const names = wanted ?? result.schema.fields.map((f) => f.name);
  // Maps, not searches: a request may name many outputs (each a few bytes of the body).
  const binaryOf = new Map(call.outputs?.map((o) => [o.name, o.binary]));
  return names.map((name) => {
    const column = result.getChild(name);
    if (!column) throw new InvalidInputError(`unknown output "${name}"; the model returned ${describe(result)}`);
    return columnToTensor(name, column, binaryOf.get(name) ?? call.binaryByDefault, call.model);
  });
}

/** Output names asked for, checked against the declared output schema (when there is one) before running. */
function requestedOutputs(outputs: readonly RequestedOutput[] | undefined, udf: ServableUdf): string[] | undefined {
  if (!outputs) return undefined;
  const names = outputs.map((o) => o.name);
  const seen = new Set<string>();
  const twice = names.find((name) => seen.size === seen.add(name).size);
  if (twice !== undefined) throw new InvalidInputError(`output "${twice}" is requested twice`);
  const declared = udf.outputSchema?.fields.map((f) => f.name);
  const known = new Set(declared);
  const unknown = declared ? names.find((name) => !known.has(name)) : undefined;
  if (declared && unknown !== undefined) {
    throw new InvalidInputError(`unknown output "${unknown}"; the model returns ${declared.map((n) => `"${n}"`).join(', ')}`);
  }
  return names;
}

function describe(table: Table): string {
  return table.schema.fields.map((f) => `"${f.name}"`).join(', ') || 'no columns';
}

async function inferArrow(call: InferCall): Promise<Reply> {
  const input = readArrowBody(call.body, call.maxRows);
  if (input.schema.fields.length === 0) throw new InvalidInputError('the Arrow IPC stream has no columns');
  const result = await call.udf.callTable(input, { signal: call.signal });
  return { status: 200, headers: { 'content-type': ARROW_STREAM }, chunks: [tableToIPC(result, 'stream')] };
}

/**
 * The table of an Arrow IPC stream request body, validated before apache-arrow loads it (a few hundred
 * bytes claiming 2^50 rows would otherwise take the process down). Throws InvalidInputError.
 */
export function readArrowBody(body: Uint8Array, maxRows: number): Table {
  try {
    validateIpcStream(body, { maxRows });
    return tableFromIPC(body);
  } catch (cause) {
    if (cause instanceof ArrowRowLimitError) throw new InvalidInputError(`${cause.message} (the server's maxRequestRows)`);
    throw new InvalidInputError(`the body is not a valid Arrow IPC stream: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}
