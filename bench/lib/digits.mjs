// The Keras digits model of examples/digits_model.py as bench data: trained once into the cache, and
// its pixels repeated into a table of any size.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Field, FixedSizeList, Float32, makeData, RecordBatch, Schema, Struct, Table, tableFromIPC } from 'apache-arrow';
import { CACHE_DIR, ROOT } from './config.mjs';
import { runPython } from './procs.mjs';

export const DIGITS_MODULE = path.join(ROOT, 'examples', 'digits_model.py');
export const MODEL_PATH = path.join(CACHE_DIR, 'digits.keras');
/** A multiple of 32, so each batch gives exactly model.predict's numbers (see digits_model.predict). */
export const BATCH_ROWS = 1024;
const PIXELS = 64;
export const QUIET_TF = { TF_CPP_MIN_LOG_LEVEL: '3' };

/** The 1797 digits repeated to `rows` rows, as one contiguous pixels column. */
export function digitsTable(rows) {
  const digits = tableFromIPC(readFileSync(path.join(CACHE_DIR, 'digits.arrow'))).select(['pixels']);
  const source = digits.getChild('pixels').data.map((d) => d.children[0].values);
  const all = new Float32Array(source.reduce((n, v) => n + v.length, 0));
  source.reduce((at, v) => { all.set(v, at); return at + v.length; }, 0);
  const values = new Float32Array(rows * PIXELS);
  for (let at = 0; at < values.length; at += all.length) values.set(all.subarray(0, Math.min(all.length, values.length - at)), at);
  const type = new FixedSizeList(PIXELS, new Field('item', new Float32(), true));
  const pixels = makeData({ type, length: rows, nullCount: 0, child: makeData({ type: new Float32(), length: values.length, data: values }) });
  const schema = new Schema([new Field('pixels', type, false)]);
  return new Table(new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children: [pixels] })));
}

export const DIGITS_CONF = { model_path: MODEL_PATH };

/** Trains the model and writes the digits on the first run only (~20 s). */
export async function trainDigits() {
  await runPython([DIGITS_MODULE, MODEL_PATH], { env: QUIET_TF });
}
