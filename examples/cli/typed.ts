// typed.ts: register() typed by the module `pyudf types model.py --out model.types.ts` generated.
import { createPool } from 'pyudf';
import { tableFromArrays } from 'apache-arrow';
import { inputSchema, outputSchema } from './model.types.js';

await using pool = await createPool({ workers: 2 });
// No generics: Udf<Input, Output> is inferred from the generated schemas.
await using model = await pool.register({
  module: new URL('./model.py', import.meta.url).pathname,
  conf: { weights: [0.5, 2] },
  input: inputSchema,
  output: outputSchema,
});
const scored = await model.apply(tableFromArrays({ a: new Float64Array([1, 2]), b: new Float64Array([10, 20]) }));
console.log(scored.getChild('score')?.toArray()); // Float64Array(2) [ 20.5, 41 ]
