// The Ray backend against a real Ray on loopback: the front ends unchanged, actors over tcp with CURVE, files, failures.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Field, FixedSizeList, Float32, Float64, Schema, tableFromArrays, Utf8 } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dealer } from 'zeromq';
import { RayUnavailableError } from '../../src/errors.js';
import { createPool, type Pool, PythonError, type RayBackendStats } from '../../src/index.js';
import { encodeHeader, encodeJson, READY, RESULT } from '../../src/protocol/wire.js';
import { createServer } from '../../src/serve/index.js';
import { newCurveKeyPair } from '../../src/transport/router.js';
import {
  type CapturedLog, fixture, isRunning, PYTHON, RAY_TEST_ENV, type RayCluster, startPool, startRayCluster, startRayPool, tempDir, waitFor,
} from '../helpers.js';

const int64s = (n: number): BigInt64Array => BigInt64Array.from({ length: n }, (_, i) => BigInt(i));
const actorPids = (pool: Pool<RayBackendStats>): number[] => pool.stats().workers.filter((w) => w.state !== 'dead').flatMap((w) => w.pid ?? []);

let cluster: RayCluster;
/** One pool for most tests: starting actors takes seconds. */
let pool: Pool<RayBackendStats>;
const logs: CapturedLog[] = [];

beforeAll(async () => {
  cluster = await startRayCluster(2);
  pool = await createPool({
    python: PYTHON, env: RAY_TEST_ENV, livenessTimeoutMs: 1_000, logger: (line, meta) => logs.push({ ...meta, line }),
    backend: { type: 'ray', address: cluster.address, actors: 2, actorOptions: { num_cpus: 1 } },
  });
});

afterAll(async () => {
  const pids = pool ? actorPids(pool) : [];
  await pool?.close();
  await cluster?.close();
  expect(pids.filter(isRunning)).toEqual([]);
});

