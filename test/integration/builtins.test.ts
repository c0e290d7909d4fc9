// register({ model }): saved models served by pyudf.builtins with no Python file, each answering exactly
// what its framework predicts for the same rows (computed by test/fixtures/builtins/make_models.py).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Table, tableFromIPC, type Vector } from 'apache-arrow';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPool, InvalidOptionError, type Pool, type PoolStats, PythonError, type RegisterOptions, tensorOf,
} from '../../src/index.js';
import { fixture, isAlive, PYTHON, ROOT, tempDir, workerPids } from '../helpers.js';

interface Case {
  name: string;
  /** register() options, with the model's file name inside the output directory. */
  options: Pick<RegisterOptions, 'format' | 'method' | 'signature'> & { model: string };
  input: string;
  expected: string;
}

interface Manifest {
  cases: Case[];
  /** Why the TorchScript case is missing (PyTorch not installed), or null. */
  torch: string | null;
}

/** Every column of `actual` has the name, type and values of `expected`'s, exactly. */
function expectSameColumns(actual: Table, expected: Table): void {
  expect(actual.numRows).toBe(expected.numRows);
  expect(actual.schema.fields.map((f) => [f.name, String(f.type)])).toEqual(expected.schema.fields.map((f) => [f.name, String(f.type)]));
  for (const field of expected.schema.fields) {
    const got = actual.getChild(field.name)!;
    const want = expected.getChild(field.name)!;
    expect(values(got), field.name).toEqual(values(want));
  }
}

function values(column: Vector): { shape: readonly number[]; values: unknown[] } {
  if (String(column.type).startsWith('FixedSizeList')) {
    const tensor = tensorOf(column);
    return { shape: tensor.shape, values: Array.from(tensor.values as ArrayLike<unknown>) };
  }
  return { shape: [column.length], values: Array.from(column.toArray() as ArrayLike<unknown>) };
}

describe('saved models served by the built-in loaders', () => {
  let dir: string;
  let manifest: Manifest;
  let pool: Pool<PoolStats>;

  beforeAll(async () => {
    dir = tempDir('builtins');
    const pythonPath = [path.join(ROOT, 'python'), process.env['PYTHONPATH']].filter(Boolean).join(path.delimiter);
    await execa(PYTHON, [fixture('builtins/make_models.py'), dir], { env: { PYTHONPATH: pythonPath } });
    manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
    pool = await createPool({ python: PYTHON, workers: 1, logger: () => {} });
  });

  afterAll(async () => {
    if (!pool) return;
    const pids = workerPids(pool);
    await pool.close();
    expect(pids.filter(isAlive)).toEqual([]);
  });

  const read = (file: string): Table => tableFromIPC(readFileSync(path.join(dir, file)));

  async function check(name: string): Promise<void> {
    const found = manifest.cases.find((c) => c.name === name);
    if (!found) throw new Error(`make_models.py made no case ${name}: ${manifest.cases.map((c) => c.name).join(', ')}`);
    const udf = await pool.register({ ...found.options, model: path.join(dir, found.options.model) });
    try {
      expectSameColumns(await udf.apply(read(found.input)), read(found.expected));
    } finally {
      await udf.close();
    }
  }

  it('keras: a .keras model, float64 tensor rows cast to its float32 input', () => check('keras'));
  it('savedmodel: a named signature with two named inputs and two outputs', () => check('savedmodel'));
  it('sklearn: predict over four plain columns stacked into the feature matrix', () => check('sklearn predict'));
  it('sklearn: predict_proba as a tensor column of class probabilities', () => check('sklearn predict_proba'));
  it('xgboost: a native .ubj classifier, predict_proba', () => check('xgboost'));
  it('onnx: a MatMul+Add graph run by onnxruntime', () => check('onnx'));

  it('torchscript: a traced module (skipped without PyTorch unless PYUDF_REQUIRE_ALL_FRAMEWORKS=1)', async (context) => {
    if (manifest.torch !== null) {
      if (process.env['PYUDF_REQUIRE_ALL_FRAMEWORKS'] === '1') throw new Error(`PYUDF_REQUIRE_ALL_FRAMEWORKS=1 but ${manifest.torch}`);
      context.skip(manifest.torch);
    }
    await check('torchscript');
  });

  it('rejects a model path that does not exist with InvalidOptionError, before any worker sees it', async () => {
    const error = await pool.register({ model: 'missing.keras' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).message).toMatch(/missing\.keras/);
  });

  it('rejects a file of an unknown format with the PythonError from init, which names the format option', async () => {
    const file = path.join(dir, 'model.bin');
    writeFileSync(file, 'not a model');
    const error = await pool.register({ model: file }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PythonError);
    const pe = error as PythonError;
    expect(pe.phase).toBe('init');
    expect(pe.pythonType).toMatch(/UnknownFormatError$/);
    expect(pe.pythonMessage).toContain(file);
    expect(pe.pythonMessage).toContain("format: 'keras' | 'savedmodel'");
    // The pool keeps serving: a model registered after it works.
    await check('onnx');
  });
});
