// Concatenates small tables of one schema into one record batch, so coalesced calls cost one IPC
// record batch instead of one per caller (apache-arrow JS spends ~60 µs per batch it writes).
import { type Data, DataType, type FixedSizeList, makeData, makeVector, Table, vectorFromArray, type Vector } from 'apache-arrow';

/** One single-batch table holding every row of `tables` (same schema), in order. */
export function concatTables(tables: readonly Table[]): Table {
  if (tables.length === 1 && tables[0]!.batches.length === 1) return tables[0]!;
  const schema = tables[0]!.schema;
  const columns: Record<string, Vector> = {};
  schema.fields.forEach((field, c) => {
    const chunks = tables.flatMap((table) => table.getChildAt(c)?.data ?? []);
    const merged = concatData(field.type, chunks);
    columns[field.name] = merged
      ? makeVector(merged)
      // Other types are rebuilt value by value: slower, but correct for every type the builders know.
      : vectorFromArray(tables.flatMap((table) => [...(table.getChildAt(c) ?? [])]), field.type);
  });
  return new Table(columns);
}

/** Buffer-level concatenation of fixed-width columns and fixed-size lists of them; undefined otherwise. */
function concatData(type: DataType, chunks: readonly Data[]): Data | undefined {
  const length = chunks.reduce((n, d) => n + d.length, 0);
  const nullCount = chunks.reduce((n, d) => n + d.nullCount, 0);
  const nullBitmap = nullCount > 0 ? validity(chunks, length) : undefined;
  if (DataType.isFixedSizeList(type)) {
    const child = concatData((type as FixedSizeList).children[0]!.type, chunks.map((d) => d.children[0]!));
    return child && makeData({ type: type as FixedSizeList, length, nullCount, nullBitmap, child });
  }
  if (!isFixedWidth(type)) return undefined;
  const first = chunks[0]!.values as ArrayLike<number> & { constructor: new (n: number) => Uint8Array };
  const stride = chunks[0]!.stride;
  const values = new first.constructor(length * stride);
  let at = 0;
  for (const chunk of chunks) {
    // A sliced Data's `values` already start at its first row; only the bitmap keeps the offset.
    values.set((chunk.values as Uint8Array).subarray(0, chunk.length * stride), at);
    at += chunk.length * stride;
  }
  return makeData({ type, length, nullCount, nullBitmap, data: values } as never) as Data;
}

function isFixedWidth(type: DataType): boolean {
  return DataType.isInt(type) || DataType.isFloat(type) || DataType.isDate(type) || DataType.isTimestamp(type)
    || DataType.isTime(type) || DataType.isDuration(type);
}

function validity(chunks: readonly Data[], length: number): Uint8Array {
  const bitmap = new Uint8Array(Math.ceil(length / 8));
  let row = 0;
  for (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++, row++) {
      if (chunk.getValid(i)) bitmap[row >> 3]! |= 1 << (row & 7);
    }
  }
  return bitmap;
}
