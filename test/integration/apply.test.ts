// apply(): hooks, batching over several workers, order, result kinds, several UDFs, close().
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Field, Float64, Int64, Schema, Table, tableFromArrays, type Vector } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { AbortError, PythonError, UdfClosedError } from '../../src/index.js';
import { BACKENDS, backendAgnostic, fixture, startPoolOn, tempDir, waitFor, workerPids } from '../helpers.js';

const range = (n: number): Float64Array => Float64Array.from({ length: n }, (_, i) => i);

describe.each(BACKENDS)('apply (%s)', (backend) => {
  it('runs renamed hooks with conf, spreads batches over both workers and keeps row order', async () => {
    const pool = await startPoolOn(backend, { workers: 2 });
    const udf = await pool.register({ module: fixture('scale.py'), init: 'load', apply: 'predict', conf: { k: 3 }, batchSize: 100 });
    const out = await udf.apply(tableFromArrays({ x: range(10_000) }));
    expect(out.numRows).toBe(10_000);
    expect(Array.from(out.getChild('y')!.toArray() as Float64Array)).toEqual(Array.from(range(10_000), (v) => v * 3));
    const pids = new Set(Array.from(out.getChild('pid')!.toArray() as BigInt64Array, Number));
    expect(pids).toEqual(new Set(workerPids(pool)));
  });

  it('sends the next batch while a worker computes the current one, bounded by maxInFlightPerWorker', async () => {
    const pool = await startPoolOn(backend, { workers: 1, maxInFlightPerWorker: 2 });
    const udf = await pool.register({ module: fixture('sleepy.py'), conf: { seconds: 0.5 }, batchSize: 1 });
    const running = udf.apply(tableFromArrays({ x: range(4) }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(pool.stats()).toMatchObject({ queued: 2, workers: [{ id: 'w0', state: 'ready', inFlight: 2 }] });
    expect((await running).numRows).toBe(4);
    expect(pool.stats()).toMatchObject({ queued: 0, workers: [{ inFlight: 0 }] });
  });

  it('aborts a call by AbortSignal: queued batches are dropped and the pool keeps serving', async () => {
    const pool = await startPoolOn(backend, { workers: 1, maxInFlightPerWorker: 1 });
    const udf = await pool.register({ module: fixture('sleepy.py'), conf: { seconds: 0.3 }, batchSize: 1 });
    const controller = new AbortController();
    const running = udf.apply(tableFromArrays({ x: range(20) }), { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    await expect(running).rejects.toBeInstanceOf(AbortError);
    expect(pool.stats().queued).toBe(0);
    const quick = await pool.register({ module: fixture('identity.py') });
    expect((await quick.apply(tableFromArrays({ x: range(3) }))).numRows).toBe(3);
  });

  backendAgnostic(backend)('rejects apply() and stream() with AbortError for a signal aborted before the call, whatever its reason', async () => {
    const pool = await startPoolOn(backend, { workers: 1 });
    const udf = await pool.register({ module: fixture('identity.py') });
    const input = tableFromArrays({ x: range(3) });
    for (const reason of [undefined, 'stop', new Error('stop')]) {
      const signal = AbortSignal.abort(reason);
      const error = await udf.apply(input, { signal }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AbortError);
      expect((error as AbortError).cause).toBe(signal.reason);
      const streamed = (async () => { for await (const batch of udf.stream([input], { signal })) void batch; })();
      await expect(streamed).rejects.toBeInstanceOf(AbortError);
    }
  });

  it('calls init exactly once per worker, however many batches follow', async () => {
    const log = path.join(tempDir('init'), 'inits');
    const pool = await startPoolOn(backend, { workers: 2 });
    const udf = await pool.register({ module: fixture('counting_init.py'), conf: { log }, batchSize: 10 });
    for (let i = 0; i < 3; i++) await udf.apply(tableFromArrays({ x: range(100) }));
    const pids = readFileSync(log, 'utf8').trim().split('\n').map(Number).sort();
    expect(pids).toEqual([...workerPids(pool)].sort());
  });

  it('hands the caller result columns that view the received message, without a copy', async () => {
    const pool = await startPoolOn(backend, { workers: 1 });
    const udf = await pool.register({ module: fixture('identity.py') });
    const n = 100_000;
    const out = await udf.apply(tableFromArrays({ a: range(n), b: range(n) }));
    const a = out.getChild('a')!.data[0]!.values;
    const b = out.getChild('b')!.data[0]!.values;
    // Both columns live in one ArrayBuffer: the ZeroMQ message itself, holding the whole IPC stream.
    expect(a.buffer).toBe(b.buffer);
    expect(a.buffer.byteLength).toBeGreaterThan(a.byteLength + b.byteLength);
  });

  backendAgnostic(backend)('accepts a module path relative to the current directory, inline code, and a RecordBatch', async () => {
    const pool = await startPoolOn(backend, { workers: 1 });
    const relative = path.relative(process.cwd(), fixture('identity.py'));
    const fromFile = await pool.register({ module: relative });
    const inline = await pool.register({ code: 'def apply(state, batch):\n    return {"z": batch.column("x")}\n' });
    const table = tableFromArrays({ x: range(5) });
    expect((await fromFile.apply(table.batches[0]!)).getChild('x')!.toArray()).toEqual(range(5));
    expect((await inline.apply(table)).getChild('z')!.toArray()).toEqual(range(5));
  });

  backendAgnostic(backend)('accepts RecordBatch, Table, DataFrame and dict results, and rejects anything else by name', async () => {
    const pool = await startPoolOn(backend, { workers: 1 });
    const input = tableFromArrays({ x: new Float64Array([1, 2, 3]) });
    for (const kind of ['dict', 'dataframe', 'table']) {
      const udf = await pool.register({ module: fixture('returns.py'), conf: { kind } });
      const out = await udf.apply(input);
      expect(out.schema.fields.map((f) => f.name)).toEqual(['y', 's']);
      expect(Array.from(out.getChild('y')!.toArray())).toEqual([2, 4, 6]);
      expect(out.getChild('s')!.toArray()).toEqual(['1.0', '2.0', '3.0']);
    }
    const wrong = await pool.register({ module: fixture('returns.py'), conf: { kind: 'wrong-type' } });
    const error = await wrong.apply(input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PythonError);
    expect((error as PythonError).pythonType).toBe('TypeError');
    expect((error as PythonError).message).toMatch(/list/);
  });

  it('returns a zero-row result with the output schema for a zero-row input', async () => {
    const pool = await startPoolOn(backend, { workers: 1 });
    const udf = await pool.register({ module: fixture('scale.py'), init: 'load', apply: 'predict', conf: { k: 2 } });
    const empty = new Table(new Schema([new Field('x', new Float64(), true)]));
    const out = await udf.apply(empty);
    expect(out.numRows).toBe(0);
    expect(out.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual(['y:Float64', 'pid:Int64']);
  });

  backendAgnostic(backend)('splits by maxBatchBytes as well as by rows', async () => {
    const pool = await startPoolOn(backend, { workers: 2 });
    // 8 bytes per row and a 800-byte bound: 100 rows per batch, so 1000 rows make 10 calls.
    const udf = await pool.register({
      code: 'import pyarrow as pa\ndef apply(state, batch):\n    return {"n": pa.array([batch.num_rows] * batch.num_rows, pa.int64())}\n',
      maxBatchBytes: 800,
    });
    const out = await udf.apply(tableFromArrays({ x: range(1000) }));
    expect(new Set(Array.from(out.getChild('n')!.toArray() as BigInt64Array, Number))).toEqual(new Set([100]));
    expect(out.batches.length).toBe(10);
  });

  it('serves several UDFs at once and close() frees one UDF\'s state in every worker', async () => {
    const dir = tempDir('free');
    const pool = await startPoolOn(backend, { workers: 2 });
    const freeable = await pool.register({ module: fixture('freeable.py'), conf: { marker: path.join(dir, 'freed') } });
    const scale = await pool.register({ module: fixture('scale.py'), init: 'load', apply: 'predict', conf: { k: 2 } });
    const input = tableFromArrays({ x: range(4) });
    const [a, b] = await Promise.all([freeable.apply(input), scale.apply(input)]);
    expect(a.getChild('x')!.toArray()).toEqual(range(4));
    expect(Array.from(b.getChild('y')!.toArray())).toEqual([0, 2, 4, 6]);
    await freeable.close();
    await waitFor(() => readdirSync(dir).length === 2, 5_000, 'both workers to free the state');
    await expect(freeable.apply(input)).rejects.toBeInstanceOf(UdfClosedError);
    await expect(freeable.call({ x: 1 })).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED', closed: 'udf' });
    expect(Array.from((await scale.apply(input)).getChild('y')!.toArray())).toEqual([0, 2, 4, 6]);
    expect(existsSync(dir)).toBe(true);
  });

  it('rejects new work after the pool is closed, with PoolClosedError', async () => {
    const pool = await startPoolOn(backend, { workers: 1 });
    const udf = await pool.register({ module: fixture('identity.py') });
    await pool.close();
    await expect(udf.apply(tableFromArrays({ x: range(1) }))).rejects.toMatchObject({ name: 'PoolClosedError', closed: 'pool' });
    await expect(pool.register({ module: fixture('identity.py') })).rejects.toMatchObject({ name: 'PoolClosedError', closed: 'pool' });
  });

  backendAgnostic(backend)('is typed by the declared schemas', async () => {
    const pool = await startPoolOn(backend, { workers: 1 });
    const input = new Schema([new Field('x', new Float64(), true)]);
    const output = new Schema([new Field('y', new Float64(), true), new Field('pid', new Int64(), true)]);
    const udf = await pool.register<{ x: Float64 }, { y: Float64; pid: Int64 }>({
      module: fixture('scale.py'), init: 'load', apply: 'predict', conf: { k: 1 }, input, output,
    });
    const out = await udf.apply(tableFromArrays({ x: range(2) }));
    // Compile-time: the result is Table<{ y: Float64, pid: Int64 }>.
    const y: Vector<Float64> | null = out.getChild('y');
    // @ts-expect-error "nope" is not a declared output column
    expect(out.getChild('nope')).toBeNull();
    expect(String(y?.type)).toBe('Float64');
    expect(Array.from(y!.toArray())).toEqual([0, 1]);
  });
});
