// Tensor columns from typed arrays and shapes, read back with their shape, and through a worker both ways without reshapes.
import { Field, FixedSizeList, Float16, makeData, makeVector, tableFromArrays, Table, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, tensorColumn, tensorOf, type TensorValues } from '../src/index.js';
import { startPool } from './helpers.js';

const list = (values: TensorValues): (number | bigint)[] => Array.from(values as ArrayLike<number | bigint>);

describe('tensorColumn / tensorOf', () => {
  it('builds N rows of a (3, 2) tensor over the given values, and reads them back without a copy', () => {
    const values = Float32Array.from({ length: 24 }, (_, i) => i);
    const column = tensorColumn(values, [4, 3, 2]);
    expect(column.length).toBe(4);
    expect(String(column.type)).toBe('FixedSizeList[3]<FixedSizeList[2]<Float32>>');
    expect(column.get(1)!.get(2)!.toArray()).toEqual(Float32Array.of(10, 11));
    const back = tensorOf(column);
    expect(back.shape).toEqual([4, 3, 2]);
    expect(back.values).toEqual(values);
    expect(back.values.buffer).toBe(values.buffer);
  });

  it('reads a sliced column and a column of several chunks as their own rows', () => {
    const values = BigInt64Array.from({ length: 20 }, (_, i) => BigInt(i));
    const sliced = tensorOf(tensorColumn(values, [10, 2]).slice(3, 7));
    expect(sliced.shape).toEqual([4, 2]);
    expect(list(sliced.values)).toEqual([6n, 7n, 8n, 9n, 10n, 11n, 12n, 13n]);
    const chunked = tensorColumn(values.subarray(0, 4), [2, 2]).concat(tensorColumn(values.subarray(4, 8), [2, 2]));
    expect(list(tensorOf(chunked).values)).toEqual([0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n]);
  });

  it('rejects a shape that does not match the values, and columns that are not tensors', () => {
    expect(() => tensorColumn(new Float64Array(5), [2, 3])).toThrow(new InvalidInputError('shape [2, 3] holds 6 values, but 5 were given'));
    expect(() => tensorColumn(new Float64Array(6), [2, -3])).toThrow(InvalidInputError);
    expect(() => tensorOf(vectorFromArray([1, 2, 3]))).toThrow(/expected a tensor column \(nested FixedSizeList\), got Float64/);
    // Float16 values would come back as raw bits (1.0 as 15360).
    const halves = makeVector(makeData({ type: new FixedSizeList(2, new Field('item', new Float16(), false)), length: 1, nullCount: 0,
      child: makeData({ type: new Float16(), length: 2, nullCount: 0, data: Uint16Array.of(15360, 15360) }) }));
    expect(() => tensorOf(halves)).toThrow(/must be 8- to 64-bit integers or 32- or 64-bit floats, got Float16/);
  });
});

describe('tensors through a worker', () => {
  it('sends an (N, 3, 2) tensor that pyudf.tensors reads as numpy, and takes back a 2-D numpy result', async () => {
    const pool = await startPool({ workers: 1 });
    const udf = await pool.register({
      code: [
        'import numpy as np',
        'from pyudf import tensors',
        'def apply(state, batch):',
        '    x = tensors.to_numpy(batch.column("x"))',
        '    assert x.shape == (batch.num_rows, 3, 2), x.shape',
        '    return {"sums": x.sum(axis=2), "ids": np.arange(len(x))}',
      ].join('\n'),
    });
    const values = Float64Array.from({ length: 5 * 6 }, (_, i) => i);
    const out = await udf.apply(new Table({ x: tensorColumn(values, [5, 3, 2]) }));
    const sums = tensorOf(out.getChild('sums')!);
    expect(sums.shape).toEqual([5, 3]);
    expect(list(sums.values)).toEqual(Array.from({ length: 15 }, (_, i) => 4 * i + 1));
    expect(tableFromArrays({ ids: out.getChild('ids')!.toArray() as BigInt64Array }).numRows).toBe(5);
  });
});
