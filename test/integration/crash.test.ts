// Workers that die mid-batch are replaced, their batches retried; persistent crashes end in WorkerCrashedError.
import os from 'node:os';
import path from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { UdfTimeoutError, WorkerCrashedError } from '../../src/index.js';
import { fixture, startPool, tempDir, waitFor, workerPids } from '../helpers.js';

const rows = (n: number) => tableFromArrays({ x: Float64Array.from({ length: n }, (_, i) => i) });
const marker = () => path.join(tempDir('crash'), 'crashed-once');

describe('crashes', () => {
  it('retries the batches of a worker that exits mid-batch and returns every row exactly once', async () => {
    const pool = await startPool({ workers: 2 });
    const udf = await pool.register({ module: fixture('crash.py'), conf: { how: 'exit', marker: marker(), crashes: 1 }, batchSize: 10 });
    const out = await udf.apply(rows(200));
    expect(Array.from(out.getChild('x')!.toArray())).toEqual(Array.from(rows(200).getChild('x')!.toArray()));
    // The replacement is launched from a timer, which can fire just after the retried batch was answered.
    await waitFor(() => pool.restarts >= 1, 5_000, 'the replacement to be launched');
    await waitFor(() => pool.readyWorkers === 2, 30_000, 'the replacement worker');
    // The replacement has the UDF registered (init ran again) and serves it.
    expect((await udf.apply(rows(50))).numRows).toBe(50);
  });

  it('recovers when every worker dies at once: queued batches wait for the replacements', async () => {
    const pool = await startPool({ workers: 2 });
    const udf = await pool.register({ module: fixture('crash.py'), conf: { how: 'exit', marker: marker(), crashes: 2 }, batchSize: 10 });
    const out = await udf.apply(rows(100));
    expect(Array.from(out.getChild('x')!.toArray())).toEqual(Array.from(rows(100).getChild('x')!.toArray()));
    // The second crash in a row is replaced after a back-off: the call may finish on the first replacement.
    await waitFor(() => pool.restarts === 2, 10_000, 'both replacements');
  });

  it('ends in WorkerCrashedError with exit code and stderr when the UDF kills every worker, and the pool recovers', async () => {
    const logs: { line: string }[] = [];
    const pool = await startPool({ workers: 2 }, logs as never);
    const udf = await pool.register({ module: fixture('crash.py'), conf: { how: 'exit' } });
    const error = await udf.apply(rows(3)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    const crash = error as WorkerCrashedError;
    expect(crash.code).toBe('ERR_WORKER_CRASHED');
    expect(crash.exitCode).toBe(17);
    expect(crash.attempts).toBe(2);
    // The pool is usable afterwards.
    const identity = await pool.register({ module: fixture('identity.py') });
    expect((await identity.apply(rows(5))).numRows).toBe(5);
  });

  it('fails register() with WorkerCrashedError when init kills the worker, and the pool recovers', async () => {
    const pool = await startPool({ workers: 2 });
    const error = await pool.register({ code: 'import os\ndef init(conf):\n    os._exit(5)\ndef apply(s, b):\n    return b\n' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect((error as WorkerCrashedError).exitCode).toBe(5);
    await waitFor(() => pool.readyWorkers === 2, 30_000, 'replacement workers');
    const identity = await pool.register({ module: fixture('identity.py') });
    expect((await identity.apply(rows(5))).numRows).toBe(5);
  });

  it('fails a UDF that keeps killing workers after three in a row, while a healthy UDF on the same pool keeps serving', async () => {
    const pool = await startPool({ workers: 2, maxInFlightPerWorker: 1 });
    const healthy = await pool.register({ module: fixture('identity.py') });
    const killer = await pool.register({ name: 'killer', code: 'import os\ndef apply(state, batch):\n    os._exit(7)\n' });
    const healthyRuns = (async () => {
      let served = 0;
      for (let i = 0; i < 30; i++) served += (await healthy.apply(rows(10))).numRows === 10 ? 1 : 0;
      return served;
    })();
    const errors: unknown[] = [];
    for (let i = 0; i < 5; i++) errors.push(await killer.apply(rows(1)).catch((e: unknown) => e));
    expect(errors.every((e) => e instanceof WorkerCrashedError)).toBe(true);
    // Each call's batch kills two workers (one retry); the second kill of each is blamed.
    expect((errors[2] as Error).message).toMatch(/while running UDF "killer" \(3 workers in a row died running it\); its calls now fail at once/);
    expect(errors[4]).toBe(errors[2]);
    expect(killer.ready).toBe(false);
    expect(await healthyRuns).toBe(30);
    // Six crashes, six replacements (the later ones after a back-off), and none after.
    await waitFor(() => pool.restarts === 6 && pool.readyWorkers === 2, 20_000, 'the sixth replacement');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(pool.restarts).toBe(6);
    // Registered again, it is a new UDF with a clean record (and here, the same fate).
    const again = await pool.register({ name: 'killer', code: 'import os\ndef apply(state, batch):\n    os._exit(7)\n' });
    expect(again.ready).toBe(true);
  });

  it('answers every apply, every row right, while workers are killed at random every 300-700 ms', async () => {
    const pool = await startPool({ workers: 2, retries: 3 });
    const udf = await pool.register({ code: 'def apply(state, batch):\n    return {"y": batch.column(0).to_numpy() * 2}\n', batchSize: 20_000 });
    const input = rows(200_000);
    let stop = false;
    let kills = 0;
    const killer = (async () => {
      while (!stop) {
        await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 400));
        const ready = pool.stats().workers.filter((w) => w.state === 'ready' && w.pid !== undefined);
        const victim = ready[Math.floor(Math.random() * ready.length)];
        if (!victim || stop) continue;
        try {
          process.kill(victim.pid!, Math.random() < 0.5 ? 'SIGKILL' : 'SIGSEGV');
          kills++;
        } catch { /* it exited since the snapshot */ }
      }
    })();
    let applies = 0;
    try {
      for (const deadline = Date.now() + 8_000; Date.now() < deadline; applies++) {
        const y = (await udf.apply(input)).getChild('y')!.toArray() as Float64Array;
        expect(y.length).toBe(200_000);
        for (let i = 0; i < y.length; i += 997) expect(y[i]).toBe(2 * i);
      }
    } finally {
      stop = true;
      await killer;
    }
    expect(kills).toBeGreaterThanOrEqual(8);
    expect(applies).toBeGreaterThanOrEqual(10);
  });

  it('kills a worker whose memory passes memoryLimitMb, says so, and serves the next call on its replacement', async () => {
    const pool = await startPool({ workers: 1, memoryLimitMb: 250, retries: 0 });
    const code = 'import time\nimport numpy as np\ndef apply(state, batch):\n    if batch.column(0)[0].as_py() > 0:\n'
      + '        hog = np.ones(500 * 2**20 // 8)\n        time.sleep(2)\n    return batch\n';
    const udf = await pool.register({ code });
    const error = await udf.apply(tableFromArrays({ x: Float64Array.of(1) })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect((error as Error).message).toMatch(/killed by SIGKILL after using \d+ MB, over memoryLimitMb=250 \(raise the limit/);
    expect((await udf.apply(rows(1))).numRows).toBe(1);
    expect(pool.restarts).toBe(1);
  });

  it('applies a UDF\'s own memoryLimitMb while its batches run, and not to other UDFs of the pool', async () => {
    const pool = await startPool({ workers: 1, retries: 0 });
    const code = 'import time\nimport numpy as np\ndef apply(state, batch):\n'
      + '    hog = np.ones(400 * 2**20 // 8)\n    time.sleep(0.5)\n    return batch\n';
    const limited = await pool.register({ code, name: 'limited', memoryLimitMb: 250 });
    const free = await pool.register({ code, name: 'free' });
    expect((await free.apply(rows(2))).numRows).toBe(2);
    const error = await limited.apply(rows(2)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect((error as Error).message).toMatch(/killed by SIGKILL after using \d+ MB, over memoryLimitMb=250 of UDF "limited" \(raise the limit/);
    expect((await free.apply(rows(2))).numRows).toBe(2);
    expect(pool.restarts).toBe(1);
  });

  it('reports a segfault by signal with the Python stack that faulthandler dumped', async () => {
    const pool = await startPool({ workers: 1, retries: 0 });
    const udf = await pool.register({ module: fixture('crash.py'), conf: { how: 'segfault' } });
    const error = (await udf.apply(rows(1)).catch((e: unknown) => e)) as WorkerCrashedError;
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error.signal).toBe('SIGSEGV');
    const stderr = error.stderrTail.join('\n');
    expect(stderr).toContain('Segmentation fault');
    expect(stderr).toMatch(/crash\.py", line \d+ in apply/);
    expect(error.message).toContain('SIGSEGV');
  });

  it('retries on another worker when a worker is killed from outside (OOM killer) while computing', async () => {
    const pool = await startPool({ workers: 2 });
    const udf = await pool.register({ module: fixture('sleepy.py'), conf: { seconds: 1 } });
    const [victim] = workerPids(pool);
    const result = udf.apply(rows(4));
    await new Promise((resolve) => setTimeout(resolve, 300));
    process.kill(victim!, 'SIGKILL');
    expect((await result).numRows).toBe(4);
  });

  it('bounds a call only by its timeoutMs: the worker is replaced and the pool keeps serving', async () => {
    const pool = await startPool({ workers: 1 });
    const udf = await pool.register({ module: fixture('sleepy.py'), conf: { seconds: 30 }, timeoutMs: 500 });
    await expect(udf.apply(rows(1))).rejects.toBeInstanceOf(UdfTimeoutError);
    await waitFor(() => pool.readyWorkers === 1 && pool.restarts === 1, 30_000, 'the replacement worker');
    const quick = await pool.register({ module: fixture('identity.py') });
    expect((await quick.apply(rows(2))).numRows).toBe(2);
  });

  it('never mistakes a long apply for a dead worker when no timeout is set', async () => {
    const pool = await startPool({ workers: 1 });
    const udf = await pool.register({ module: fixture('sleepy.py'), conf: { seconds: 12 } });
    const pids = workerPids(pool);
    expect((await udf.apply(rows(1))).numRows).toBe(1);
    expect(workerPids(pool)).toEqual(pids);
    expect(pool.restarts).toBe(0);
  });
});
