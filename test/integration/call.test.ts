// udf.call(): single rows, coalesced under concurrency into few round trips, errors isolated per caller.
import { Field, Int32, Schema, Utf8, tableFromArrays } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { AbortError, PythonError, type BatchEvent } from '../../src/index.js';
import { BACKENDS, backendAgnostic, fixture, startPoolOn } from '../helpers.js';

const double = 'import pyarrow.compute as pc\ndef apply(state, batch):\n    return {"y": pc.multiply(batch.column("x"), 2), "x": batch.column("x")}\n';

describe.each(BACKENDS)('call (%s)', (backend) => {
  it('coalesces 10,000 concurrent calls into a handful of round trips, each caller getting its own row', async () => {
    const pool = await startPoolOn(backend, { workers: 2 });
    const udf = await pool.register({ code: double, maxBatchRows: 1024 });
    const batches: BatchEvent[] = [];
    udf.observe((event) => batches.push(event));
    const results = await Promise.all(Array.from({ length: 10_000 }, (_, i) => udf.call({ x: i })));
    expect(results.every((row, i) => row['x'] === i && row['y'] === 2 * i)).toBe(true);
    expect(batches.length).toBeLessThanOrEqual(12);
    expect(batches.reduce((n, b) => n + b.rows, 0)).toBe(10_000);
  });

  it('drains calls still waiting in a micro-batch when the pool closes, instead of failing them', async () => {
    const pool = await startPoolOn(backend, { workers: 1 });
    const udf = await pool.register({ code: double, maxDelayMs: 60_000, maxBatchRows: 1_000_000 });
    const calls = Array.from({ length: 100 }, (_, i) => udf.call({ x: i }));
    await pool.close();
    expect((await Promise.all(calls)).map((row) => row['y'])).toEqual(Array.from({ length: 100 }, (_, i) => 2 * i));
    // Refused at once, not after the 60 s maxDelayMs of a micro-batch no closed pool will run (this test's timeout is 30 s).
    await expect(udf.call({ x: 1 })).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED', closed: 'pool' });
    await expect(udf.callTable(tableFromArrays({ x: Float64Array.from([1]) }))).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED', closed: 'pool' });
  }, 30_000);

  backendAgnostic(backend)('sends a lone call after maxDelayMs as a batch of one, without waiting for maxBatchRows', async () => {
    const pool = await startPoolOn(backend, { workers: 1 });
    const udf = await pool.register({ code: double, maxDelayMs: 5, maxBatchRows: 1_000_000 });
    const batches: BatchEvent[] = [];
    udf.observe((event) => batches.push(event));
    expect(await udf.call({ x: 21 })).toEqual({ x: 21, y: 42 });
    expect(batches.map((b) => b.rows)).toEqual([1]);
  });

  it('fails only the caller whose row makes Python raise; the rest of its batch succeeds', async () => {
    const pool = await startPoolOn(backend, { workers: 2 });
    const udf = await pool.register({ module: fixture('failing.py') });
    const outcomes = await Promise.allSettled(Array.from({ length: 500 }, (_, i) => udf.call({ x: i === 123 ? -1 : i })));
    const rejected = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [i] : []));
    expect(rejected).toEqual([123]);
    const reason = (outcomes[123] as PromiseRejectedResult).reason as PythonError;
    expect(reason).toBeInstanceOf(PythonError);
    expect(reason.pythonMessage).toBe('negative input -1.0');
    expect(outcomes.every((o, i) => i === 123 || (o.status === 'fulfilled' && o.value['x'] === i))).toBe(true);
  });

  it('aborts a waiting call by AbortSignal without disturbing the others in its batch', async () => {
    const pool = await startPoolOn(backend, { workers: 1 });
    const udf = await pool.register({ code: double, maxDelayMs: 200, maxBatchRows: 1_000 });
    const batches: BatchEvent[] = [];
    udf.observe((event) => batches.push(event));
    const controller = new AbortController();
    const aborted = udf.call({ x: 1 }, { signal: controller.signal });
    const kept = udf.call({ x: 2 });
    controller.abort();
    await expect(aborted).rejects.toBeInstanceOf(AbortError);
    expect(await kept).toEqual({ x: 2, y: 4 });
    expect(batches.map((b) => b.rows)).toEqual([1]);
  });

  backendAgnostic(backend)('builds rows with the declared input schema, and returns nested values as plain arrays and objects', async () => {
    const pool = await startPoolOn(backend, { workers: 1 });
    const input = new Schema([new Field('n', new Int32(), true), new Field('s', new Utf8(), true)]);
    const udf = await pool.register({
      code: 'import pyarrow as pa\ndef apply(state, batch):\n'
        + '    n = batch.column("n").to_pylist()\n'
        + '    return {"type": [str(batch.schema.field("n").type)] * len(n), "pair": [[v, v] for v in n],'
        + ' "obj": [{"s": s} for s in batch.column("s").to_pylist()]}\n',
      input,
    });
    // Python ints become int64, which Arrow JS reads as bigint.
    expect(await udf.call({ n: 7, s: 'seven' })).toEqual({ type: 'int32', pair: [7n, 7n], obj: { s: 'seven' } });
  });

  it('coalesces concurrent callTable() requests and hands each its own slice', async () => {
    const pool = await startPoolOn(backend, { workers: 2 });
    const udf = await pool.register({ code: double });
    const batches: BatchEvent[] = [];
    udf.observe((event) => batches.push(event));
    const tables = Array.from({ length: 200 }, (_, i) => tableFromArrays({ x: Float64Array.from([i, i + 0.5]) }));
    const results = await Promise.all(tables.map((t) => udf.callTable(t)));
    results.forEach((out, i) => expect(Array.from(out.getChild('y')!.toArray())).toEqual([2 * i, 2 * i + 1]));
    expect(batches.length).toBeLessThan(10);
  });
});
