// Loading proto/grpc_service.proto: the inference service definition grpc-js serves, decoded the way messages.ts describes.
import { fileURLToPath } from 'node:url';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { type Options, loadSync } from '@grpc/proto-loader';

/** The service's full name, as clients address it (`/inference.GRPCInferenceService/ModelInfer`). */
export const SERVICE_NAME = 'inference.GRPCInferenceService';

/** src/serve/grpc/ and dist/serve/grpc/ are both three levels below the package root, beside proto/. */
export const PROTO_PATH = fileURLToPath(new URL('../../../proto/grpc_service.proto', import.meta.url));

/**
 * Field names as in the .proto (snake_case); 64-bit integers as decimal strings, so INT64 and UINT64 values
 * above 2^53 stay exact (protobufjs would give lossy numbers or Long objects); bytes as Buffers (views of the
 * received message); absent fields as their proto3 defaults (`''`, `[]`, `{}`, null for a message).
 */
export const LOADER_OPTIONS: Options = {
  keepCase: true, longs: String, enums: String, defaults: true, arrays: true, objects: true, oneofs: true,
};

let service: ServiceDefinition | undefined;

/** The GRPCInferenceService definition, loaded once. */
export function inferenceService(): ServiceDefinition {
  service ??= loadSync(PROTO_PATH, LOADER_OPTIONS)[SERVICE_NAME] as ServiceDefinition;
  return service;
}
