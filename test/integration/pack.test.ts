// The published package: npm pack, install the tarball into a fresh project, run a UDF from there.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { PYTHON, ROOT, tempDir } from '../helpers.js';

describe('npm package', () => {
  it('installs from its tarball into another project and runs a UDF with the Python files it ships', async () => {
    const dir = tempDir('pack');
    // --ignore-scripts: `npm test` has just built dist/; prepare would only repeat that.
    const { stdout } = await execa('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT });
    const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    const files = packed!.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining([
      'dist/index.js', 'dist/index.d.ts', 'python/pyudf/worker.py', 'python/pyudf/message_loop.py', 'python/pyudf/host.py', 'python/requirements.txt', 'protocol.md',
    ]));
    expect(files.filter((f) => /__pycache__|requirements-dev|python\/tests|^test\/|^src\//.test(f))).toEqual([]);

    const project = path.join(dir, 'consumer');
    await execa('mkdir', ['-p', project]);
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    await execa('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', path.join(dir, packed!.filename)], { cwd: project });
    const installed = JSON.parse(readFileSync(path.join(project, 'node_modules', 'pyudf', 'package.json'), 'utf8')) as Record<string, Record<string, string>>;
    // A consumer's install runs no set-up of ours and never pulls a Python framework.
    expect(Object.keys(installed['scripts'] ?? {}).filter((s) => /^(pre|post)?install$/.test(s))).toEqual([]);
    expect(JSON.stringify(installed['dependencies'])).not.toMatch(/tensorflow|python/i);

    writeFileSync(path.join(project, 'main.mjs'), `
      import { createPool, PythonError } from 'pyudf';
      import { tableFromArrays } from 'apache-arrow';
      const pool = await createPool({ workers: 1 });
      try {
        const udf = await pool.register({ code: 'def apply(state, batch):\\n    return {"y": batch.column("x")}\\n' });
        const out = await udf.apply(tableFromArrays({ x: new Float64Array([1, 2, 3]) }));
        console.log(JSON.stringify({ y: Array.from(out.getChild('y').toArray()), errors: typeof PythonError }));
      } finally {
        await pool.close();
      }
    `);
    const run = await execa('node', ['main.mjs'], { cwd: project, env: { PYUDF_PYTHON: PYTHON } });
    expect(JSON.parse(run.stdout)).toEqual({ y: [1, 2, 3], errors: 'function' });
  });
});
