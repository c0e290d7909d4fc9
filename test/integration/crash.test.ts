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
    expect(pool.restarts).toBeGreaterThanOrEqual(1);
    await waitFor(() => pool.readyWorkers === 2, 30_000, 'the replacement worker');
    // The replacement has the UDF registered (init ran again) and serves it.
    expect((await udf.apply(rows(50))).numRows).toBe(50);
  });

  it('recovers when every worker dies at once: queued batches wait for the replacements', async () => {
    const pool = await startPool({ workers: 2 });
    const udf = await pool.register({ module: fixture('crash.py'), conf: { how: 'exit', marker: marker(), crashes: 2 }, batchSize: 10 });
    const out = await udf.apply(rows(100));
    expect(Array.from(out.getChild('x')!.toArray())).toEqual(Array.from(rows(100).getChild('x')!.toArray()));
    expect(pool.restarts).toBe(2);
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
