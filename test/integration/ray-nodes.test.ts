// The Ray backend on a two-node cluster on one machine: SPREAD puts an actor on each node, and both serve.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, RAY_TEST_ENV, type RayCluster, startRayCluster, startRayPool, tempDir, waitFor } from '../helpers.js';

let cluster: RayCluster;

beforeAll(async () => {
  cluster = await startRayCluster(2);
  await cluster.addNode(2, { inference_slot: 2 });
});

afterAll(async () => {
  await cluster?.close();
});

describe('a pool on a two-node Ray cluster', () => {
  it('spreads actors over both nodes, sends the code and artifacts to each, and balances batches over them', async () => {
    expect(cluster.nodeIds).toHaveLength(2);
    const pool = await startRayPool({
      env: RAY_TEST_ENV,
      // Half a CPU each: either node could hold all four.
      backend: { type: 'ray', address: cluster.address, actors: 4, actorOptions: { num_cpus: 0.5, scheduling_strategy: 'SPREAD' } },
    });
    await waitFor(() => pool.stats().workers.every((w) => w.nodeId !== undefined), 10_000, 'every actor\'s placement');
    const nodes = pool.stats().workers.map((w) => w.nodeId);
    expect(new Set(nodes)).toEqual(new Set(cluster.nodeIds));

    const dir = tempDir('ray-nodes');
    mkdirSync(path.join(dir, 'lib'));
    writeFileSync(path.join(dir, 'lib', '__init__.py'), 'OFFSET = 100\n');
    writeFileSync(path.join(dir, 'weights.bin'), Buffer.alloc(1 << 20, 7));
    writeFileSync(path.join(dir, 'model.py'), [
      'import os, ray, lib',
      'def init(conf):',
      '    return os.path.getsize(conf["artifacts"]["weights"])',
      'def apply(size, batch):',
      '    n = batch.num_rows',
      '    node = ray.get_runtime_context().get_node_id()',
      '    return {"y": [x + lib.OFFSET + size for x in batch.column("x").to_pylist()], "node": [node] * n}',
    ].join('\n'));
    const udf = await pool.register({ module: path.join(dir, 'model.py'), artifacts: { weights: path.join(dir, 'weights.bin') }, batchSize: 100 });
    const out = await udf.apply(tableFromArrays({ x: Float64Array.from({ length: 4_000 }, (_, i) => i) }));
    expect(Array.from(out.getChild('y')!.toArray() as Float64Array)).toEqual(Array.from({ length: 4_000 }, (_, i) => i + 100 + (1 << 20)));
    const served = new Set(Array.from({ length: out.numRows }, (_, i) => out.getChild('node')!.get(i) as string));
    expect(served).toEqual(new Set(cluster.nodeIds));
  });

  it('places actors by custom resources and by node affinity', async () => {
    const [head, second] = cluster.nodeIds;
    const bySlot = await startRayPool({
      env: RAY_TEST_ENV, backend: { type: 'ray', address: cluster.address, actors: 2, actorOptions: { num_cpus: 0.5, resources: { inference_slot: 1 } } },
    });
    const pinned = await startRayPool({
      env: RAY_TEST_ENV, backend: { type: 'ray', address: cluster.address, actors: 2, actorOptions: { num_cpus: 0.5, scheduling_strategy: { node_id: head! } } },
    });
    await waitFor(() => [bySlot, pinned].every((p) => p.stats().workers.every((w) => w.nodeId !== undefined)), 10_000, 'placements');
    expect(bySlot.stats().workers.map((w) => w.nodeId)).toEqual([second, second]);
    expect(pinned.stats().workers.map((w) => w.nodeId)).toEqual([head, head]);
  });

  it('replaces the actor of a node that is lost mid-run on a node that is left, and returns every row once', async () => {
    const pool = await startRayPool({
      env: RAY_TEST_ENV, livenessTimeoutMs: 2_000,
      backend: { type: 'ray', address: cluster.address, actors: 2, actorOptions: { num_cpus: 0.5, scheduling_strategy: 'SPREAD' } },
    });
    const [head, second] = cluster.nodeIds;
    await waitFor(() => pool.stats().workers.every((w) => w.nodeId !== undefined), 10_000, 'every actor\'s placement');
    expect(new Set(pool.stats().workers.map((w) => w.nodeId))).toEqual(new Set([head, second]));
    const udf = await pool.register({ module: fixture('sleepy.py'), conf: { seconds: 0.05 }, batchSize: 50 });
    const x = Float64Array.from({ length: 4_000 }, (_, i) => i);
    const running = udf.apply(tableFromArrays({ x }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    await cluster.removeNode();
    const out = await running;
    expect(out.getChild('x')!.toArray()).toEqual(x);
    await waitFor(() => pool.stats().readyWorkers === 2, 60_000, 'a replacement actor');
    expect(pool.stats().restarts).toBeGreaterThanOrEqual(1);
    expect(pool.stats().workers.filter((w) => w.state !== 'dead').map((w) => w.nodeId)).toEqual([head, head]);
  });
});
