// Large results through /dev/shm files (protocol.md §3.7): same answers as the socket, no file left
// behind by a finished call, a crashed worker or a closed pool, abandoned directories removed.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Table, tableFromArrays, Utf8, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { createPool, InvalidOptionError, type Pool, type PoolStats } from '../../src/index.js';
import { SHARED_MEMORY_ROOT } from '../../src/transport/shared-memory.js';
import { fixture, PYTHON, startPool, tempDir, waitFor } from '../helpers.js';

// A plain Utf8 column (tableFromArrays would make it a dictionary, which the worker decodes for apply).
const wide = (rows: number): Table => new Table({
  a: vectorFromArray(Float64Array.from({ length: rows }, (_, i) => i / 3)),
  b: vectorFromArray(Int32Array.from({ length: rows }, (_, i) => i % 1000)),
  s: vectorFromArray(Array.from({ length: rows }, (_, i) => (i % 7 === 0 ? null : `row ${i}`)), new Utf8()),
});
/** Same schema and values (the batches may be cut differently). */
const sameContent = (a: Table, b: Table): boolean =>
  a.schema.fields.map(String).join() === b.schema.fields.map(String).join() && a.numRows === b.numRows
  && a.schema.fields.every(({ name }) => JSON.stringify([...a.getChild(name)!]) === JSON.stringify([...b.getChild(name)!]));
const filesIn = (pool: Pool<PoolStats>): string[] => readdirSync(pool.stats().sharedMemory.dir!).sort();
/** Every read file left in the directory: at most one spare per live worker. */
const sparesOf = (pool: Pool<PoolStats>): string[] => pool.stats().workers.map((w) => `spare-${w.id}`);

