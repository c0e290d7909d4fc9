// The inference service's RPCs (health, metadata, ModelInfer) as grpc-js handlers over the served models.
import type { UntypedHandleCall } from '@grpc/grpc-js';
import { serverMetadata } from '../metadata.js';
import type { ServedModels } from '../served-models.js';
import type {
  EmptyRequest, ModelInferRequest, ModelInferResponse, ModelMetadataResponse, ModelRequest, ReadyResponse, ServerLiveResponse,
  ServerMetadataResponse,
} from './messages.js';
import { modelInfer } from './model-infer.js';
import { type CallRuntime, type Rpc, unaryCall } from './unary-call.js';

export interface ServiceSettings {
  readonly models: ServedModels;
  readonly ready: () => boolean;
  readonly live: () => boolean;
  readonly maxRequestRows: number;
}

/** The RPCs this server implements; grpc-js answers UNIMPLEMENTED for the rest of Triton's service. */
export const IMPLEMENTED_RPCS = ['ServerLive', 'ServerReady', 'ModelReady', 'ServerMetadata', 'ModelMetadata', 'ModelInfer'] as const;

/** The handlers, by RPC name, as grpc-js's addService() takes them. */
export function inferenceHandlers(settings: ServiceSettings, runtime: CallRuntime): Record<(typeof IMPLEMENTED_RPCS)[number], UntypedHandleCall> {
  const { models } = settings;
  const handler = <Req, Res>(method: string, model: Rpc<Req, Res>['model'], handle: Rpc<Req, Res>['handle']): UntypedHandleCall =>
    unaryCall<Req, Res>({ method, model, handle }, runtime);
  const noModel = (): null => null;
  const named = (request: ModelRequest): string => request.name;
  return {
    ServerLive: handler<EmptyRequest, ServerLiveResponse>('ServerLive', noModel, () => ({ live: settings.live() })),
    ServerReady: handler<EmptyRequest, ReadyResponse>('ServerReady', noModel, () => ({ ready: settings.ready() })),
    // Like Triton, an unknown model or version is not ready rather than an error.
    ModelReady: handler<ModelRequest, ReadyResponse>('ModelReady', named, (request) => ({ ready: models.ready(request.name, request.version || undefined) })),
    ServerMetadata: handler<EmptyRequest, ServerMetadataResponse>('ServerMetadata', noModel, () => serverMetadata()),
    ModelMetadata: handler<ModelRequest, ModelMetadataResponse>('ModelMetadata', named, (request) => models.metadata(request.name, request.version || undefined)),
    ModelInfer: handler<ModelInferRequest, ModelInferResponse>(
      'ModelInfer', (request) => request.model_name,
      (request, context) => modelInfer(request, context, { models, maxRequestRows: settings.maxRequestRows }),
    ),
  };
}
