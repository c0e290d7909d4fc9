// A real Keras model behind the pool: examples/digits_model.py must answer exactly what Keras answers.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  Field, Float32, type FixedSizeList, List, Table, Type, type Vector, tableFromIPC, vectorFromArray,
} from 'apache-arrow';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, fixture, PYTHON, ROOT, startPoolOn } from '../helpers.js';

const ROWS = 1797;
const CLASSES = 10;
// Trained once (about 20 s) and reused by later runs of this checkout: kept in it (git-ignored), not in the temp dir.
const MODEL = path.join(ROOT, '.cache', 'test', 'digits.keras');
const UDF_MODULE = path.join(ROOT, 'examples', 'digits_model.py');

/** Largest |a - b| over every probability of every row. */
function maxAbsDiff(a: Vector, b: Vector): number {
  let max = 0;
  for (let row = 0; row < a.length; row++) {
    const x = a.get(row)!.toArray() as Float32Array;
    const y = b.get(row)!.toArray() as Float32Array;
    expect(x.length).toBe(CLASSES);
    for (let k = 0; k < CLASSES; k++) max = Math.max(max, Math.abs(x[k]! - y[k]!));
  }
  return max;
}

describe('keras digits model', () => {
  let dir: string;
  /** pixels, and Keras's own label and probs from one model.predict over all rows. */
  let expected: Table;

  beforeAll(async () => {
    mkdirSync(path.dirname(MODEL), { recursive: true });
    dir = mkdtempSync(path.join(os.tmpdir(), 'pyudf-keras-'));
    const out = path.join(dir, 'expected.arrow');
    await execa(PYTHON, [fixture('train_digits.py'), MODEL, out]);
    expected = tableFromIPC(readFileSync(out));
    expect(expected.numRows).toBe(ROWS);
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each(BACKENDS)('predicts every digit exactly as model.predict does, batched over two %s workers, the model sent as an artifact', async (backend) => {
    const pool = await startPoolOn(backend, { workers: 2 });
    // batchSize 256: 8 batches (7 x 256 + 5), spread over both workers.
    const udf = await pool.register({ module: UDF_MODULE, artifacts: { model: MODEL }, batchSize: 256 });
    const out = await udf.apply(expected.select(['pixels']));

    expect(out.numRows).toBe(ROWS);
    expect(out.schema.fields.map((f) => [f.name, String(f.type)])).toEqual([
      ['label', 'Int32'],
      ['probs', `FixedSizeList[${CLASSES}]<Float32>`],
    ]);
    const probsType = out.schema.fields[1]!.type as FixedSizeList<Float32>;
    expect(probsType.typeId).toBe(Type.FixedSizeList);
    expect(probsType.children[0]!.type.typeId).toBe(Type.Float);

    const expectedLabels = Array.from(expected.getChild('label')!.toArray() as Int32Array);
    expect(Array.from(out.getChild('label')!.toArray() as Int32Array)).toEqual(expectedLabels);
    // Exact, not just within 1e-5: model.predict computes rows in chunks of 32, the UDF calls the model on
    // the same chunks, and 256 is a multiple of 32, so every row meets the same matmul shapes as in the
    // whole-array predict (other chunkings, or model(x) on a whole batch, differ by up to ~4e-7).
    expect(maxAbsDiff(out.getChild('probs')!, expected.getChild('probs')!)).toBe(0);

    // The same pixels as a variable-size list<float32> column give the same answer.
    const pixels = expected.getChild('pixels')!;
    const rows = Array.from({ length: ROWS }, (_, i) => Array.from(pixels.get(i)!.toArray() as Float32Array));
    const listType = new List(new Field('item', new Float32(), true));
    const fromList = await udf.apply(new Table({ pixels: vectorFromArray(rows, listType) }));
    expect(Array.from(fromList.getChild('label')!.toArray() as Int32Array)).toEqual(expectedLabels);
    expect(maxAbsDiff(fromList.getChild('probs')!, expected.getChild('probs')!)).toBe(0);
  });
});
