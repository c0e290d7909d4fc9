// Liveness: a stopped worker is found by its missed heartbeats and replaced, its batches retried; a busy one is left alone.
import { tableFromArrays } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { WorkerCrashedError } from '../../src/index.js';
import { fixture, startPool, waitFor, workerPids } from '../helpers.js';

const rows = (n: number) => tableFromArrays({ x: Float64Array.from({ length: n }, (_, i) => i) });
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('liveness', () => {
  it('replaces a worker stopped with SIGSTOP mid-apply and retries its batches, with no timeoutMs, and close() returns', async () => {
    const logs: { line: string; source: string }[] = [];
    const pool = await startPool({ workers: 2, livenessTimeoutMs: 1_000 }, logs as never);
    const udf = await pool.register({ module: fixture('sleepy.py'), conf: { seconds: 0.3 }, batchSize: 10 });
    const [stopped] = workerPids(pool);
    const input = rows(200);
    const applying = udf.apply(input);
    await waitFor(() => pool.stats().workers.some((w) => w.pid === stopped && w.inFlight > 0), 10_000, 'a batch on the worker');
    process.kill(stopped!, 'SIGSTOP');
    try {
      const out = await applying;
      expect(Array.from(out.getChild('x')!.toArray())).toEqual(Array.from(input.getChild('x')!.toArray()));
      await waitFor(() => !alive(stopped!), 5_000, 'the stopped worker to be killed');
      expect(pool.restarts).toBe(1);
      expect(logs.some((log) => /stopped answering heartbeats for livenessTimeoutMs=1000 /.test(log.line))).toBe(true);
    } finally {
      if (alive(stopped!)) process.kill(stopped!, 'SIGKILL');
    }
    const closing = pool.close();
    await expect(closing).resolves.toBeUndefined();
  });

  it('fails the call with a WorkerCrashedError naming the missed heartbeats when no retry is left', async () => {
    const pool = await startPool({ workers: 1, livenessTimeoutMs: 800, retries: 0 });
    const udf = await pool.register({ module: fixture('sleepy.py'), conf: { seconds: 2 } });
    const [pid] = workerPids(pool);
    const applying = udf.apply(rows(1)).catch((e: unknown) => e);
    await waitFor(() => pool.stats().workers[0]!.inFlight > 0, 10_000, 'the batch');
    process.kill(pid!, 'SIGSTOP');
    const error = await applying;
    if (alive(pid!)) process.kill(pid!, 'SIGKILL');
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect((error as Error).message).toMatch(/killed by SIGKILL after it stopped answering heartbeats for livenessTimeoutMs=800 \(its process was stopped/);
    expect((await udf.apply(rows(3))).numRows).toBe(3);
  });

  it('never takes a busy worker for a frozen one: Python holding the GIL for 6x livenessTimeoutMs', async () => {
    const pool = await startPool({ workers: 1, livenessTimeoutMs: 800, retries: 0 });
    // A pure-Python loop: the interpreter never releases the GIL (no other Python thread wants it).
    const code = 'import time\ndef apply(state, batch):\n    end = time.monotonic() + 5\n'
      + '    n = 0\n    while time.monotonic() < end:\n        n += 1\n    return batch\n';
    const udf = await pool.register({ code });
    const out = await udf.apply(rows(5));
    expect(out.numRows).toBe(5);
    expect(pool.restarts).toBe(0);
  });
});
