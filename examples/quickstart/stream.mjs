// stream.mjs: stream batches and row objects through model.py, results in order, bounded in flight.
import { createPool } from 'pyudf';
import { tableFromArrays } from 'apache-arrow';

async function* readings() {
  for (let i = 0; i < 5; i++) yield tableFromArrays({ a: new Float64Array([i]), b: new Float64Array([10 * i]) });
  yield { a: 100, b: 1000 }; // plain row objects work too
}

const pool = await createPool({ workers: 2 });
try {
  const model = await pool.register({ module: new URL('./model.py', import.meta.url).pathname, conf: { weights: [0.5, 2] } });
  const scores = [];
  for await (const batch of model.stream(readings(), { maxInFlight: 4 })) scores.push(...batch.getChild('score'));
  console.log(scores); // [ 0, 20.5, 41, 61.5, 82, 2050 ]
} finally {
  await pool.close();
}
