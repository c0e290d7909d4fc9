// typed.ts: the same model with declared schemas, typed results and `await using`.
import { createPool } from 'pyudf';
import { Field, Float64, Schema, type Table, tableFromArrays } from 'apache-arrow';

await using pool = await createPool({ workers: 2 });
await using model = await pool.register<{ a: Float64; b: Float64 }, { score: Float64 }>({
  module: new URL('./model.py', import.meta.url).pathname,
  conf: { weights: [0.5, 2] },
  input: new Schema([new Field('a', new Float64()), new Field('b', new Float64())]),
  output: new Schema([new Field('score', new Float64())]),
});
const table = tableFromArrays({ a: new Float64Array([1, 2, 3]), b: new Float64Array([10, 20, 30]) });
const scored: Table<{ score: Float64 }> = await model.apply(table); // SchemaError if either side differs
console.log(scored.getChild('score')?.toArray());