describe('a pool on Ray', () => {
  it('applies 1M int64 rows exactly on 2 actors, and stats show each actor\'s node and load', async () => {
    const udf = await pool.register({ module: fixture('identity.py') });
    const x = int64s(1_000_000);
    const out = await udf.apply(tableFromArrays({ x }));
    expect(out.getChild('x')!.toArray()).toEqual(x);
    const stats = pool.stats();
    expect(stats).toMatchObject({ backend: 'ray', readyWorkers: 2, queued: 0, inFlight: 0, ray: { address: cluster.address, local: false, connected: true } });
    expect(stats.ray.endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    for (const actor of stats.workers) {
      expect(actor).toMatchObject({ state: 'ready', inFlight: 0, udfIds: [udf.id], nodeIp: '127.0.0.1' });
      expect(cluster.nodeIds).toContain(actor.nodeId);
      expect(isRunning(actor.pid!)).toBe(true);
    }
  });

  it('gives each actor as many numeric-library threads as the CPUs Ray reserves for it', async () => {
    const udf = await pool.register({ module: fixture('chatty.py'), conf: {} });
    const out = await udf.apply(tableFromArrays({ x: int64s(4) }));
    // num_cpus: 1, so TensorFlow's pool is 1 thread, not one per core of the node.
    for (const name of ['OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'TF_NUM_INTRAOP_THREADS']) {
      expect(new Set(out.getChild(name)!.toArray() as string[])).toEqual(new Set(['1']));
    }
    await udf.close();
  });

  it('streams, calls row by row, and never takes a long apply for a dead actor', async () => {
    const udf = await pool.register({ module: fixture('sleepy.py'), conf: { seconds: 0 } });
    const batches = [0, 1, 2].map((i) => tableFromArrays({ x: Float64Array.of(i, i + 0.5) }));
    const streamed: number[] = [];
    for await (const batch of udf.stream(batches)) streamed.push(...Array.from(batch.getChild('x')!.toArray() as Float64Array));
    expect(streamed).toEqual([0, 0.5, 1, 1.5, 2, 2.5]);
    const rows = await Promise.all([1, 2, 3].map((x) => udf.call({ x })));
    expect(rows).toEqual([{ x: 1 }, { x: 2 }, { x: 3 }]);
    // 2.5 s in apply against a 1 s heartbeat timeout: libzmq's thread answers heartbeats while Python computes.
    const restarts = pool.restarts;
    const slow = await pool.register({ module: fixture('sleepy.py'), conf: { seconds: 2.5 }, batchSize: 1 });
    expect((await slow.apply(tableFromArrays({ x: Float64Array.of(1, 2) }))).numRows).toBe(2);
    expect(pool.restarts).toBe(restarts);
  });

  it('serves an Open Inference Protocol request through createServer', async () => {
    const item = (type: Float32 | Float64 | FixedSizeList): Field => new Field('item', type, true);
    const server = createServer({
      pool, port: 0, logger: () => undefined,
      model: {
        module: fixture('serve_model.py'), conf: { slow_seconds: 0 },
        input: new Schema([new Field('x', new FixedSizeList(4, item(new Float32()))), new Field('tag', new Utf8())]),
        output: new Schema([
          new Field('y', new Float32()), new Field('label', new Utf8()),
          new Field('grid', new FixedSizeList(2, item(new FixedSizeList(2, item(new Float64()))))),
        ]),
      },
    });
    try {
      const { url } = await server.listen();
      const response = await fetch(`${url}/v2/models/serve_model/infer`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [
          { name: 'x', datatype: 'FP32', shape: [2, 4], data: [[1, 2, 3, 4], [-1, -2, -3, -4]] },
          { name: 'tag', datatype: 'BYTES', shape: [2], data: ['a', 'b'] },
        ] }),
      });
      expect(response.status).toBe(200);
      const { outputs } = await response.json() as { outputs: { name: string; data: unknown[] }[] };
      expect(outputs.find((o) => o.name === 'y')!.data).toEqual([10, -10]);
      expect(outputs.find((o) => o.name === 'label')!.data).toEqual(['a:pos', 'b:neg']);
    } finally {
      await server.close();
    }
  });

  it('fails register() with the PythonError of an init that raises, and keeps serving', async () => {
    const error = await pool.register({ module: fixture('failing_init.py'), conf: { path: '/m.bin' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PythonError);
    expect(error).toMatchObject({ phase: 'init', pythonType: 'RuntimeError', pythonMessage: 'model file is corrupt: /m.bin' });
    expect(pool.readyWorkers).toBe(2);
  });

  it('sends the module, the modules beside it and the artifacts to the actors; init sees local paths', async () => {
    const dir = tempDir('ray-code');
    writeFileSync(path.join(dir, 'helper.py'), 'FACTOR = 10\n');
    writeFileSync(path.join(dir, 'scale.txt'), '4');
    mkdirSync(path.join(dir, 'vocab'));
    writeFileSync(path.join(dir, 'vocab', 'words.txt'), 'a b c');
    writeFileSync(path.join(dir, 'model.py'), [
      'import os, helper',
      'def init(conf):',
      '    with open(conf["artifacts"]["scale"]) as f: scale = int(f.read())',
      '    words = open(os.path.join(conf["artifacts"]["vocab"], "words.txt")).read().split()',
      '    return {"k": scale * helper.FACTOR + len(words), "scale": conf["artifacts"]["scale"], "k0": conf["k0"]}',
      'def apply(state, batch):',
      '    n = batch.num_rows',
      '    return {"y": [x * state["k"] + state["k0"] for x in batch.column("x").to_pylist()], "where": [os.path.dirname(__file__)] * n,',
      '            "scale": [state["scale"]] * n}',
    ].join('\n'));
    const udf = await pool.register({
      module: path.join(dir, 'model.py'), conf: { k0: 1 },
      artifacts: { scale: path.join(dir, 'scale.txt'), vocab: path.join(dir, 'vocab') },
    });
    const out = await udf.apply(tableFromArrays({ x: Float64Array.of(1, 2) }));
    expect(Array.from(out.getChild('y')!.toArray() as Float64Array)).toEqual([44, 87]);
    // Each actor loaded its own copy from its node's cache, not the files here.
    const where = out.getChild('where')!.get(0) as string;
    expect(where).not.toBe(dir);
    expect(where).toMatch(/pyudf-files/);
    expect(out.getChild('scale')!.get(0) as string).toMatch(/pyudf-files\/[0-9a-f]{40}\/scale\.txt$/);
  });

  it('serves a saved model with no Python file: the model file travels to the actors', async () => {
    const file = path.join(tempDir('ray-model'), 'threshold.joblib');
    // A regressor trained on y = 2x: predict gives 2x back.
    execFileSync(PYTHON, ['-c', [
      'import sys, joblib, numpy as np',
      'from sklearn.linear_model import LinearRegression',
      'x = np.arange(10, dtype=float).reshape(-1, 1)',
      'joblib.dump(LinearRegression().fit(x, 2 * x[:, 0]), sys.argv[1])',
    ].join('\n'), file]);
    const udf = await pool.register({ model: file });
    const out = await udf.apply(tableFromArrays({ x: Float64Array.of(1, 5) }));
    expect(Array.from(out.getChild('predict')!.toArray() as Float64Array).map(Math.round)).toEqual([2, 10]);
  });

  it('replaces an actor whose process is SIGKILLed mid-run, and returns every row exactly once', async () => {
    const udf = await pool.register({ module: fixture('sleepy.py'), conf: { seconds: 0.05 }, batchSize: 1_000 });
    const x = int64s(100_000);
    const restarts = pool.restarts;
    const running = udf.apply(tableFromArrays({ x }));
    await waitFor(() => pool.stats().inFlight > 0, 10_000, 'batches in flight');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const victim = pool.stats().workers.find((w) => w.inFlight > 0)!;
    process.kill(victim.pid!, 'SIGKILL');
    const out = await running;
    expect(out.getChild('x')!.toArray()).toEqual(x);
    await waitFor(() => pool.restarts === restarts + 1 && pool.readyWorkers === 2, 60_000, 'the replacement actor');
    expect(pool.stats().workers.map((w) => w.id)).not.toContain(victim.id);
    expect((await udf.apply(tableFromArrays({ x: int64s(10) }))).numRows).toBe(10);
  });

  it('acts on no frame from a peer without the pool\'s CURVE keys, even one using a worker\'s id', async () => {
    const udf = await pool.register({ module: fixture('identity.py') });
    const { endpoint } = pool.stats().ray;
    const restarts = pool.restarts;
    const seen = logs.length;
    const plain = new Dealer({ routingId: 'w0', linger: 0 });
    const strangerKeys = newCurveKeyPair();
    const wrongServer = new Dealer({
      routingId: 'w1', linger: 0, curveServerKey: newCurveKeyPair().publicKey, curvePublicKey: strangerKeys.publicKey, curveSecretKey: strangerKeys.secretKey,
    });
    try {
      for (const peer of [plain, wrongServer]) {
        peer.connect(endpoint);
        await peer.send([encodeHeader(READY), encodeJson({ pid: 1, python: '3', pyarrow: '1', pyzmq: '1' })]);
        await peer.send([encodeHeader(RESULT, 1, udf.id), Buffer.from('not arrow')]);
      }
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect((await udf.apply(tableFromArrays({ x: int64s(1_000) }))).numRows).toBe(1_000);
      expect(pool.restarts).toBe(restarts);
      expect(pool.readyWorkers).toBe(2);
      expect(logs.slice(seen).filter((l) => /protocol|token/i.test(l.line))).toEqual([]);
    } finally {
      plain.close();
      wrongServer.close();
    }
  });

  it('fails createPool() with RayUnavailableError when no cluster answers at the address', async () => {
    const started = Date.now();
    const error = await createPool({ python: PYTHON, env: RAY_TEST_ENV, logger: () => undefined, backend: { type: 'ray', address: '127.0.0.1:1' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RayUnavailableError);
    expect((error as RayUnavailableError).message).toMatch(/127\.0\.0\.1:1.*nothing accepts connections/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('gives init the artifacts\' paths on local workers too (absolute), and checks the option', async () => {
    const dir = tempDir('local-artifacts');
    writeFileSync(path.join(dir, 'w.txt'), 'w');
    const local = await startPool({ workers: 1 });
    const relative = path.relative(process.cwd(), path.join(dir, 'w.txt'));
    const udf = await local.register({
      code: 'def init(conf):\n    return conf\ndef apply(conf, batch):\n    return {"p": [conf["artifacts"]["w"]] * batch.num_rows, "k": [conf["k"]] * batch.num_rows}\n',
      conf: { k: 1 }, artifacts: { w: relative },
    });
    const out = await udf.apply(tableFromArrays({ x: Float64Array.of(0) }));
    expect(out.getChild('p')!.get(0)).toBe(path.join(dir, 'w.txt'));
    expect(out.getChild('k')!.get(0)).toBe(1n);
    const refused = (options: object) => local.register({ code: 'def apply(s, b):\n    return b\n', ...options }).catch((e: unknown) => e);
    expect(await refused({ conf: [1], artifacts: { w: relative } })).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'conf', message: /must be an object/ });
    expect(await refused({ conf: { artifacts: 1 }, artifacts: { w: relative } })).toMatchObject({ option: 'conf', message: /"artifacts" key of its own/ });
    expect(await refused({ artifacts: { w: path.join(dir, 'missing') } })).toMatchObject({ option: 'artifacts.w', message: /no such file/ });
  });

  it('starts a Ray of its own on loopback when given no address, and close() leaves none of it running', async () => {
    const own = await startRayPool({ backend: { type: 'ray', actors: 1, numCpus: 1 }, env: RAY_TEST_ENV });
    // Ray reports where an actor runs beside its connecting: the two may arrive in either order.
    await waitFor(() => own.stats().workers.every((w) => w.pid !== undefined), 5_000, 'the actor\'s placement');
    const { ray, workers } = own.stats();
    expect(ray).toMatchObject({ address: null, local: true, connected: true });
    expect(ray.endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:/);
    expect(ray.pids.length).toBeGreaterThan(0);
    const started = [...ray.pids, ray.driverPid!, ...workers.map((w) => w.pid!)];
    expect(started.every(isRunning)).toBe(true);
    const udf = await own.register({ code: 'def apply(state, batch):\n    return batch\n' });
    expect((await udf.apply(tableFromArrays({ x: int64s(5) }))).numRows).toBe(5);
    await own.close();
    await waitFor(() => !started.some(isRunning), 20_000, 'the pool\'s own Ray to stop');
  });

  // Last: it stops the shared cluster and starts it again.
  it('fails calls with RayUnavailableError while the cluster is gone, and serves again once it is back', async () => {
    const udf = await pool.register({ module: fixture('identity.py') });
    const t0 = Date.now();
    await cluster.stop();
    let error: unknown;
    while (!error && Date.now() - t0 < 60_000) {
      error = await udf.apply(tableFromArrays({ x: int64s(10) })).then(() => undefined, (e: unknown) => e);
    }
    expect(error).toBeInstanceOf(RayUnavailableError);
    expect(Date.now() - t0).toBeLessThan(30_000);
    await cluster.start();
    await waitFor(() => pool.readyWorkers === 2, 60_000, 'actors on the cluster that came back');
    expect((await udf.apply(tableFromArrays({ x: int64s(1_000) }))).numRows).toBe(1_000);
  });
});
