// pool.unref(): a script that ends without close() exits once its calls are answered, and its workers end with it.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { isAlive, PYTHON, ROOT, tempDir, waitFor } from '../helpers.js';

function script(unref: boolean, seconds: number): string {
  return `
    import { createPool } from ${JSON.stringify(path.join(ROOT, 'dist', 'index.js'))};
    import { tableFromArrays } from ${JSON.stringify(path.join(ROOT, 'node_modules', 'apache-arrow', 'Arrow.node.mjs'))};
    const pool = await createPool({ workers: 2, python: ${JSON.stringify(PYTHON)} });
    ${unref ? 'pool.unref();' : ''}
    const udf = await pool.register({ code: 'import time\\ndef apply(state, batch):\\n    time.sleep(${seconds})\\n    return batch\\n' });
    const out = await udf.apply(tableFromArrays({ x: Float64Array.of(1, 2, 3) }));
    console.log(JSON.stringify({ x: Array.from(out.getChild('x').toArray()), pids: pool.stats().workers.map((w) => w.pid) }));
  `;
}

async function run(unref: boolean, seconds: number) {
  const file = path.join(tempDir('unref'), 'main.mjs');
  writeFileSync(file, script(unref, seconds));
  const started = performance.now();
  const child = execa('node', [file], { cwd: ROOT, timeout: 20_000, reject: false });
  return { child, started };
}

describe('pool.unref()', () => {
  it('lets a script that never closes its pool exit once its last call (2 s long) is answered; its workers end too', async () => {
    const { child, started } = await run(true, 2);
    const result = await child;
    expect(result.exitCode).toBe(0);
    expect(performance.now() - started).toBeLessThan(15_000);
    const { x, pids } = JSON.parse(result.stdout) as { x: number[]; pids: number[] };
    expect(x).toEqual([1, 2, 3]);
    expect(pids).toHaveLength(2);
    await waitFor(() => pids.every((pid) => !isAlive(pid)), 5_000, 'the workers to end with their parent');
  });

  it('without unref(), the same script is still running 4 s after its answer', async () => {
    const { child } = await run(false, 0);
    let answered = false;
    child.stdout!.on('data', () => { answered = true; });
    await waitFor(() => answered, 15_000, 'the answer');
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    expect(child.exitCode).toBeNull();
    child.kill('SIGKILL');
    await child;
  });

  it('reads the READY of a worker that replaced one killed while the pool was idle', async () => {
    const file = path.join(tempDir('unref'), 'main.mjs');
    writeFileSync(file, `
      import { createPool } from ${JSON.stringify(path.join(ROOT, 'dist', 'index.js'))};
      import { tableFromArrays } from ${JSON.stringify(path.join(ROOT, 'node_modules', 'apache-arrow', 'Arrow.node.mjs'))};
      const pool = (await createPool({ workers: 1, python: ${JSON.stringify(PYTHON)}, startTimeoutMs: 8000 })).unref();
      const udf = await pool.register({ code: 'def apply(state, batch):\\n    return batch\\n' });
      const input = tableFromArrays({ x: Float64Array.of(1, 2) });
      await udf.apply(input);
      process.kill(pool.stats().workers[0].pid, 'SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 1500)); // idle while the replacement starts
      const out = await udf.apply(input);
      console.log(JSON.stringify({ rows: out.numRows, restarts: pool.stats().restarts }));
    `);
    const result = await execa('node', [file], { cwd: ROOT, timeout: 30_000, reject: false });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ rows: 2, restarts: 1 });
  });
});