describe('results through shared memory', () => {
  it('returns large results as files and answers exactly what the socket answers', async () => {
    const input = wide(200_000); // about 5 MB
    const filePool = await startPool({ workers: 2 });
    const socketPool = await startPool({ workers: 1, sharedMemoryMinBytes: null });
    const viaFiles = await (await filePool.register({ module: fixture('identity.py'), batchSize: 50_000 })).apply(input);
    const viaSocket = await (await socketPool.register({ module: fixture('identity.py'), batchSize: 50_000 })).apply(input);

    const { dir, resultsReceived } = filePool.stats().sharedMemory;
    expect(dir && path.dirname(dir)).toBe(SHARED_MEMORY_ROOT);
    expect(resultsReceived).toBe(4);
    expect(socketPool.stats().sharedMemory).toEqual({ dir: null, resultsReceived: 0 });
    expect(sameContent(viaFiles, input)).toBe(true);
    expect(sameContent(viaSocket, input)).toBe(true);
    // Every file was read; each worker's last one stays as its spare (one per worker, never more).
    expect(filesIn(filePool)).toEqual(sparesOf(filePool).sort());
    await filePool.close();
    expect(existsSync(dir!)).toBe(false);
  });

  it('hands each read file back to its worker, which overwrites it for its next large result and loses it when it dies', async () => {
    const pool = await startPool({ workers: 1, sharedMemoryMinBytes: 1024 });
    const udf = await pool.register({ module: fixture('identity.py'), batchSize: 1_000_000 });
    const [spare] = sparesOf(pool);
    const sparePath = path.join(pool.stats().sharedMemory.dir!, spare!);
    const bigger = wide(60_000);
    expect(sameContent(await udf.apply(bigger), bigger)).toBe(true);
    expect(filesIn(pool)).toEqual([spare]);
    const { ino, size } = statSync(sparePath);
    // A shorter result in the same file: read back exactly, not with the longer one's tail after it.
    const shorter = wide(20_000);
    expect(sameContent(await udf.apply(shorter), shorter)).toBe(true);
    expect(filesIn(pool)).toEqual([spare]);
    expect(statSync(sparePath).ino).toBe(ino);
    expect(statSync(sparePath).size).toBeLessThan(size / 2);
    expect(pool.stats().sharedMemory.resultsReceived).toBe(2);

    process.kill(pool.stats().workers[0]!.pid!, 'SIGKILL');
    await waitFor(() => pool.restarts === 1 && pool.stats().workers[0]!.state === 'ready', 30_000, 'the replacement worker');
    expect(filesIn(pool)).toEqual([]);
  });

  it('keeps small results on the socket and honours a lower threshold, down to zero-row results', async () => {
    const pool = await startPool({ workers: 1, sharedMemoryMinBytes: 0 });
    const udf = await pool.register({ module: fixture('identity.py') });
    const small = wide(10);
    expect(sameContent(await udf.apply(small), small)).toBe(true);
    const none = tableFromArrays({ a: new Float64Array(0), b: new Int32Array(0) });
    const empty = await udf.apply(none);
    expect(empty.numRows).toBe(0);
    expect(empty.schema.fields.map(String)).toEqual(['a: Float64', 'b: Int32']);
    expect(pool.stats().sharedMemory.resultsReceived).toBe(2);

    const defaults = await startPool({ workers: 1 });
    await (await defaults.register({ module: fixture('identity.py') })).apply(wide(1000));
    expect(defaults.stats().sharedMemory.resultsReceived).toBe(0);
  });

  it('retries the batch of a worker that died and leaves no file behind', async () => {
    const marker = path.join(tempDir('shm-crash'), 'crashed-once');
    const pool = await startPool({ workers: 2, sharedMemoryMinBytes: 1024 });
    const udf = await pool.register({ module: fixture('crash.py'), conf: { how: 'exit', marker, crashes: 1 }, batchSize: 2000 });
    const input = wide(10_000);
    expect(sameContent(await udf.apply(input), input)).toBe(true);
    expect(pool.stats().sharedMemory.resultsReceived).toBe(5);
    await waitFor(() => pool.restarts === 1, 30_000, 'the replacement worker');
    // The dead worker's spare went with it; the live ones may keep theirs.
    expect(filesIn(pool).every((name) => sparesOf(pool).includes(name))).toBe(true);
  });

  it('removes the result file a worker wrote (or was writing) when it died before announcing it', async () => {
    const pool = await startPool({ workers: 1, sharedMemoryMinBytes: 1024, retries: 1 });
    // A 1-row input whose result is 400 MB of zeros: the file takes long enough to write to be caught in the act.
    const code = 'import numpy as np\nimport pyarrow as pa\ndef apply(state, batch):\n'
      + '    n = batch.num_rows\n    return {"blob": pa.array([np.zeros(400 * 2**20 // n, np.uint8).tobytes()] * n, pa.large_binary())}\n';
    const udf = await pool.register({ code });
    const [first] = pool.stats().workers.map((w) => w.pid!);
    const applying = udf.apply(tableFromArrays({ x: Float64Array.of(1) }));
    const deadline = Date.now() + 30_000;
    while (filesIn(pool).length === 0) {
      if (Date.now() > deadline) throw new Error('no result file appeared');
      await new Promise((resolve) => setImmediate(resolve));
    }
    process.kill(first!, 'SIGKILL');
    const out = await applying; // retried on the replacement, whose file is read and removed
    expect(out.numRows).toBe(1);
    expect(pool.restarts).toBe(1);
    expect(filesIn(pool)).toEqual([]);
  });

  it('falls back to the socket when a result file cannot be written', async () => {
    const pool = await startPool({ workers: 1, sharedMemoryMinBytes: 0 });
    const udf = await pool.register({ module: fixture('identity.py') });
    rmSync(pool.stats().sharedMemory.dir!, { recursive: true }); // as a full /dev/shm would refuse them
    const input = wide(5000);
    expect(sameContent(await udf.apply(input), input)).toBe(true);
    expect(pool.stats().sharedMemory.resultsReceived).toBe(0);
  });

  // Result files under /dev/shm, the socket's directory under the temp dir: a pool killed before close() leaves both.
  it.each([SHARED_MEMORY_ROOT, os.tmpdir()])('removes directories under %s left by pools whose process is gone, and keeps those of live ones', async (root) => {
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const gone = path.join(root, `pyudf-${deadPid()}-test`);
      const live = path.join(root, `pyudf-${sleeper.pid}-test`);
      for (const dir of [gone, live]) {
        mkdirSync(dir);
        writeFileSync(path.join(dir, 'c1'), 'left behind');
      }
      const pool = await createPool({ workers: 1, python: PYTHON, logger: () => {} });
      await pool.close();
      expect(existsSync(gone)).toBe(false);
      expect(existsSync(live)).toBe(true);
      // The live one is not ours to remove; the sleeper's end makes it abandoned, so the next pool does.
      sleeper.kill('SIGKILL');
      await new Promise((resolve) => sleeper.once('exit', resolve));
      await (await createPool({ workers: 1, python: PYTHON, logger: () => {} })).close();
      expect(existsSync(live)).toBe(false);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('leaves no directory behind when the pool cannot start', async () => {
    const ours = (): string[] => readdirSync(SHARED_MEMORY_ROOT).filter((name) => name.startsWith(`pyudf-${process.pid}-`));
    const before = ours();
    await expect(createPool({ workers: 1, python: '/nonexistent/python3' })).rejects.toThrow(/nonexistent/);
    expect(ours().filter((name) => !before.includes(name))).toEqual([]);
  });

  it('rejects a threshold that is not a byte count', async () => {
    await expect(createPool({ python: PYTHON, sharedMemoryMinBytes: -1 })).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(createPool({ python: PYTHON, sharedMemoryMinBytes: 1.5 })).rejects.toThrow(/sharedMemoryMinBytes/);
  });
});

/** A pid no process has: pids stay below the kernel's pid_max. */
const deadPid = (): number => Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim());
