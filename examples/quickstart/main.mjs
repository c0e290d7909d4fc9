// main.mjs: score a table with model.py on two Python workers.
import { createPool, PythonError } from 'pyudf';
import { tableFromArrays } from 'apache-arrow';

const pool = await createPool({ workers: 2 });
try {
  const model = await pool.register({
    module: new URL('./model.py', import.meta.url).pathname,
    conf: { weights: [0.5, 2] },
  });

  const table = tableFromArrays({ a: new Float64Array([1, 2, 3]), b: new Float64Array([10, 20, 30]) });
  const scored = await model.apply(table);
  console.log(scored.getChild('score').toArray()); // Float64Array(3) [ 20.5, 41, 61.5 ]

  // A Python exception arrives as a PythonError with its type, message and traceback.
  const error = await model.apply(tableFromArrays({ a: new Float64Array([1]) })).catch((e) => e);
  if (!(error instanceof PythonError)) throw error;
  console.log(error.pythonType, error.frames.at(-1)); // ValueError { file: '…/model.py', line: 13, function: 'apply' }
} finally {
  await pool.close(); // stops the workers
}
