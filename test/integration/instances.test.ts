// register({ instances }): a UDF is loaded into that many workers only, its batches run there alone, and a restart keeps the count.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import type { Pool, PoolStats, Udf } from '../../src/index.js';
import { startPool, tempDir, waitFor, workerPids } from '../helpers.js';

// init appends its worker's pid to conf["log"]: one line per worker that imported and initialised the UDF.
const CODE = [
  'import os',
  'import numpy as np',
  'def init(conf):',
  '    with open(conf["log"], "a") as f:',
  '        f.write(f"{os.getpid()}\\n")',
  'def apply(state, batch):',
  '    return {"pid": np.full(batch.num_rows, os.getpid(), dtype=np.int32)}',
  '',
].join('\n');

const rows = (n: number) => tableFromArrays({ x: Float64Array.from({ length: n }, (_, i) => i) });

async function register(pool: Pool<PoolStats>, dir: string, name: string, instances: number) {
  const log = path.join(dir, `${name}.log`);
  const udf = await pool.register({ name, code: CODE, conf: { log }, instances, batchSize: 1 });
  return { udf, initPids: () => readFileSync(log, 'utf8').trim().split('\n').map(Number) };
}

/** The distinct pids that answered `batches` one-row batches of the UDF (all sent at once, so they spread). */
async function answeringPids(udf: Udf, batches = 60): Promise<Set<number>> {
  const out = await udf.apply(rows(batches));
  return new Set(Array.from(out.getChild('pid')!.toArray() as Int32Array));
}

/** Pids of the workers whose stats list the UDF. */
function holderPids(pool: Pool<PoolStats>, udf: Udf): number[] {
  return pool.stats().workers.filter((w) => w.state !== 'dead' && w.udfIds.includes(udf.id)).flatMap((w) => w.pid ?? []);
}

const sorted = (pids: Iterable<number>) => [...pids].sort((a, b) => a - b);

describe('instances per UDF', () => {
  it('imports a UDF only in its instances, runs its batches there alone, and takes more instances than workers as all', async () => {
    const dir = tempDir('instances');
    const pool = await startPool({ workers: 3 });
    const one = await register(pool, dir, 'one', 1);
    const two = await register(pool, dir, 'two', 2);
    const every = await register(pool, dir, 'every', 5);
    const workers = sorted(workerPids(pool));
    expect(workers).toHaveLength(3);

    const onePids = await answeringPids(one.udf);
    const twoPids = await answeringPids(two.udf);
    const everyPids = await answeringPids(every.udf);
    expect(onePids.size).toBe(1);
    expect(twoPids.size).toBe(2);
    expect(sorted(everyPids)).toEqual(workers);
    // init ran (and so the code was imported) exactly in the workers that answered, and stats say the same.
    expect(sorted(one.initPids())).toEqual(sorted(onePids));
    expect(sorted(two.initPids())).toEqual(sorted(twoPids));
    expect(sorted(every.initPids())).toEqual(workers);
    expect(sorted(holderPids(pool, one.udf))).toEqual(sorted(onePids));
    expect(sorted(holderPids(pool, two.udf))).toEqual(sorted(twoPids));
    // The fewest-loaded workers are chosen: the instances:2 UDF went to the two workers without the first.
    expect([...twoPids].some((pid) => onePids.has(pid))).toBe(false);
  });

  it('puts an instances:1 UDF back on exactly one new worker when its holder is killed, and it answers from there', async () => {
    const dir = tempDir('instances');
    const pool = await startPool({ workers: 3 });
    const one = await register(pool, dir, 'one', 1);
    const two = await register(pool, dir, 'two', 2);
    const [victim, ...others] = await answeringPids(one.udf);
    expect(others).toEqual([]);
    expect(workerPids(pool)).toContain(victim);
    const twoBefore = await answeringPids(two.udf);
    expect(twoBefore.has(victim!)).toBe(false);

    process.kill(victim!, 'SIGKILL');
    // Its batches wait for the replacement instead of failing, then come from one new worker only.
    const after = await answeringPids(one.udf);
    expect(after.size).toBe(1);
    const [replacement] = after;
    expect(replacement).not.toBe(victim);
    expect(workerPids(pool)).toContain(replacement);
    await waitFor(() => pool.readyWorkers === 3, 30_000, 'the replacement worker');
    expect(sorted(await answeringPids(one.udf))).toEqual([replacement]);
    expect(holderPids(pool, one.udf)).toEqual([replacement]);
    expect(one.initPids()).toEqual([victim, replacement]);
    expect(one.udf.ready).toBe(true);
    // The other UDF did not move: still its two workers, and its init ran nowhere else.
    expect(sorted(await answeringPids(two.udf))).toEqual(sorted(twoBefore));
    expect(sorted(two.initPids())).toEqual(sorted(twoBefore));
    expect(pool.restarts).toBe(1);
  });
});
