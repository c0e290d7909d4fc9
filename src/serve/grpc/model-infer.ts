// The ModelInfer RPC: a lease on the model version, its tensors through the REST path's decoding and encoding, raw outputs back.
import { inferTensors } from '../infer.js';
import type { ServedModels } from '../served-models.js';
import type { EncodedTensor } from '../tensor-encode.js';
import type { ModelInferRequest, ModelInferResponse } from './messages.js';
import { requestTensors, requestedOutputs } from './request-tensors.js';
import type { CallContext } from './unary-call.js';

export interface ModelInferSettings {
  readonly models: ServedModels;
  readonly maxRequestRows: number;
}

/**
 * Runs one ModelInfer on the version it names (else the highest READY one), holding a lease on it until
 * the outputs are encoded. Outputs are the ones asked for, in that order, else every column the model
 * returns; each travels in raw_output_contents. Throws what inferTensors() and ServedModels.acquire() throw.
 */
export async function modelInfer(request: ModelInferRequest, context: CallContext, settings: ModelInferSettings): Promise<ModelInferResponse> {
  const lease = settings.models.acquire(request.model_name, request.model_version || undefined);
  context.answeredBy(lease.version);
  try {
    const encoded = await inferTensors({
      udf: lease.udf, model: lease.model, inputs: requestTensors(request), outputs: requestedOutputs(request), binaryByDefault: true,
      signal: context.signal, maxRows: settings.maxRequestRows,
    });
    return {
      model_name: lease.model, model_version: lease.version, id: request.id,
      outputs: encoded.map(({ tensor }) => ({ name: tensor.name, datatype: tensor.datatype, shape: tensor.shape })),
      raw_output_contents: encoded.map(rawContents),
    };
  } finally {
    lease.release();
  }
}

/** One output's binary chunks (one per Arrow chunk of the column) as the one bytes field it travels in. */
function rawContents({ chunks }: EncodedTensor): Uint8Array {
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}
