// The published package: npm pack, install the tarball into a fresh project, run a UDF from there.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { PYTHON, ROOT, tempDir } from '../helpers.js';

describe('npm package', () => {
  it('installs from its tarball into another project and runs a UDF with the Python files it ships', async () => {
    const dir = tempDir('pack');
    // The pack lifecycle runs (its prepack strips our scripts from the packed manifest), but not the
    // rebuild of dist/ in prepare, which `npm test` has just done and other tests are using.
    const { stdout } = await execa('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, env: { PYUDF_SKIP_PREPARE: '1' } });
    const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    const files = packed!.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining([
      'dist/index.js', 'dist/index.d.ts', 'python/pyudf/worker.py', 'python/pyudf/message_loop.py', 'python/pyudf/host.py', 'python/requirements.txt', 'protocol.md',
      'examples/quickstart/main.mjs', 'examples/quickstart/model.py', 'examples/cli/score-csv.sh', 'examples/cli/model.py',
    ]));
    expect(files.filter((f) => /__pycache__|requirements-dev|python\/tests|^test\/|^src\//.test(f))).toEqual([]);

    const project = path.join(dir, 'consumer');
    await execa('mkdir', ['-p', project]);
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    const tarball = path.join(dir, packed!.filename);
    const install = await execa('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: project });
    const installed = JSON.parse(readFileSync(path.join(project, 'node_modules', 'pyudf', 'package.json'), 'utf8')) as Record<string, Record<string, string>>;
    // A consumer's install runs no set-up of ours, is never asked to approve a script of ours, and never pulls a Python framework.
    expect(installed['scripts']).toBeUndefined();
    expect(`${install.stdout}\n${install.stderr}`).not.toMatch(/pyudf@[^ ]* \(/);
    expect(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).toContain('"prepare"');
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

    // The README's examples, as a user runs them from the installed package.
    const cli = await execa('bash', ['node_modules/pyudf/examples/cli/score-csv.sh'], { cwd: project, env: { PYUDF_PYTHON: PYTHON } });
    expect(cli.stdout.trim()).toBe('score\n20.5\n41\n61.5');
    const quickstart = path.join(project, 'quickstart');
    cpSync(path.join(project, 'node_modules', 'pyudf', 'examples', 'quickstart'), quickstart, { recursive: true });
    const main = await execa('node', ['main.mjs'], { cwd: quickstart, env: { PYUDF_PYTHON: PYTHON } });
    expect(main.stdout).toContain('Float64Array(3) [ 20.5, 41, 61.5 ]');
  });

  it('is required from CommonJS: a .cjs file, and a CommonJS TypeScript project type-checked against the package', async () => {
    const dir = tempDir('pack-cjs');
    const { stdout } = await execa('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, env: { PYUDF_SKIP_PREPARE: '1' } });
    const tarball = path.join(dir, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
    const project = path.join(dir, 'consumer');
    await execa('mkdir', ['-p', project]);
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'commonjs' }));
    await execa('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: project });
    const program = (load: string) => `
      ${load}
      async function main() {
        const pool = await createPool({ workers: 1 });
        try {
          const udf = await pool.register({ code: 'def apply(state, batch):\\n    return {"y": batch.column("x")}\\n' });
          const out = await udf.apply(tableFromArrays({ x: new Float64Array([4, 5]) }));
          console.log(JSON.stringify({ y: Array.from(out.getChild('y')!.toArray() as Float64Array), pythonError: typeof PythonError }));
        } finally {
          await pool.close();
        }
      }
      main().catch((error) => { console.error(error); process.exit(1); });
    `;
    writeFileSync(path.join(project, 'main.cjs'), program(
      "const { createPool, PythonError } = require('pyudf');\nconst { tableFromArrays } = require('apache-arrow');",
    ).replace(/!\.toArray\(\) as Float64Array/, '.toArray()'));
    const cjs = await execa('node', ['main.cjs'], { cwd: project, env: { PYUDF_PYTHON: PYTHON } });
    expect(JSON.parse(cjs.stdout)).toEqual({ y: [4, 5], pythonError: 'function' });

    // TypeScript compiling to CommonJS (require calls), for both classic and node-style resolution.
    writeFileSync(path.join(project, 'main.ts'), program("import { createPool, PythonError } from 'pyudf';\nimport { tableFromArrays } from 'apache-arrow';"));
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    for (const [module, resolution] of [['commonjs', 'node10'], ['nodenext', 'nodenext']] as const) {
      const outDir = path.join(project, `out-${module}`);
      await execa('node', [tsc, '--strict', '--skipLibCheck', '--module', module, '--moduleResolution', resolution, '--target', 'es2022',
        '--types', 'node', '--typeRoots', path.join(ROOT, 'node_modules', '@types'), '--outDir', outDir, 'main.ts'], { cwd: project });
      const compiled = readFileSync(path.join(outDir, 'main.js'), 'utf8');
      expect(compiled).toContain('require("pyudf")');
      const run = await execa('node', [path.join(outDir, 'main.js')], { cwd: project, env: { PYUDF_PYTHON: PYTHON } });
      expect(JSON.parse(run.stdout)).toEqual({ y: [4, 5], pythonError: 'function' });
    }
  });
});
