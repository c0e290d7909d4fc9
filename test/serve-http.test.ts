// The serving front end without Python: request parsing, routing, options, and the server around a stand-in UDF.
import { Int16, Table, Utf8, tableFromArrays, vectorFromArray } from 'apache-arrow';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidInputError, InvalidOptionError } from '../src/index.js';
import type { BatchEvent } from '../src/udf/udf.js';
import { inferResponseBody, parseInferRequest } from '../src/serve/infer-body.js';
import { type ModelServer, type ServableUdf, createServer } from '../src/serve/index.js';
import { matchRoute } from '../src/serve/router.js';
import { columnToTensor } from '../src/serve/tensor-encode.js';

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

const ONE = json({ inputs: [{ name: 'a', datatype: 'INT8', shape: [1], data: [1] }] });
const BOTH = json({ inputs: [{ name: 'a', datatype: 'INT8', shape: [1], data: [1], parameters: { binary_data_size: 1 } }] });

describe('parseInferRequest', () => {
  it('takes binary tensor data after the JSON, in input order, per Inference-Header-Content-Length', () => {
    const header = json({
      id: 'r1',
      inputs: [
        { name: 'a', datatype: 'INT8', shape: [2], parameters: { binary_data_size: 2 } },
        { name: 'b', datatype: 'INT8', shape: [1], data: [9] },
        { name: 'c', datatype: 'INT8', shape: [3], parameters: { binary_data_size: 3 } },
      ],
      outputs: [{ name: 'y', parameters: { binary_data: true } }, { name: 'z' }],
      parameters: { binary_data_output: true },
    });
    const request = parseInferRequest(Buffer.concat([header, Buffer.from([1, 2, 3, 4, 5])]), String(header.byteLength));
    expect(request.id).toBe('r1');
    expect(request.inputs.map((i) => [i.name, i.data instanceof Uint8Array ? [...i.data] : i.data])).toEqual([['a', [1, 2]], ['b', [9]], ['c', [3, 4, 5]]]);
    expect(request.outputs).toEqual([{ name: 'y', binary: true }, { name: 'z', binary: undefined }]);
    expect(request.binaryByDefault).toBe(true);
  });

  it.each([
    ['binary data without the header', json({ inputs: [{ name: 'a', datatype: 'INT8', shape: [1], parameters: { binary_data_size: 1 } }] }), undefined, /no Inference-Header-Content-Length/],
    ['a header past the body', json({ inputs: [] }), '999', /must be an integer no larger than the body/],
    ['bytes nobody claims', Buffer.concat([ONE, Buffer.from([1])]), String(ONE.byteLength), /1 bytes after the JSON/],
    ['a tensor without shape', json({ inputs: [{ name: 'a', datatype: 'INT8', data: [1] }] }), undefined, /input "a" needs a "shape"/],
    ['a negative dimension', json({ inputs: [{ name: 'a', datatype: 'INT8', shape: [-1], data: [1] }] }), undefined, /non-negative integers/],
    ['data and binary_data_size both', Buffer.concat([BOTH, Buffer.from([1])]), String(BOTH.byteLength), /has both/],
    ['an array body', json([1]), undefined, /must be a JSON object/],
    ['a numeric id', json({ id: 1, inputs: [{ name: 'a', datatype: 'INT8', shape: [1], data: [1] }] }), undefined, /"id" must be a string/],
  ])('refuses %s', (_, body, header, message) => {
    expect(() => parseInferRequest(body, header)).toThrowError(message);
    expect(() => parseInferRequest(body, header)).toThrow(InvalidInputError);
  });

  it('frames a response with binary outputs as JSON then bytes, giving the JSON length', () => {
    const table = new Table({ y: vectorFromArray([1, 2], new Int16()), s: vectorFromArray(['a', 'b'], new Utf8()) });
    const outputs = [columnToTensor('y', table.getChild('y')!, true, 'm'), columnToTensor('s', table.getChild('s')!, false, 'm')];
    const { headers, chunks } = inferResponseBody('m', 'id1', outputs);
    const body = Buffer.concat(chunks);
    const length = Number(headers['inference-header-content-length']);
    expect(JSON.parse(body.subarray(0, length).toString())).toEqual({
      model_name: 'm', id: 'id1', outputs: [
        { name: 'y', datatype: 'INT16', shape: [2], parameters: { binary_data_size: 4 } },
        { name: 's', datatype: 'BYTES', shape: [2], data: ['a', 'b'] },
      ],
    });
    expect([...body.subarray(length)]).toEqual([1, 0, 2, 0]);
    expect(inferResponseBody('m', undefined, [outputs[1]!]).headers).toEqual({ 'content-type': 'application/json' });
  });
});

