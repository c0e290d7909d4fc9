// `pyudf serve` flags that cannot work together are usage errors (exit 2) before any worker starts.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/program.js';
import { FORMAT_OF_EXTENSION, MODEL_FORMATS } from '../../src/udf/register-options.js';
import { PYTHON, ROOT, tempDir } from '../helpers.js';

let dir: string;

beforeAll(() => {
  dir = tempDir('cli-serve-conflicts-');
  for (const file of ['m.onnx', 'm.joblib', 'm.keras']) writeFileSync(path.join(dir, file), 'not read: usage errors come first');
  mkdirSync(path.join(dir, 'saved'));
  writeFileSync(path.join(dir, 'saved', 'saved_model.pb'), '');
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Runs `pyudf serve ...args` in this process: its exit code and what it wrote to stderr. */
async function serve(...args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  const code = await main(['serve', ...args]);
  vi.restoreAllMocks();
  return { code, stderr };
}

describe('pyudf serve usage errors', () => {
  it('refuses --grpc-port equal to --port (it failed after the HTTP listen, in grpc-js\'s words)', async () => {
    const result = await serve(path.join(dir, 'm.onnx'), '--port', '18123', '--grpc-port', '18123');
    expect(result).toEqual({ code: 2, stderr: 'pyudf: Invalid option "--grpc-port": must differ from --port (both are 18123): HTTP and gRPC each listen on a port of their own\n' });
  });

  it('refuses --signature and --method for a format that has none (the worker refused them, exit 1)', async () => {
    expect(await serve(path.join(dir, 'm.onnx'), '--method', 'predict_proba')).toEqual({
      code: 2, stderr: expect.stringContaining('"--method": applies to a scikit-learn or XGBoost model; ') as unknown,
    });
    expect((await serve(path.join(dir, 'm.keras'), '--signature', 'x')).stderr).toContain('"--signature": applies to a TensorFlow SavedModel; ');
    expect((await serve(path.join(dir, 'm.joblib'), '--format', 'onnx', '--method', 'predict')).code).toBe(2);
    expect((await serve(path.join(dir, 'saved'), '--method', 'predict')).stderr).toContain(' is savedmodel');
  });

  it('names --name, not createServer()\'s model.name, for a name that is not URL-safe', async () => {
    const result = await serve(path.join(dir, 'm.onnx'), '--name', 'a b');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('option \'--name <name>\' argument \'a b\' is invalid. expected a URL-safe name');
  });

  it('knows the format of every saved-model extension as pyudf.builtins does', async () => {
    expect(Object.values(FORMAT_OF_EXTENSION).every((f) => MODEL_FORMATS.includes(f))).toBe(true);
    const { stdout } = await execa(PYTHON, ['-c', 'import json; from pyudf.builtins import EXTENSIONS; print(json.dumps(EXTENSIONS))'], {
      env: { PYTHONPATH: path.join(ROOT, 'python') },
    });
    expect(JSON.parse(stdout)).toEqual(FORMAT_OF_EXTENSION);
  });
});
