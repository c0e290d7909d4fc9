// a server with gRPC closed while it starts, and while calls are being cancelled by their clients.
import { connect } from 'node:net';
import { Client, type MethodDefinition, type ServiceDefinition, credentials, status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { createServer } from '../../src/serve/index.js';
import type { GrpcInferenceServer } from '../../src/serve/grpc/grpc-server.js';
import type { ModelInferRequest, ModelInferResponse } from '../../src/serve/grpc/messages.js';
import { LOADER_OPTIONS, PROTO_PATH, SERVICE_NAME } from '../../src/serve/grpc/proto.js';
import { PYTHON } from '../helpers.js';

const accepts = (port: number): Promise<boolean> => new Promise((resolve) => {
  const socket = connect(port, '127.0.0.1');
  socket.once('connect', () => { socket.destroy(); resolve(true); });
  socket.once('error', () => resolve(false));
});

describe('a server with gRPC while its one model loads', () => {
  // The model is listed as loading from the start, so gRPC answers UNAVAILABLE (what clients retry), as REST
  // answers 503, not NOT_FOUND (which clients treat as final).
  it('answers ModelInfer UNAVAILABLE, as REST answers 503', async () => {
    const server = createServer({
      model: { code: 'import time\ndef init(conf):\n    time.sleep(1.5)\ndef apply(state, batch):\n    return batch\n', name: 'echo' },
      port: 0, grpcPort: 0, poolOptions: { workers: 1, python: PYTHON }, logger: () => undefined,
    });
    const listening = server.listen();
    try {
      while (server.grpcPort === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
      const method = (loadSync(PROTO_PATH, LOADER_OPTIONS)[SERVICE_NAME] as ServiceDefinition)['ModelInfer'] as MethodDefinition<Partial<ModelInferRequest>, ModelInferResponse>;
      const client = new Client(`127.0.0.1:${server.grpcPort}`, credentials.createInsecure());
      const request = { model_name: 'echo', inputs: [{ name: 'x', datatype: 'FP32', shape: ['1'], parameters: {}, contents: null }], raw_input_contents: [Buffer.alloc(4)] };
      const code = await new Promise<status>((resolve) => {
        client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, request, (error) => resolve(error ? error.code : status.OK));
      });
      client.close();
      expect(code).toBe(status.UNAVAILABLE);
    } finally {
      await listening;
      await server.close();
    }
  });
});

describe('close() of a server with gRPC', () => {
  // listenGrpc() loads grpc-js first: a close() meanwhile must stop it from binding afterwards.
  it('right after listen() leaves no gRPC port open', async () => {
    const server = createServer({
      model: { code: 'def apply(state, batch):\n    return batch\n', name: 'echo' }, port: 0, grpcPort: 0,
      poolOptions: { workers: 1, python: PYTHON }, logger: () => undefined,
    });
    const listening = server.listen().catch((error: unknown) => error);
    await new Promise((resolve) => setImmediate(resolve));
    await server.close();
    expect(await listening).toBeInstanceOf(Error);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Either gRPC never started, or close() stopped it: nothing accepts on its port.
    const started = (server as unknown as { grpc: GrpcInferenceServer | undefined }).grpc;
    if (started?.port !== undefined) expect(await accepts(started.port)).toBe(false);
  });

  it('while clients cancel half of 40 calls releases every lease and answers the rest UNAVAILABLE', async () => {
    const server = createServer({
      model: { code: 'import time\ndef apply(state, batch):\n    time.sleep(0.3)\n    return batch\n', name: 'slow', maxDelayMs: 0, maxBatchRows: 1 },
      port: 0, grpcPort: 0, drainTimeoutMs: 400, poolOptions: { workers: 2, python: PYTHON }, logger: () => undefined,
    });
    await server.listen();
    const method = (loadSync(PROTO_PATH, LOADER_OPTIONS)[SERVICE_NAME] as ServiceDefinition)['ModelInfer'] as MethodDefinition<Partial<ModelInferRequest>, ModelInferResponse>;
    const client = new Client(`127.0.0.1:${server.grpcPort}`, credentials.createInsecure());
    const request = { model_name: 'slow', inputs: [{ name: 'x', datatype: 'FP32', shape: ['1'], parameters: {}, contents: null }], raw_input_contents: [Buffer.alloc(4)] };
    const codes: status[] = [];
    const calls = Array.from({ length: 40 }, (_, i) => new Promise<void>((resolve) => {
      const call = client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, request, (error) => {
        codes.push(error ? error.code : status.OK);
        resolve();
      });
      if (i % 2 === 0) setTimeout(() => call.cancel(), 10 + ((i * 7) % 200));
    }));
    await new Promise((resolve) => setTimeout(resolve, 250));
    const closing = server.close();
    await Promise.all(calls);
    await closing;
    client.close();
    expect(codes.filter((c) => c === status.CANCELLED)).toHaveLength(20);
    expect(codes.every((c) => [status.OK, status.CANCELLED, status.UNAVAILABLE].includes(c))).toBe(true);
    expect(server.activeRequests).toBe(0);
  });
});
