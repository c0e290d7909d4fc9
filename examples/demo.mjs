// npm run demo: a Keras digits classifier, trained in Python, called from Node on a pool of 2 workers.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableFromIPC } from 'apache-arrow';
import { execa } from 'execa';
import { createPool } from '../dist/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const python = path.join(root, '.venv', 'bin', 'python');
const modelPath = path.join(os.tmpdir(), 'pyudf-demo', 'digits.keras');

// 1. Train the model (about 20 s, first run only); this also writes the 1797 digits as an Arrow file.
await execa(python, [path.join(root, 'examples', 'digits_model.py'), modelPath], { stdio: 'inherit' });
const digits = tableFromIPC(readFileSync(path.join(path.dirname(modelPath), 'digits.arrow')));

// 2. Start two Python workers; each loads the model once, in init(conf).
const pool = await createPool({ workers: 2, python });
try {
  const udf = await pool.register({
    module: path.join(root, 'examples', 'digits_model.py'),
    conf: { model_path: modelPath },
    batchSize: 256, // 8 batches, shared by both workers
  });

  // 3. Classify every digit: a Table in, a Table out (label, probs), rows in input order.
  const input = digits.select(['pixels']);
  await udf.apply(input); // warm-up: TensorFlow builds its predict graph on the first call
  const start = performance.now();
  const out = await udf.apply(input);
  const seconds = (performance.now() - start) / 1000;

  const truth = digits.getChild('label').toArray();
  const heldOut = digits.getChild('held_out').toArray();
  const predicted = out.getChild('label').toArray();
  const probs = out.getChild('probs');

  console.log('\nrow  true  predicted  confidence');
  for (let i = 0; i < 10; i++) {
    const confidence = Math.max(...probs.get(i).toArray());
    const mark = predicted[i] === truth[i] ? '' : '  <- wrong';
    console.log(`${String(i).padStart(3)}  ${String(truth[i]).padStart(4)}  ${String(predicted[i]).padStart(9)}  ${confidence.toFixed(3).padStart(10)}${mark}`);
  }
  const accuracy = (rows) => rows.filter((i) => predicted[i] === truth[i]).length / rows.length;
  const all = [...truth.keys()];
  const held = all.filter((i) => heldOut[i]);
  console.log(`\naccuracy: ${accuracy(all).toFixed(3)} on all ${all.length} digits, ${accuracy(held).toFixed(3)} on the ${held.length} not seen in training`);
  console.log(`speed:    ${out.numRows} rows in ${(seconds * 1000).toFixed(0)} ms = ${Math.round(out.numRows / seconds)} rows/s`);
} finally {
  await pool.close();
}
