// The OIP routes mounted in other servers: Express, Fastify (with @fastify/middie) and a plain http.createServer.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import middie from '@fastify/middie';
import express from 'express';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type ModelServer } from '../../src/index.js';
import { startPool } from '../helpers.js';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A model server that is never listened on: its handler is mounted elsewhere. */
async function mountable(): Promise<ModelServer> {
  const pool = await startPool({ workers: 1 });
  const server = createServer({ pool, model: { code: 'def apply(state, batch):\n    return {"y": batch.column("x")}\n', name: 'double' }, logger: () => undefined });
  closers.push(() => server.close());
  await server.load();
  return server;
}

const infer = { inputs: [{ name: 'x', datatype: 'FP64', shape: [3], data: [1, 2, 3] }] };

async function expectServes(base: string): Promise<void> {
  const ready = await fetch(`${base}/oip/v2/health/ready`);
  expect(ready.status).toBe(200);
  const reply = await fetch(`${base}/oip/v2/models/double/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(infer) });
  expect(reply.status).toBe(200);
  const body = (await reply.json()) as { model_name: string; outputs: { name: string; data: number[] }[] };
  expect(body.model_name).toBe('double');
  expect(body.outputs).toEqual([expect.objectContaining({ name: 'y', data: [1, 2, 3] })]);
  // The host application's own routes keep working beside the mounted ones.
  expect(await (await fetch(`${base}/hello`)).text()).toBe('hello from the app');
}

async function listening(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('mounting the OIP handler', () => {
  it('serves under a prefix in Express, passing other paths to the app', async () => {
    const model = await mountable();
    const app = express();
    app.use('/oip', model.handler);
    app.get('/hello', (_request, response) => { response.send('hello from the app'); });
    app.use((_request, response) => { response.status(404).send('app 404'); });
    const base = await listening(http.createServer(app));
    await expectServes(base);
    // A path under the prefix that is not OIP is the app's to answer.
    expect(await (await fetch(`${base}/oip/elsewhere`)).text()).toBe('app 404');
  });

  it('mounts two models side by side under one prefix', async () => {
    const first = await mountable();
    const pool = await startPool({ workers: 1 });
    const second = createServer({ pool, model: { code: 'def apply(state, batch):\n    return {"z": batch.column("x")}\n', name: 'other' }, logger: () => undefined });
    closers.push(() => second.close());
    await second.load();
    const app = express();
    app.use('/oip', first.handler);
    app.use('/oip', second.handler);
    const base = await listening(http.createServer(app));
    const reply = await fetch(`${base}/oip/v2/models/other/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(infer) });
    expect(reply.status).toBe(200);
    expect(((await reply.json()) as { outputs: { name: string }[] }).outputs[0]!.name).toBe('z');
    expect((await fetch(`${base}/oip/v2/models/double/ready`)).status).toBe(200);
  });

  it('serves under a prefix in Fastify through @fastify/middie', async () => {
    const model = await mountable();
    const fastify = Fastify();
    closers.push(() => fastify.close());
    await fastify.register(middie);
    fastify.use('/oip', model.handler);
    fastify.get('/hello', async () => 'hello from the app');
    const base = await fastify.listen({ port: 0, host: '127.0.0.1' });
    await expectServes(base);
  });

  it('is a complete request listener for http.createServer', async () => {
    const model = await mountable();
    const base = await listening(http.createServer(model.handler));
    const reply = await fetch(`${base}/v2/models/double/infer`, { method: 'POST', body: JSON.stringify(infer), headers: { 'content-type': 'application/json' } });
    expect(reply.status).toBe(200);
    expect((await fetch(`${base}/nothing`)).status).toBe(404);
  });

  it('answers 503 before load() and serves after it', async () => {
    const pool = await startPool({ workers: 1 });
    const model = createServer({ pool, model: { code: 'def apply(state, batch):\n    return batch\n', name: 'later' }, logger: () => undefined });
    closers.push(() => model.close());
    const base = await listening(http.createServer(model.handler));
    expect((await fetch(`${base}/v2/health/ready`)).status).toBe(503);
    await model.load();
    expect((await fetch(`${base}/v2/health/ready`)).status).toBe(200);
  });
});
