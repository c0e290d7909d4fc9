// udf.stream(): order, mixed sources, backpressure, bounded memory, errors, and the stream adapters.
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RecordBatch, Table, tableFromArrays } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { PythonError } from '../../src/index.js';
import { BACKENDS, fixture, startPoolOn } from '../helpers.js';

const batchOf = (...values: number[]) => tableFromArrays({ x: Float64Array.from(values) }).batches[0]!;
const xs = (batches: RecordBatch[]) => batches.flatMap((b) => Array.from(b.getChild('x')!.toArray() as Float64Array));

async function collect(stream: AsyncIterable<RecordBatch>): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const batch of stream) out.push(batch);
  return out;
}

describe.each(BACKENDS)('stream (%s)', (backend) => {
  it('yields results in input order from batches, tables and row objects, from any kind of source', async () => {
    const pool = await startPoolOn(backend, { workers: 2 });
    const udf = await pool.register({ module: fixture('identity.py') });
    async function* mixed() {
      yield batchOf(1, 2);
      yield tableFromArrays({ x: Float64Array.from([3]) });
      yield { x: 4 };
      yield { x: 5 };
      yield batchOf(6);
    }
    expect(xs(await collect(udf.stream(mixed())))).toEqual([1, 2, 3, 4, 5, 6]);
    const many = Array.from({ length: 50 }, (_, i) => batchOf(i));
    expect(xs(await collect(udf.stream(many)))).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(xs(await collect(udf.stream(Readable.from(many))))).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('pulls from the source only as the consumer consumes (backpressure)', async () => {
    const pool = await startPoolOn(backend, { workers: 2 });
    const udf = await pool.register({ module: fixture('identity.py') });
    let pulled = 0;
    async function* counted() {
      for (let i = 0; i < 100; i++) {
        pulled++;
        yield batchOf(i);
      }
    }
    let consumed = 0;
    for await (const _ of udf.stream(counted(), { maxInFlight: 3 })) {
      consumed++;
      // The stream holds at most maxInFlight batches beyond what was consumed, plus the one being yielded.
      expect(pulled - consumed).toBeLessThanOrEqual(3);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(consumed).toBe(100);
  });

  it('streams 2 GB (512 MB on Ray) through an identity UDF while the Node process grows by less than 300 MB', async () => {
    const pool = await startPoolOn(backend, { workers: 2 });
    const udf = await pool.register({ module: fixture('identity.py') });
    const rowsPerBatch = 1 << 20; // 8 MiB of float64 per batch
    // 2 GiB in all; 512 MiB on Ray, whose CURVE-encrypted tcp moves ~300 MB/s here (the bound is the same).
    const batches = backend === 'local' ? 256 : 64;
    const values = new Float64Array(rowsPerBatch).map((_, i) => i);
    const template = tableFromArrays({ x: values }).batches[0]!;
    async function* source() {
      for (let i = 0; i < batches; i++) yield template;
    }
    globalThis.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    let rows = 0;
    let misplaced = 0;
    for await (const batch of udf.stream(source(), { maxInFlight: 4 })) {
      // Each value is its row's position within its source batch: check both ends of every result.
      const x = batch.getChild('x')!;
      if (x.get(0) !== rows % rowsPerBatch || x.get(batch.numRows - 1) !== (rows + batch.numRows - 1) % rowsPerBatch) misplaced++;
      rows += batch.numRows;
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    expect(rows).toBe(rowsPerBatch * batches);
    expect(misplaced).toBe(0);
    const growthMb = (peak - before) / 2 ** 20;
    console.log(`${backend}: ${batches * 8} MiB streamed; Node RSS grew by ${growthMb.toFixed(0)} MiB`);
    expect(growthMb).toBeLessThan(300);
  });

  it('rejects with the failing batch\'s index and stops the source', async () => {
    const pool = await startPoolOn(backend, { workers: 2 });
    const udf = await pool.register({ module: fixture('failing.py') });
    let pulled = 0;
    let closed = false;
    async function* source() {
      try {
        for (let i = 0; i < 1000; i++) {
          pulled++;
          yield batchOf(i === 7 ? -1 : i);
        }
      } finally {
        closed = true;
      }
    }
    const error = await collect(udf.stream(source(), { maxInFlight: 2 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PythonError);
    expect((error as PythonError).batchIndex).toBe(7);
    expect(closed).toBe(true);
    expect(pulled).toBeLessThan(20);
  });

  it('works as a Web TransformStream', async () => {
    const pool = await startPoolOn(backend, { workers: 2 });
    const udf = await pool.register({ module: fixture('identity.py') });
    let i = 0;
    const input = new ReadableStream<RecordBatch | Record<string, number>>({
      pull(controller) {
        if (i === 20) controller.close();
        else controller.enqueue(i % 2 ? batchOf(i) : { x: i });
        i++;
      },
    });
    const out: RecordBatch[] = [];
    await input.pipeThrough(udf.transformStream({ rowsPerBatch: 1 })).pipeTo(new WritableStream({ write(b) { out.push(b); } }));
    expect(xs(out)).toEqual(Array.from({ length: 20 }, (_, k) => k));
  });

  it('works as a Node transform in stream.pipeline', async () => {
    const pool = await startPoolOn(backend, { workers: 2 });
    const udf = await pool.register({ module: fixture('identity.py') });
    const out: RecordBatch[] = [];
    await pipeline(
      Readable.from(Array.from({ length: 30 }, (_, k) => new Table(batchOf(k)))),
      udf.nodeTransform({ maxInFlight: 2 }),
      new Writable({ objectMode: true, write(batch: RecordBatch, _e, done) { out.push(batch); done(); } }),
    );
    expect(xs(out)).toEqual(Array.from({ length: 30 }, (_, k) => k));
  });
});
