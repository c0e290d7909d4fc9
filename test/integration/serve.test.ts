// The Open Inference Protocol server against real Python workers, driven by tritonclient, fetch and Arrow.
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import {
  Field, FixedSizeList, Float32, Float64, Schema, Table, Utf8, makeData, makeVector, tableFromIPC, tableToIPC, vectorFromArray,
} from 'apache-arrow';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import type { RegisterOptions } from '../../src/index.js';
import { type ModelServer, type ServeOptions, createServer, installSignalHandlers } from '../../src/serve/index.js';
import { BACKENDS, type BackendName, fixture, isAlive, PYTHON, startPoolOn, waitFor, workerPids } from '../helpers.js';

const item = (type: Float32 | Float64 | FixedSizeList): Field => new Field('item', type, true);
const MODEL: RegisterOptions = {
  module: fixture('serve_model.py'),
  conf: { slow_seconds: 1 },
  input: new Schema([new Field('x', new FixedSizeList(4, item(new Float32()))), new Field('tag', new Utf8())]),
  output: new Schema([
    new Field('y', new Float32()), new Field('label', new Utf8()),
    new Field('grid', new FixedSizeList(2, item(new FixedSizeList(2, item(new Float64()))))),
  ]),
};

const servers = new Set<ModelServer>();
const logs: string[] = [];

/** A server on a free port with a quiet logger; closed after each test. */
async function serve(backend: BackendName, options: Partial<ServeOptions> = {}): Promise<{ server: ModelServer; url: string }> {
  const pool = options.pool ?? (options.poolOptions ? undefined : await startPoolOn(backend, { workers: 2 }));
  const server = createServer({
    model: MODEL, port: 0, logger: (line) => logs.push(line), ...(pool ? { pool } : {}), ...options,
  });
  servers.add(server);
  const { url } = await server.listen();
  return { server, url };
}

afterEach(async () => {
  for (const server of servers) await server.close();
  servers.clear();
  logs.length = 0;
});

/** A JSON inference request body for rows of x (4 floats each) and their tags. */
function inferBody(x: number[][], tags: string[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    inputs: [
      { name: 'x', datatype: 'FP32', shape: [x.length, 4], data: x },
      { name: 'tag', datatype: 'BYTES', shape: [tags.length], data: tags },
    ],
    ...extra,
  });
}