describe('matchRoute', () => {
  it.each([
    ['GET', '/v2/health/live', { name: 'live' }], ['HEAD', '/v2/health/ready', { name: 'ready' }], ['GET', '/v2', { name: 'server' }],
    ['GET', '/v2/', { name: 'server' }], ['GET', '/metrics', { name: 'metrics' }], ['GET', '/v2/models/m%20x', { name: 'model', model: 'm x' }],
    ['GET', '/v2/models/m/ready', { name: 'modelReady', model: 'm' }], ['POST', '/v2/models/m/infer', { name: 'infer', model: 'm' }],
    ['GET', '/v2/models/m/versions/2', { name: 'model', model: 'm', version: '2' }],
    ['GET', '/v2/models/m/versions/2/ready', { name: 'modelReady', model: 'm', version: '2' }],
    ['POST', '/v2/models/m/versions/2/infer', { name: 'infer', model: 'm', version: '2' }],
    ['POST', '/v2/repository/index', { name: 'index' }], ['POST', '/v2/repository/models/m/load', { name: 'load', model: 'm' }],
    ['POST', '/v2/repository/models/m/unload', { name: 'unload', model: 'm' }],
  ])('%s %s', (method, path, route) => {
    expect(matchRoute(method, path)).toEqual(route);
  });

  it('throws 404 for unknown paths and 405 for wrong methods', () => {
    expect(() => matchRoute('GET', '/v2/models/m/versions/1/infer/x')).toThrow(expect.objectContaining({ status: 404 }));
    expect(() => matchRoute('GET', '/v2/models/m/versions')).toThrow(expect.objectContaining({ status: 404 }));
    expect(() => matchRoute('GET', '/v2/repository/index')).toThrow(expect.objectContaining({ status: 405, allow: 'POST' }));
    expect(() => matchRoute('POST', '/v2/health/live')).toThrow(expect.objectContaining({ status: 405, allow: 'GET' }));
    expect(() => matchRoute('GET', '/v2/models/m/infer')).toThrow(expect.objectContaining({ status: 405, allow: 'POST' }));
  });
});

/** A UDF stand-in: doubles column x, after `delayMs`, honouring the abort signal. */
class FakeUdf implements ServableUdf {
  readonly name = 'fake';
  ready = true;
  delayMs = 0;
  closed = false;
  private readonly listeners = new Set<(event: BatchEvent) => void>();

  calls = 0;
  aborts = 0;

