// predict.mjs: two saved models served with no Python file, side by side on one pool (run train.py first).
import { readFileSync } from 'node:fs';
import { tableFromIPC } from 'apache-arrow';
import { createPool, tensorOf } from 'pyudf';

const dir = process.argv[2] ?? 'models';
const digits = tableFromIPC(readFileSync(`${dir}/digits.arrow`));
const input = digits.select(['pixels']).slice(0, 8); // 8 digits: pixels, a (8, 64) float32 tensor column

const pool = await createPool({ workers: 1 });
try {
  const keras = await pool.register({ model: `${dir}/digits.keras` });
  const sklearn = await pool.register({ model: `${dir}/digits.joblib`, method: 'predict_proba' });
  // One column per model output, named after it: Keras's "probs", the estimator's "predict_proba".
  const fromKeras = tensorOf((await keras.apply(input)).getChild('probs'));
  const fromSklearn = tensorOf((await sklearn.apply(input)).getChild('predict_proba'));
  const argmax = ({ values, shape: [rows, classes] }) =>
    Array.from({ length: rows }, (_, r) => { const row = values.subarray(r * classes, (r + 1) * classes); return row.indexOf(Math.max(...row)); });
  console.log('true   ', digits.getChild('label').toArray().slice(0, 8).join(' ')); // true    0 1 2 3 4 5 6 7
  console.log('keras  ', argmax(fromKeras).join(' ')); //                                   keras   0 1 2 3 4 9 6 7
  console.log('sklearn', argmax(fromSklearn).join(' ')); //                                 sklearn 0 1 2 3 4 9 6 7
} finally {
  await pool.close();
}
