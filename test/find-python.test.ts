// Which interpreter pyudf picks: option, $PYUDF_PYTHON, the nearest .venv above the current directory or the module, python3.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findPython } from '../src/python/find-python.js';
import { tempDir } from './helpers.js';

function venvIn(dir: string): string {
  const python = path.join(dir, '.venv', 'bin', 'python');
  mkdirSync(path.dirname(python), { recursive: true });
  writeFileSync(python, '#!/bin/sh\n');
  chmodSync(python, 0o755);
  return python;
}

describe('findPython', () => {
  it('takes the nearest .venv walking up from the current directory', () => {
    const root = tempDir('findpy');
    const outer = venvIn(root);
    const deep = path.join(root, 'app', 'src', 'models');
    mkdirSync(deep, { recursive: true });
    expect(findPython(undefined, { cwd: deep, env: {} })).toEqual({ python: outer, source: '.venv' });
    const inner = venvIn(path.join(root, 'app'));
    expect(findPython(undefined, { cwd: deep, env: {} }).python).toBe(inner);
  });

  it('then walks up from the module\'s directory, when the current directory has no .venv above it', () => {
    const project = tempDir('findpy-project');
    const python = venvIn(project);
    const elsewhere = tempDir('findpy-elsewhere');
    const moduleDir = path.join(project, 'udfs');
    mkdirSync(moduleDir);
    expect(findPython(undefined, { cwd: elsewhere, env: {}, moduleDir })).toEqual({ python, source: '.venv' });
    expect(findPython(undefined, { cwd: elsewhere, env: {} })).toEqual({ python: 'python3', source: 'PATH' });
  });

  it('prefers the option, then $PYUDF_PYTHON, over any .venv', () => {
    const root = tempDir('findpy-order');
    venvIn(root);
    expect(findPython('/opt/py', { cwd: root, env: { PYUDF_PYTHON: '/env/py' } })).toEqual({ python: '/opt/py', source: 'option' });
    expect(findPython(undefined, { cwd: root, env: { PYUDF_PYTHON: '/env/py' } })).toEqual({ python: '/env/py', source: 'PYUDF_PYTHON' });
  });

  it('passes over a .venv that others can write to, as anyone could have put one in /tmp', () => {
    const root = tempDir('findpy-shared');
    const outer = venvIn(root);
    const shared = path.join(root, 'shared');
    venvIn(shared);
    chmodSync(path.join(shared, '.venv'), 0o777);
    expect(findPython(undefined, { cwd: shared, env: {} }).python).toBe(outer);
    chmodSync(path.join(shared, '.venv'), 0o755);
    chmodSync(path.join(shared, '.venv', 'bin'), 0o775);
    expect(findPython(undefined, { cwd: shared, env: {} }).python).toBe(outer);
  });
});