  async callTable(table: Table, options: { signal?: AbortSignal } = {}): Promise<Table> {
    this.calls++;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, this.delayMs);
      options.signal?.addEventListener('abort', () => {
        this.aborts++;
        clearTimeout(timer);
        reject(options.signal!.reason);
      }, { once: true });
    });
    const x = table.getChild('x')!.toArray() as Float64Array;
    for (const listener of this.listeners) listener({ udf: this.name, rows: table.numRows, durationMs: 1, ok: true });
    return tableFromArrays({ y: x.map((v) => v * 2) });
  }

  observe(listener: (event: BatchEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

describe('createServer around a registered UDF', () => {
  const servers: ModelServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function start(udf: FakeUdf, drainTimeoutMs = 30_000): Promise<string> {
    const server = createServer({ udf, port: 0, drainTimeoutMs, logger: () => undefined });
    servers.push(server);
    return (await server.listen()).url;
  }

  const infer = (url: string, x: number[]): Promise<Response> => fetch(`${url}/v2/models/fake/infer`, {
    method: 'POST', body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP64', shape: [x.length], data: x }] }),
  });

  it('serves an undeclared model: metadata lists no tensors, tensors map by their datatypes', async () => {
    const url = await start(new FakeUdf());
    expect(await (await fetch(`${url}/v2/models/fake`)).json()).toEqual({ name: 'fake', versions: ['1'], platform: 'pyudf', inputs: [], outputs: [] });
    expect(await (await infer(url, [1, 2.5])).json()).toEqual({
      model_name: 'fake', model_version: '1', outputs: [{ name: 'y', datatype: 'FP64', shape: [2], data: [2, 5] }],
    });
    expect(await (await fetch(`${url}/v2`)).json()).toEqual({ name: 'pyudf', version: expect.stringMatching(/^\d+\.\d+\.\d+/), extensions: ['binary_tensor_data'] });
  });

  it('refuses hostile JSON tensors with 400 at once: 100k dimensions, 2^40 rows, data nested 100k deep', async () => {
    const url = await start(new FakeUdf());
    const post = (input: string) => fetch(`${url}/v2/models/fake/infer`, {
      method: 'POST', body: `{"inputs": [{"name": "x", "datatype": "FP64", ${input}}]}`,
    });
    const started = Date.now();
    const cases: [string, RegExp][] = [
      [`"shape": [${Array.from({ length: 100_000 }, () => 1).join(',')}], "data": [1]`, /100000 dimensions; at most 32/],
      [`"shape": [${2 ** 40}], "data": [1]`, /1099511627776 elements; at most 2147483647 fit in one request/],
      [`"shape": [1], "data": ${'['.repeat(100_000)}1${']'.repeat(100_000)}`, /nested deeper than its 1 dimensions|not valid JSON/],
    ];
    for (const [input, message] of cases) {
      const response = await post(input);
      expect(response.status).toBe(400);
      expect((await response.json() as { error: string }).error).toMatch(message);
    }
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await fetch(`${url}/v2/health/live`)).status).toBe(200);
  });

  it('answers 500, not null, for an output that JSON cannot carry (Infinity), and sends it as binary data', async () => {
    const url = await start(new FakeUdf());
    const response = await infer(url, [1e308]);
    expect(response.status).toBe(500);
    expect((await response.json() as { error: string }).error).toMatch(/FP64 holding Infinity at element 0, .*binary data/);
  });

  it('reports not ready while the UDF has no worker serving it, and leaves a given UDF open on close()', async () => {
    const udf = new FakeUdf();
    const url = await start(udf);
    udf.ready = false;
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(503);
    udf.ready = true;
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
    await servers[0]!.close();
    expect(udf.closed).toBe(false);
    // A closed server says so, with the stable code of every "closed" error.
    await expect(servers[0]!.listen()).rejects.toMatchObject({ name: 'ServerClosedError', code: 'ERR_POOL_CLOSED', closed: 'server' });
  });

  it('cancels requests still running after drainTimeoutMs and answers them 503', async () => {
    const udf = new FakeUdf();
    udf.delayMs = 60_000;
    const url = await start(udf, 200);
    const slow = infer(url, [1]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await servers[0]!.close();
    expect(Date.now() - started).toBeLessThan(2000);
    const response = await slow;
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: 'the server is shutting down' });
  });

  it('cancels the model call of a client that goes away', async () => {
    const udf = new FakeUdf();
    udf.delayMs = 60_000;
    const url = await start(udf);
    const controller = new AbortController();
    const request = fetch(`${url}/v2/models/fake/infer`, {
      method: 'POST', signal: controller.signal, body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP64', shape: [1], data: [1] }] }),
    }).catch((error: unknown) => error);
    await expect.poll(() => udf.calls).toBe(1);
    controller.abort();
    expect(await request).toBeInstanceOf(Error);
    await expect.poll(() => udf.aborts).toBe(1);
  });

  it('validates its options, naming the one at fault', () => {
    const udf = new FakeUdf();
    expect(() => createServer({})).toThrow(InvalidOptionError);
    expect(() => createServer({ udf, port: 70_000 })).toThrowError(/"port": must be at most 65535/);
    expect(() => createServer({ udf, maxBodyBytes: 0 })).toThrowError(/"maxBodyBytes"/);
    expect(() => createServer({ model: { code: 'def apply(s, b):\n    return b\n' } })).toThrowError(/"model.name": is required with inline "code"/);
    expect(() => createServer({ model: { module: 'm.py', name: 'a/b' } })).toThrowError(/URL-safe/);
    expect(createServer({ model: { module: 'dir/my_model.py' } }).modelName).toBe('my_model');
  });
});
