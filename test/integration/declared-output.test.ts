// A declared output is met where the difference is lossless (the worker casts), and explains the fix where it is not.
import { Field, Int64, Schema, tableFromArrays, Utf8, Float64, vectorFromArray, Dictionary, Int32, Table } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { SchemaError } from '../../src/index.js';
import { startPool } from '../helpers.js';

const OUTPUT = new Schema([
  new Field('n', new Int64(), true), new Field('s', new Utf8(), true), new Field('d', new Utf8(), true), new Field('f', new Float64(), true),
]);

// int32 for int64, large_string (what pandas 3 returns) for string, a dictionary for its string values, float32 for float64.
const LOSSLESS = `
import pyarrow as pa
def apply(state, batch):
    n = batch.num_rows
    return {
        "n": pa.array(range(n), pa.int32()),
        "s": pa.array([str(i) for i in range(n)], pa.large_string()),
        "d": pa.array(["a", "b"] * (n // 2) + ["a"] * (n % 2)).dictionary_encode(),
        "f": pa.array([0.5] * n, pa.float32()),
    }
`;

describe('declared output', () => {
  it('casts result columns that differ only losslessly to the declared types, in the worker', async () => {
    const pool = await startPool({ workers: 1 });
    const udf = await pool.register({ code: LOSSLESS, output: OUTPUT });
    const out = await udf.apply(tableFromArrays({ x: Float64Array.from({ length: 5 }, (_, i) => i) }));
    expect(out.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual(['n:Int64', 's:Utf8', 'd:Utf8', 'f:Float64']);
    expect(Array.from(out.getChild('n')!.toArray() as BigInt64Array)).toEqual([0n, 1n, 2n, 3n, 4n]);
    expect(out.getChild('s')!.toArray()).toEqual(['0', '1', '2', '3', '4']);
    expect(out.getChild('d')!.toArray()).toEqual(['a', 'b', 'a', 'b', 'a']);
  });

  it('keeps a lossy difference a SchemaError that says how to fix it', async () => {
    const pool = await startPool({ workers: 1 });
    const code = 'import pyarrow as pa\ndef apply(state, batch):\n    return {"n": pa.array([1.5] * batch.num_rows)}\n';
    const udf = await pool.register({ code, output: new Schema([new Field('n', new Int64(), true)]) });
    const error = await udf.apply(tableFromArrays({ x: Float64Array.of(1) })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaError);
    expect((error as Error).message).toBe('output column "n" of UDF "udf' + (error as SchemaError).udf.slice(3)
      + '" is Float64, but the declared output schema says Int64: return it as Int64 from apply (pyudf casts only lossless'
      + ' differences, such as int32 to int64; in pyarrow: column.cast(...)), or declare it as Float64');
  });

  it('takes a dictionary column for a declared Utf8 input (the worker decodes it), and says how to fix it when dictionaries are kept', async () => {
    const pool = await startPool({ workers: 1 });
    const input = new Schema([new Field('s', new Utf8(), true)]);
    const code = 'import pyarrow as pa\ndef apply(state, batch):\n    return {"t": pa.array([str(batch.column("s").type)] * batch.num_rows)}\n';
    const dictionary = vectorFromArray(['a', 'b', 'a'], new Dictionary(new Utf8(), new Int32()));
    const decoded = await pool.register({ code, input });
    expect((await decoded.apply(new Table({ s: dictionary }))).getChild('t')!.toArray()).toEqual(['string', 'string', 'string']);
    const kept = await pool.register({ code, input, keepDictionaries: true });
    const error = await kept.apply(new Table({ s: dictionary })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaError);
    expect((error as Error).message).toMatch(/input column "s" .* is Dictionary<Int32, Utf8>, but the declared input schema says Utf8: leave keepDictionaries off/);
  });

  it('gives apply plain string columns for what tableFromArrays encodes as dictionaries, unless asked to keep them', async () => {
    const pool = await startPool({ workers: 1 });
    const code = 'import pyarrow.compute as pc\ndef apply(state, batch):\n    s = batch.column("s")\n'
      + '    plain = s.dictionary_decode() if hasattr(s, "dictionary") else s\n'
      + '    return {"upper": pc.utf8_upper(plain), "type": [str(s.type)] * len(s)}\n';
    const table = tableFromArrays({ s: ['a', 'b', 'a'] });
    expect(String(table.schema.fields[0]!.type)).toMatch(/^Dictionary/);
    const plain = await (await pool.register({ code })).apply(table);
    expect(plain.getChild('upper')!.toArray()).toEqual(['A', 'B', 'A']);
    expect(plain.getChild('type')!.get(0)).toBe('string');
    const kept = await (await pool.register({ code, keepDictionaries: true })).apply(table);
    expect(kept.getChild('type')!.get(0)).toBe('dictionary<values=string, indices=int32, ordered=0>');
  });
});
