// Concatenating small tables for coalesced calls: one record batch, every value and null in order.
import { Field, FixedSizeList, Float32, Int64, makeData, makeVector, Table, tableFromArrays, vectorFromArray, Utf8 } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { concatTables } from '../src/udf/concat.js';

const pixels = (rows: number[][]) => {
  const type = new FixedSizeList(2, new Field('item', new Float32(), true));
  const child = makeData({ type: new Float32(), length: rows.length * 2, data: Float32Array.from(rows.flat()) });
  return makeVector(makeData({ type, length: rows.length, nullCount: 0, child }));
};

describe('concatTables', () => {
  it('joins fixed-width, nullable, sliced, fixed-size-list and string columns into one batch', () => {
    const make = (ids: (bigint | null)[], names: (string | null)[], px: number[][]) => new Table({
      id: vectorFromArray(ids, new Int64()), name: vectorFromArray(names, new Utf8()), px: pixels(px),
    });
    const a = make([1n, null], ['a', null], [[1, 2], [3, 4]]);
    const b = make([3n, 4n, 5n], ['c', 'd', 'e'], [[5, 6], [7, 8], [9, 10]]).slice(1, 3);
    const out = concatTables([a, b]);
    expect(out.batches).toHaveLength(1);
    expect([...out.getChild('id')!]).toEqual([1n, null, 4n, 5n]);
    expect([...out.getChild('name')!]).toEqual(['a', null, 'd', 'e']);
    expect([...out.getChild('px')!].map((v) => [...v!])).toEqual([[1, 2], [3, 4], [7, 8], [9, 10]]);
  });

  it('returns a single-batch table unchanged', () => {
    const t = tableFromArrays({ x: new Float64Array([1]) });
    expect(concatTables([t])).toBe(t);
  });
});
