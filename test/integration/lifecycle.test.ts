// Start-up, logging, thread limits, drain on close, kill escalation, and workers outliving a killed parent.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { createPool, PythonEnvError } from '../../src/index.js';
import { type CapturedLog, fixture, isAlive, PYTHON, startPool, tempDir, waitFor, workerPids } from '../helpers.js';

const rows = (n: number) => tableFromArrays({ x: Float64Array.from({ length: n }, (_, i) => i) });

describe('lifecycle', () => {
  it('close() drains in-flight calls, then stops every worker', async () => {
    const pool = await startPool({ workers: 2 });
    const udf = await pool.register({ module: fixture('sleepy.py'), conf: { seconds: 1 }, batchSize: 1 });
    const pids = workerPids(pool);
    const running = udf.apply(rows(4));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await pool.close();
    expect((await running).numRows).toBe(4);
    expect(pids.filter(isAlive)).toEqual([]);
  });

  it('supports await using', async () => {
    let pids: number[];
    {
      await using pool = await createPool({ workers: 1, python: PYTHON, logger: () => undefined });
      pids = workerPids(pool);
      await using udf = await pool.register({ module: fixture('identity.py') });
      expect((await udf.apply(rows(1))).numRows).toBe(1);
    }
    expect(pids.filter(isAlive)).toEqual([]);
  });

  it('escalates to SIGTERM and SIGKILL when a worker ignores SHUTDOWN', async () => {
    const pool = await startPool({ workers: 1, shutdownTimeoutMs: 300 });
    await pool.register({ module: fixture('stubborn.py') });
    const pids = workerPids(pool);
    const started = Date.now();
    await pool.close();
    expect(pids.filter(isAlive)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('makes workers exit by themselves when the Node process is killed with SIGKILL', async () => {
    const child = execa('node', [fixture('orphan-pool.mjs'), PYTHON, fixture('sleepy.py')], { reject: false });
    const pids = await new Promise<number[]>((resolve, reject) => {
      child.stdout!.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString()) as number[]));
      void child.then((r) => reject(new Error(`orphan-pool exited early: ${r.stderr}`)));
    });
    expect(pids).toHaveLength(2);
    expect(pids.every(isAlive)).toBe(true);
    child.kill('SIGKILL');
    await child;
    try {
      await waitFor(() => !pids.some(isAlive), 5_000, 'orphaned workers to exit');
    } finally {
      for (const pid of pids.filter(isAlive)) process.kill(pid, 'SIGKILL');
    }
  });

  it('forwards worker stdout and stderr lines to the logger, never blocking a chatty worker', async () => {
    const logs: CapturedLog[] = [];
    const pool = await startPool({ workers: 1 }, logs);
    const udf = await pool.register({ module: fixture('chatty.py'), conf: { lines: 20_000 } });
    const out = await udf.apply(rows(3));
    expect(out.numRows).toBe(3);
    expect(logs).toContainEqual({ level: 'info', source: 'w0', stream: 'stdout', line: 'init says hello' });
    await waitFor(() => logs.filter((l) => l.line.startsWith('stdout line')).length === 20_000, 5_000, 'all stdout lines');
    expect(logs.filter((l) => l.stream === 'stderr' && l.line.startsWith('stderr line')).length).toBe(20_000);
  });

  it('limits each worker\'s numeric thread pools to its share of the cores unless told otherwise', async () => {
    const envOf = async (options: Parameters<typeof startPool>[0]) => {
      const pool = await startPool(options);
      const udf = await pool.register({ module: fixture('chatty.py'), conf: { lines: 0 } });
      const out = await udf.apply(rows(1));
      const row = out.get(0)!.toJSON() as Record<string, string>;
      await pool.close();
      return row;
    };
    const share = String(Math.max(1, Math.floor(os.availableParallelism() / 2)));
    expect(await envOf({ workers: 2 })).toEqual({
      OMP_NUM_THREADS: share, MKL_NUM_THREADS: share, OPENBLAS_NUM_THREADS: share, TF_NUM_INTRAOP_THREADS: share,
    });
    expect((await envOf({ workers: 1, threadsPerWorker: 4 })).OMP_NUM_THREADS).toBe('4');
    expect((await envOf({ workers: 1, env: { OMP_NUM_THREADS: '7' } })).OMP_NUM_THREADS).toBe('7');
  });
});

describe('finding Python', () => {
  it('fails with PythonEnvError naming the interpreter when it does not exist', async () => {
    const error = (await createPool({ workers: 1, python: '/nonexistent/python3' }).catch((e: unknown) => e)) as PythonEnvError;
    expect(error).toBeInstanceOf(PythonEnvError);
    expect(error.code).toBe('ERR_PYTHON_ENV');
    expect(error.python).toBe('/nonexistent/python3');
    expect(error.message).toMatch(/PYUDF_PYTHON/);
  });

  it('fails with PythonEnvError and the exact pip command when pyarrow/pyzmq are missing', async () => {
    const venv = path.join(tempDir('bare'), 'venv');
    await execa('python3', ['-m', 'venv', '--without-pip', venv]);
    const bare = path.join(venv, 'bin', 'python');
    const error = (await createPool({ workers: 1, python: bare, logger: () => undefined }).catch((e: unknown) => e)) as PythonEnvError;
    expect(error).toBeInstanceOf(PythonEnvError);
    expect(error.python).toBe(bare);
    expect(error.problem).toMatch(/cannot import (pyarrow|zmq|numpy)/);
    expect(error.fix).toMatch(new RegExp(`^${bare} -m pip install -r .*python/requirements\\.txt$`));
  });

  it('suggests a venv, never pip into the system, for an OS-managed Python (PEP 668) without the packages', async () => {
    const system = '/usr/bin/python3';
    const { stdout } = await execa(system, ['-c', 'import sysconfig; print(sysconfig.get_path("stdlib"))']);
    // This machine's Debian Python is marked EXTERNALLY-MANAGED and lacks pyarrow: the case to prove.
    expect(existsSync(path.join(stdout.trim(), 'EXTERNALLY-MANAGED')), 'the system Python is not PEP 668-managed here').toBe(true);
    const error = (await createPool({ workers: 1, python: system, logger: () => undefined }).catch((e: unknown) => e)) as PythonEnvError;
    expect(error).toBeInstanceOf(PythonEnvError);
    expect(error.fix).toContain('managed by the operating system (PEP 668)');
    expect(error.fix).toContain(`${system} -m venv .venv\n  .venv/bin/python -m pip install -r `);
    expect(error.fix).not.toMatch(new RegExp(`^${system} -m pip`, 'm'));
  });

  it('uses $PYUDF_PYTHON when no python option is given', async () => {
    process.env['PYUDF_PYTHON'] = PYTHON;
    try {
      const pool = await startPool({ workers: 1, python: undefined as never });
      expect(pool.stats().python).toBe(PYTHON);
    } finally {
      delete process.env['PYUDF_PYTHON'];
    }
  });
});
