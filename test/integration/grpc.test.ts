// The gRPC inference service (KServe v2 / Triton) against real Python workers, driven by NVIDIA's tritonclient.grpc.
import { readFileSync } from 'node:fs';
import { Client, type MethodDefinition, type ServiceDefinition, type ServiceError, credentials, status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { Field, FixedSizeList, Float32, Int64, Schema, Utf8 } from 'apache-arrow';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import type { JsonValue, Pool, PoolStats } from '../../src/index.js';
import { InvalidOptionError } from '../../src/errors.js';
import { type GrpcCallEvent, type GrpcServerOptions, GrpcInferenceServer } from '../../src/serve/grpc/index.js';
import type { ModelInferRequest, ModelInferResponse } from '../../src/serve/grpc/messages.js';
import { LOADER_OPTIONS, PROTO_PATH, SERVICE_NAME } from '../../src/serve/grpc/proto.js';
import { ServedModels } from '../../src/serve/served-models.js';
import { fixture, PYTHON, ROOT, startPool, waitFor } from '../helpers.js';

const CLIENT = fixture('grpc/triton_client.py');
const item = (type: Float32): Field => new Field('item', type, true);
const X = new Schema([new Field('x', new FixedSizeList(3, item(new Float32())))]);

/** The UDFs of test/fixtures/grpc/models.py: the apply hook, and the declared input and output. */
const MODELS: Record<string, { input: Schema; output: Schema }> = {
  identity: { input: X, output: X },
  double: { input: new Schema([new Field('n', new Int64())]), output: new Schema([new Field('doubled', new Int64()), new Field('n', new Int64())]) },
  upper: { input: new Schema([new Field('s', new Utf8())]), output: new Schema([new Field('upper', new Utf8())]) },
  fail: { input: X, output: X },
  slow: { input: X, output: X },
};

const servers = new Set<GrpcInferenceServer>();

afterEach(async () => {
  // Before the pools (helpers.ts closes them in its own afterEach, which runs after this one).
  for (const server of servers) await server.close();
  servers.clear();
});

interface Served {
  readonly server: GrpcInferenceServer;
  readonly models: ServedModels;
  readonly address: string;
  readonly events: GrpcCallEvent[];
  readonly logs: string[];
  readonly pool: Pool<PoolStats>;
}

/** Every fixture UDF registered on a fresh pool, published as version 1, behind a gRPC server on a free port. */
async function serve(options: Partial<GrpcServerOptions> = {}, slowSeconds = 3): Promise<Served> {
  const pool = await startPool({ workers: 2 });
  const models = new ServedModels();
  for (const [name, { input, output }] of Object.entries(MODELS)) {
    const conf: JsonValue = name === 'slow' ? { seconds: slowSeconds } : null;
    const udf = await pool.register({ module: fixture('grpc/models.py'), name, apply: name, conf, input, output });
    models.publish(name, '1', udf);
  }
  const events: GrpcCallEvent[] = [];
  const logs: string[] = [];
  const server = new GrpcInferenceServer({
    models, port: 0, logger: (line) => logs.push(line), onCall: (event) => events.push(event), ...options,
  });
  servers.add(server);
  const port = await server.listen();
  return { server, models, address: `127.0.0.1:${port}`, events, logs, pool };
}

/** A grpc-js client of the same proto, for the calls whose timing the test controls. */
function nodeClient(address: string): { infer: (request: Partial<ModelInferRequest>) => Promise<ModelInferResponse>; close: () => void } {
  const service = loadSync(PROTO_PATH, LOADER_OPTIONS)[SERVICE_NAME] as ServiceDefinition;
  const method = service['ModelInfer'] as MethodDefinition<Partial<ModelInferRequest>, ModelInferResponse>;
  const client = new Client(address, credentials.createInsecure());
  const infer = (request: Partial<ModelInferRequest>): Promise<ModelInferResponse> => new Promise((resolve, reject) => {
    client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, request, (error, response) => {
      if (error) reject(error);
      else resolve(response!);
    });
  });
  return { infer, close: () => client.close() };
}

const ones = (rows: number): Partial<ModelInferRequest> => ({
  inputs: [{ name: 'x', datatype: 'FP32', shape: [String(rows), '3'], parameters: {}, contents: null }],
  raw_input_contents: [Buffer.from(new Float32Array(rows * 3).fill(1).buffer)],
});