/** POSTs a body in chunks (Transfer-Encoding: chunked), pausing between them; resolves on the response. */
function rawPost(url: string, chunks: Buffer[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${url}/v2/models/serve_model/infer`, { method: 'POST' }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      response.on('end', () => resolve({ status: response.statusCode!, body }));
    });
    request.on('error', reject);
    const writeNext = (i: number): void => {
      if (i === chunks.length) { request.end(); return; }
      request.write(chunks[i]!, () => setTimeout(() => writeNext(i + 1), 20));
    };
    writeNext(0);
  });
}

const post = (url: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${url}/v2/models/serve_model/infer`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

describe.each(BACKENDS)('serve: Open Inference Protocol (%s)', (backend) => {
  it('answers NVIDIA tritonclient.http with its default settings: health, metadata, binary and JSON tensors', async () => {
    const { url } = await serve(backend);
    const run = await execa(PYTHON, [fixture('oip_client.py'), url.replace('http://', ''), 'serve_model'], { reject: false });
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    const report = JSON.parse(run.stdout) as Record<string, any>;
    expect(report.server).toMatchObject({ name: 'pyudf', extensions: ['binary_tensor_data'] });
    expect(report.model).toEqual({
      name: 'serve_model', versions: ['1'], platform: 'pyudf',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }, { name: 'tag', datatype: 'BYTES', shape: [-1] }],
      outputs: [
        { name: 'y', datatype: 'FP32', shape: [-1] }, { name: 'label', datatype: 'BYTES', shape: [-1] },
        { name: 'grid', datatype: 'FP64', shape: [-1, 2, 2] },
      ],
    });
    expect(report.infer).toHaveLength(6);
    expect(report.subset).toEqual(['y']);
    expect(report.python_error.status).toBe('500');
    expect(report.python_error.message).toMatch(/model "serve_model" raised ValueError \(request [0-9a-f-]{36}; the traceback is in the server log\)/);
    expect(report.python_error.message).not.toMatch(/Traceback|boom requested|serve_model\.py/);
    expect(report.bad_input).toEqual({ status: '400', message: 'unknown input "nope"; the model takes "x", "tag"' });
    expect(logs.join('\n')).toMatch(/PythonError: ValueError: boom requested[\s\S]*Traceback/);
  });

  it('takes and returns a raw Arrow IPC stream, and refuses one that differs from the declared inputs', async () => {
    const { url } = await serve(backend);
    const x = makeVector(makeData({
      type: MODEL.input!.fields[0]!.type as FixedSizeList, length: 2, nullCount: 0,
      child: makeData({ type: new Float32(), length: 8, nullCount: 0, data: new Float32Array([1, 2, 3, 4, -5, -6, -7, -8]) }),
    }));
    const input = new Table({ x, tag: vectorFromArray(['p', 'q'], new Utf8()) });
    const response = await post(url, tableToIPC(input, 'stream'), { 'content-type': 'application/vnd.apache.arrow.stream' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/vnd.apache.arrow.stream');
    const output = tableFromIPC(new Uint8Array(await response.arrayBuffer()));
    expect([...output.getChild('y')!]).toEqual([10, -26]);
    expect([...output.getChild('label')!]).toEqual(['p:pos', 'q:neg']);

    const wrong = new Table({ x: vectorFromArray([1, 2], new Float64()), tag: vectorFromArray(['p', 'q'], new Utf8()) });
    const refused = await post(url, tableToIPC(wrong, 'stream'), { 'content-type': 'application/vnd.apache.arrow.stream' });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: expect.stringMatching(/input column "x" of UDF "serve_model" is Float64/) });
    const garbage = await post(url, 'not arrow', { 'content-type': 'application/vnd.apache.arrow.stream' });
    expect(garbage.status).toBe(400);
  });

  it('answers a Python error with 500 and no traceback, and logs the traceback with the request id', async () => {
    const { url } = await serve(backend);
    const response = await post(url, inferBody([[1, 2, 3, 4]], ['boom']));
    expect(response.status).toBe(500);
    const requestId = response.headers.get('x-request-id')!;
    const { error } = await response.json() as { error: string };
    expect(error).toBe(`model "serve_model" raised ValueError (request ${requestId}; the traceback is in the server log)`);
    expect(logs.join('\n')).toMatch(/boom requested/);
  });

  it('is live while the model loads and ready only once it is, and while a worker serves it', async () => {
    const pool = await startPoolOn(backend, { workers: 1 });
    const server = createServer({ model: { ...MODEL, conf: { init_seconds: 1 } }, pool, port: 0, logger: (line) => logs.push(line) });
    servers.add(server);
    const listening = server.listen();
    await waitFor(() => server.url !== undefined, 5000, 'the port to be bound');
    const url = server.url!;
    expect((await fetch(`${url}/v2/health/live`)).status).toBe(200);
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(503);
    expect((await fetch(`${url}/v2/models/serve_model/ready`)).status).toBe(503);
    expect(await (await post(url, inferBody([[1, 2, 3, 4]], ['a']))).json()).toEqual({ error: 'model "serve_model" is still loading' });
    // Metadata comes from the declared schemas, so it is there before the model is.
    expect((await fetch(`${url}/v2/models/serve_model`)).status).toBe(200);
    await listening;
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);

    // The only worker dies: not ready until its replacement has run init (1 s) again.
    const [pid] = workerPids(pool);
    process.kill(pid!, 'SIGKILL');
    const states: number[] = [];
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !(states.includes(503) && states.at(-1) === 200)) {
      states.push((await fetch(`${url}/v2/models/serve_model/ready`)).status);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(states).toContain(503);
    expect(states.at(-1)).toBe(200);
    expect(pool.restarts).toBe(1);
    expect((await post(url, inferBody([[1, 2, 3, 4]], ['a']))).status).toBe(200);
  });

  it('shares the micro-batcher between concurrent requests: 200 one-row requests, all right, in fewer batches', async () => {
    const { url } = await serve(backend);
    const rows = Array.from({ length: 200 }, (_, i) => [i, 1, 2, -i * 2]);
    const replies = await Promise.all(rows.map(async (row, i) => {
      const response = await post(url, inferBody([row], [`t${i}`], { id: String(i) }));
      return response.json() as Promise<{ id: string; outputs: { name: string; data: unknown[] }[] }>;
    }));
    replies.forEach((reply, i) => {
      expect(reply.id).toBe(String(i));
      expect(reply.outputs.find((o) => o.name === 'y')!.data).toEqual([3 - i]);
      expect(reply.outputs.find((o) => o.name === 'label')!.data).toEqual([`t${i}:${3 - i >= 0 ? 'pos' : 'neg'}`]);
    });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const batches = Number(/^pyudf_batch_rows_count\{model="serve_model",version="1"\} (\d+)$/m.exec(metrics)![1]);
    const batchedRows = Number(/^pyudf_batch_rows_sum\{model="serve_model",version="1"\} (\d+)$/m.exec(metrics)![1]);
    expect(batchedRows).toBe(200);
    expect(batches).toBeLessThan(200);
  });

  it('fails only the request whose rows raise when requests share a batch', async () => {
    const { url } = await serve(backend);
    const [good, bad] = await Promise.all([post(url, inferBody([[1, 1, 1, 1]], ['fine'])), post(url, inferBody([[1, 1, 1, 1]], ['boom']))]);
    expect(good.status).toBe(200);
    expect(bad.status).toBe(500);
  });

  it('serves Prometheus metrics: requests by code, latency, batch sizes, queue depth, workers, restarts', async () => {
    const { url } = await serve(backend);
    await post(url, inferBody([[1, 2, 3, 4], [5, 6, 7, 8]], ['a', 'b']));
    await post(url, inferBody([[1, 2, 3, 4]], ['boom']));
    await post(url, '{');
    const response = await fetch(`${url}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/);
    const text = await response.text();
    const line = (pattern: string): string | undefined => text.split('\n').find((l) => l.startsWith(pattern));
    expect(line('pyudf_requests_total{model="serve_model",version="1",protocol="json",code="200"}')).toMatch(/ 1$/);
    expect(line('pyudf_requests_total{model="serve_model",version="1",protocol="json",code="500"}')).toMatch(/ 1$/);
    expect(line('pyudf_requests_total{model="serve_model",version="1",protocol="json",code="400"}')).toMatch(/ 1$/);
    expect(line('pyudf_request_duration_seconds_count{model="serve_model",version="1",protocol="json"}')).toMatch(/ 3$/);
    expect(line('pyudf_batch_rows_sum{model="serve_model",version="1"}')).toMatch(/ 3$/);
    expect(line('pyudf_batch_duration_seconds_count{model="serve_model",version="1",ok="false"}')).toMatch(/ [1-9]\d*$/);
    expect(line('pyudf_queue_depth ')).toMatch(/ 0$/);
    expect(line('pyudf_workers_ready ')).toMatch(/ 2$/);
    expect(line('pyudf_worker_restarts_total ')).toMatch(/ 0$/);
    expect(line('pyudf_model_ready{model="serve_model",version="1"}')).toMatch(/ 1$/);
    expect(line('pyudf_requests_in_flight{model="serve_model",version="1"}')).toMatch(/ 0$/);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
  });

  it('close() lets an in-flight request finish with 200, refuses new connections, then resolves', async () => {
    const { server, url } = await serve(backend);
    const slow = post(url, inferBody([[1, 1, 1, 1]], ['slow']));
    await new Promise((resolve) => setTimeout(resolve, 200));
    let closed = false;
    const closing = server.close().then(() => { closed = true; });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(closed).toBe(false);
    await expect(fetch(`${url}/v2/health/live`)).rejects.toThrow();
    const response = await slow;
    expect(response.status).toBe(200);
    expect((await response.json() as { outputs: { data: unknown[] }[] }).outputs[0]!.data).toEqual([4]);
    await closing;
    expect(closed).toBe(true);
  });

});

// What the HTTP layer answers before any worker is asked, and signals, do not depend on the backend:
// tested once, on local workers.
describe('serve: requests refused by the HTTP layer, and signals', () => {
  it.each([
    ['bad shape', inferBody([[1, 2, 3, 4]], ['a']).replace('"shape":[1,4]', '"shape":[2,4]'), /input "x" has 4 values; shape \[2, 4\] needs 8/],
    ['unknown input', inferBody([[1, 2, 3, 4]], ['a']).replace('"name":"tag"', '"name":"tags"'), /unknown input "tags"; the model takes "x", "tag"/],
    ['wrong datatype', inferBody([[1, 2, 3, 4]], ['a']).replace('"FP32"', '"FP64"'), /input "x" is FP64 \[1, 4\]; the model takes FP32 \[-1, 4\]/],
    ['bad JSON', '{"inputs": [', /the request body is not valid JSON/],
    ['no inputs', '{"inputs": []}', /"inputs" must be a non-empty array/],
    ['unknown output', inferBody([[1, 2, 3, 4]], ['a'], { outputs: [{ name: 'z' }] }), /unknown output "z"; the model returns "y", "label", "grid"/],
  ])('answers a request with %s with 400 and a JSON error saying what is wrong', async (_, body, message) => {
    const { url } = await serve('local');
    const response = await post(url, body);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect((await response.json() as { error: string }).error).toMatch(message);
  });

  it('answers unknown models and paths with 404, wrong methods with 405, and echoes the request id', async () => {
    const { url } = await serve('local');
    const unknown = await fetch(`${url}/v2/models/other/infer`, { method: 'POST', body: inferBody([[1, 2, 3, 4]], ['a']) });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'no model named "other"; this server serves "serve_model"' });
    expect((await fetch(`${url}/v2/models/other`)).status).toBe(404);
    expect((await fetch(`${url}/v3`)).status).toBe(404);
    const wrongMethod = await fetch(`${url}/v2/models/serve_model/infer`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    const ok = await post(url, inferBody([[1, 2, 3, 4]], ['a'], { id: 'my-id' }));
    expect(await ok.json()).toMatchObject({ id: 'my-id', model_name: 'serve_model' });
    expect(ok.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses a body over maxBodyBytes with 413 without buffering it, and keeps serving', async () => {
    const { url } = await serve('local', { maxBodyBytes: 4096 });
    // Over Content-Length: refused from the headers alone, even though the client is still sending 16 MiB.
    const big = inferBody(Array.from({ length: 400_000 }, () => [1, 2, 3, 4]), []);
    const response = await post(url, big);
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ error: 'the request body is larger than the server\'s limit of 4096 bytes (maxBodyBytes)' });
    // Chunked (no Content-Length): refused once the bytes received pass the limit.
    const chunked = await rawPost(url, [Buffer.alloc(3000, 32), Buffer.alloc(3000, 32), Buffer.alloc(3000, 32)]);
    expect(chunked.status).toBe(413);
    expect((await post(url, inferBody([[1, 2, 3, 4]], ['a']))).status).toBe(200);
  });

  it('on SIGTERM drains in-flight requests, then stops the workers of the pool it created', async () => {
    const { server, url } = await serve('local', { poolOptions: { python: PYTHON, workers: 2, logger: () => undefined } });
    const workers = childPythons();
    expect(workers).toHaveLength(2);
    const uninstall = installSignalHandlers(server, { exit: false, logger: (line) => logs.push(line) });
    try {
      const slow = post(url, inferBody([[1, 1, 1, 1]], ['slow']));
      await new Promise((resolve) => setTimeout(resolve, 200));
      process.emit('SIGTERM', 'SIGTERM');
      expect((await slow).status).toBe(200);
      await server.close();
      expect(workers.filter(isAlive)).toEqual([]);
      expect(logs).toContain('SIGTERM: finishing in-flight requests, then stopping the workers');
    } finally {
      uninstall();
    }
  });
});

/** Python processes started by this (test) process: the workers of pools it created. */
function childPythons(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out.split('\n').filter((line) => /python/.test(line)).map((line) => Number(line.trim().split(/\s+/)[0]));
}
