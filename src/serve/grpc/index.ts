// The gRPC front end's public surface: GrpcInferenceServer, its options and its call events.
export { GrpcInferenceServer } from './grpc-server.js';
export type { GrpcCallEvent, GrpcServerOptions } from './options.js';
export { DEFAULT_GRPC_PORT } from './options.js';
export { IMPLEMENTED_RPCS } from './service.js';
export { PROTO_PATH } from './proto.js';
