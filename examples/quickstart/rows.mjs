// rows.mjs: many concurrent single-row calls, coalesced into a few batches.
import { createPool } from 'pyudf';

const pool = await createPool({ workers: 2 });
try {
  const model = await pool.register({ module: new URL('./model.py', import.meta.url).pathname, conf: { weights: [0.5, 2] } });
  let batches = 0;
  model.observe(() => batches++);
  const rows = await Promise.all(Array.from({ length: 5000 }, (_, i) => model.call({ a: i, b: 1 })));
  console.log(rows[4999], `${rows.length} calls in ${batches} batches`); // { score: 2501.5 } 5000 calls in 5 batches
} finally {
  await pool.close();
}