async function python(args: string[], input?: Buffer): Promise<Record<string, unknown>> {
  const run = await execa(PYTHON, [CLIENT, ...args], { reject: false, ...(input ? { input } : {}) });
  expect(run.stderr).toBe('');
  expect(run.exitCode).toBe(0);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

describe('gRPC inference service', () => {
  it("declares Triton's messages, field numbers and methods exactly as tritonclient.grpc's own proto", async () => {
    const definition = loadSync(PROTO_PATH, LOADER_OPTIONS);
    const [file] = (definition['inference.ModelInferRequest'] as { fileDescriptorProtos: Buffer[] }).fileDescriptorProtos;
    const report = await python(['descriptors'], file);
    expect(report['differences']).toEqual([]);
    expect(report['methods']).toEqual(['ServerLive', 'ServerReady', 'ModelReady', 'ServerMetadata', 'ModelMetadata', 'ModelInfer']);
    expect(report['messages']).toEqual(expect.arrayContaining([
      'inference.InferParameter', 'inference.InferTensorContents', 'inference.ModelInferRequest.InferInputTensor',
      'inference.ModelInferResponse.InferOutputTensor', 'inference.ModelMetadataResponse.TensorMetadata',
    ]));
  });

  it('answers tritonclient.grpc: health, metadata, exact FP32, INT64 and BYTES tensors, versions, and errors as status codes', async () => {
    const { address, logs, models, events } = await serve({ maxRequestRows: 1000, maxMessageBytes: 1024 * 1024 });
    const report = await python([address, 'checks']);
    expect(report['health']).toEqual({
      live: true, ready: true, model_ready: true, model_ready_v1: true, model_ready_v9: false, unknown_model_ready: false,
    });
    const { version } = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { version: string };
    expect(report['server']).toEqual({ name: 'pyudf', version, extensions: ['binary_tensor_data'] });
    // int64 shapes, as protobuf's JSON writes them: strings.
    expect(report['model']).toEqual({
      name: 'double', versions: ['1'], platform: 'pyudf',
      inputs: [{ name: 'n', datatype: 'INT64', shape: ['-1'] }],
      outputs: [{ name: 'doubled', datatype: 'INT64', shape: ['-1'] }, { name: 'n', datatype: 'INT64', shape: ['-1'] }],
    });
    expect(report['identity_model']).toMatchObject({ inputs: [{ name: 'x', datatype: 'FP32', shape: ['-1', '3'] }] });

    const big = [0n, 1n, -7n, 2n ** 53n + 1n, -(2n ** 53n) - 3n, 2n ** 61n + 12345n, -(2n ** 61n) - 1n].map((n) => String(n * 2n));
    expect(report['infer']).toEqual({
      fp32: { id: 'fp32-1', model_name: 'identity', model_version: '1', shape: [6, 3] },
      int64: { doubled: big, outputs_when_one_asked: ['doubled'] },
      bytes: ['HELLO', 'HÉLLO WÖRLD', '', 'ÑANDÚ', 'ЖУК'],
      versioned: '1',
    });
    const typed = report['typed'] as { int64: string[]; errors: Record<string, { status: string; message: string }> };
    expect(typed.int64).toEqual(big);
    expect(typed.errors['wrong_count']).toEqual({ status: 'StatusCode.INVALID_ARGUMENT', message: 'input "n" has 2 values in int64_contents; shape [3] needs 3' });
    expect(typed.errors['raw_count']).toEqual({
      status: 'StatusCode.INVALID_ARGUMENT', message: 'the request has 1 inputs but 2 raw_input_contents; give one per input, in input order, or none',
    });

    const errors = report['errors'] as Record<string, { status: string; message: string }>;
    const codes = Object.fromEntries(Object.entries(errors).map(([name, e]) => [name, e.status.replace('StatusCode.', '')]));
    expect(codes).toEqual({
      unknown_model: 'NOT_FOUND', unknown_version: 'NOT_FOUND', unknown_model_metadata: 'NOT_FOUND',
      wrong_datatype: 'INVALID_ARGUMENT', wrong_shape: 'INVALID_ARGUMENT', unknown_datatype: 'INVALID_ARGUMENT',
      unknown_output: 'INVALID_ARGUMENT', raises: 'INTERNAL', too_many_rows: 'INVALID_ARGUMENT', too_large: 'RESOURCE_EXHAUSTED',
      unimplemented: 'UNIMPLEMENTED',
    });
    expect(errors['unknown_model']!.message).toBe('no model named "nope"; this server serves "double", "fail", "identity", "slow", "upper"');
    expect(errors['unknown_version']!.message).toBe('model "double" has no version "9"; it has 1');
    expect(errors['wrong_datatype']!.message).toBe('input "x" is FP64 [2, 3]; the model takes FP32 [-1, 3]');
    expect(errors['wrong_shape']!.message).toBe('input "x" is FP32 [2, 4]; the model takes FP32 [-1, 3]');
    expect(errors['unknown_datatype']!.message).toMatch(/^input "x" has datatype "FP128"; supported: BOOL, /);
    expect(errors['unknown_output']!.message).toBe('unknown output "z"; the model returns "x"');
    expect(errors['too_many_rows']!.message).toMatch(/has 1001 rows .*at most 1000 are accepted/);
    // The Python type, not its message (exposeErrors is off); the traceback goes to the log only.
    expect(errors['raises']!.message).toMatch(/^model "fail" raised ValueError \(request [0-9a-f-]{36}; the traceback is in the server log\)$/);
    expect(errors['raises']!.message).not.toContain('always fails');
    expect(logs.some((line) => line.includes('ValueError') && line.includes('this model always fails'))).toBe(true);
    expect(models.activeLeases).toBe(0);
    const infers = events.filter((e) => e.method === 'ModelInfer');
    expect(infers.find((e) => e.model === 'fail')).toMatchObject({ code: status.INTERNAL, version: '1' });
    expect(infers.find((e) => e.model === 'nope')).toMatchObject({ code: status.NOT_FOUND, version: null });
    expect(infers.filter((e) => e.code === status.OK).length).toBeGreaterThanOrEqual(8);
  });

  it('frees a call whose client gave up (its deadline passed) at once, while the model still runs', async () => {
    const { server, models, address, events } = await serve({}, 3);
    const run = python([address, 'cancel']);
    await waitFor(() => server.inFlight === 1, 60_000, 'the slow call to arrive');
    const arrived = performance.now();
    await waitFor(() => server.inFlight === 0, 5_000, 'the cancelled call to leave');
    // The client's timeout is 0.5 s; the model sleeps 3 s.
    expect(performance.now() - arrived).toBeLessThan(1_500);
    expect(models.activeLeases).toBe(0);
    const report = await run;
    expect(report['status']).toBe('StatusCode.DEADLINE_EXCEEDED');
    expect(events.find((e) => e.model === 'slow')).toMatchObject({ method: 'ModelInfer', code: status.CANCELLED });
    // The server carries on (the other worker answers while the first still sleeps).
    const client = nodeClient(address);
    const response = await client.infer({ model_name: 'identity', ...ones(2) });
    client.close();
    expect(response.outputs).toEqual([{ name: 'x', datatype: 'FP32', shape: ['2', '3'], parameters: {}, contents: null }]);
  });

  it('close() lets a running call finish and refuses new ones', async () => {
    const { server, address, models } = await serve({}, 1);
    const client = nodeClient(address);
    const running = client.infer({ model_name: 'slow', id: 'last', ...ones(2) });
    await waitFor(() => server.inFlight === 1, 10_000, 'the slow call to arrive');
    const closeStarted = performance.now();
    const closing = server.close().then(() => performance.now() - closeStarted);
    const refused = await client.infer({ model_name: 'identity', ...ones(1) }).catch((error: ServiceError) => error);
    expect((refused as ServiceError).code).toBe(status.UNAVAILABLE);
    const [response, closeMs] = await Promise.all([running, closing]);
    // The model sleeps 1 s from the call's arrival: close() waited for it.
    expect(closeMs).toBeGreaterThan(500);
    expect(response).toMatchObject({ model_name: 'slow', model_version: '1', id: 'last', outputs: [{ name: 'x', shape: ['2', '3'] }] });
    expect(new Float32Array(new Uint8Array(response.raw_output_contents[0]!).buffer)).toEqual(new Float32Array(6).fill(1));
    expect(models.activeLeases).toBe(0);
    client.close();
  });

  it('close() past drainTimeoutMs cancels the calls still running with UNAVAILABLE', async () => {
    const { server, address, models } = await serve({ drainTimeoutMs: 200 }, 2);
    const client = nodeClient(address);
    const running = client.infer({ model_name: 'slow', ...ones(1) }).catch((error: ServiceError) => error);
    await waitFor(() => server.inFlight === 1, 10_000, 'the slow call to arrive');
    const started = performance.now();
    await server.close();
    expect(performance.now() - started).toBeLessThan(1_500);
    const error = await running as ServiceError;
    expect(error.code).toBe(status.UNAVAILABLE);
    expect(error.details).toBe('the server is shutting down');
    expect(models.activeLeases).toBe(0);
    client.close();
  });

  it('checks its options, and rejects listen() on a port in use', async () => {
    const models = new ServedModels();
    expect(() => new GrpcInferenceServer({ models, port: 70_000 })).toThrow(InvalidOptionError);
    expect(() => new GrpcInferenceServer({ models, maxMessageBytes: 0 })).toThrow(/maxMessageBytes/);
    expect(() => new GrpcInferenceServer({ models: {} as ServedModels })).toThrow(/models/);
    const logger = (): void => undefined;
    const first = new GrpcInferenceServer({ models, port: 0, logger });
    servers.add(first);
    const port = await first.listen();
    const second = new GrpcInferenceServer({ models, port, logger });
    servers.add(second);
    await expect(second.listen()).rejects.toThrow(`the gRPC server cannot listen on 127.0.0.1:${port}`);
    // The server closed itself: it does not try again.
    await expect(second.listen()).rejects.toThrow(/is closed/);
  });
});
