// Splitting input into batches: row and byte bounds, zero-copy slices, input batch boundaries.
import { Table, tableFromArrays } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { splitIntoBatches } from '../src/udf/batches.js';

const table = (n: number) => tableFromArrays({ x: Float64Array.from({ length: n }, (_, i) => i) });

describe('splitIntoBatches', () => {
  it('bounds pieces by batchSize rows and keeps every row in order', () => {
    const pieces = splitIntoBatches(table(10), 4, 1 << 30);
    expect(pieces.map((p) => p.numRows)).toEqual([4, 4, 2]);
    expect(pieces.flatMap((p) => Array.from(p.getChild('x')!.toArray()))).toEqual(Array.from(table(10).getChild('x')!.toArray()));
  });

  it('bounds pieces by maxBatchBytes', () => {
    // 8 bytes per Float64 row: 80 bytes allow 10 rows.
    expect(splitIntoBatches(table(25), 1000, 80).map((p) => p.numRows)).toEqual([10, 10, 5]);
  });

  it('slices without copying', () => {
    const input = table(8);
    const [, second] = splitIntoBatches(input, 4, 1 << 30);
    expect(second!.getChild('x')!.data[0]!.values.buffer).toBe(input.getChild('x')!.data[0]!.values.buffer);
  });

  it('slices large input batches and groups runs of small ones, keeping row order', () => {
    const input = new Table([...table(3).batches, ...table(5).batches, ...table(1).batches, ...table(1).batches, ...table(2).batches]);
    const pieces = splitIntoBatches(input, 4, 1 << 30);
    expect(pieces.map((p) => p.batches.map((b) => b.numRows))).toEqual([[3], [4], [1], [1, 1, 2]]);
    expect(pieces.flatMap((p) => Array.from(p.getChild('x')!.toArray()))).toEqual([0, 1, 2, 0, 1, 2, 3, 4, 0, 0, 0, 1]);
  });

  it('groups a thousand one-row batches into a few pieces', () => {
    const input = new Table(Array.from({ length: 1000 }, () => table(1).batches[0]!));
    expect(splitIntoBatches(input, 256, 1 << 30).map((p) => p.numRows)).toEqual([256, 256, 256, 232]);
  });

  it('turns a zero-row table into one zero-row piece with its schema', () => {
    const pieces = splitIntoBatches(new Table(table(1).schema), 4, 1 << 30);
    expect(pieces).toHaveLength(1);
    expect(pieces[0]!.numRows).toBe(0);
    expect(pieces[0]!.schema.fields.map((f) => f.name)).toEqual(['x']);
  });
});
