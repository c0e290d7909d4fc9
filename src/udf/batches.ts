// Splits an input table into the record batches sent to workers, bounded by rows and by bytes.
import { type Data, DataType, makeData, RecordBatch, Struct, Table, util } from 'apache-arrow';

/**
 * Cuts a table into the pieces sent to workers, each at most `batchSize` rows and about
 * `maxBatchBytes`: large record batches are sliced (zero-copy), and runs of small ones are grouped
 * into one piece (the worker concatenates them), so many tiny batches do not cost one round trip each.
 * A table without rows yields one zero-row table, so the worker still reports the output schema.
 */
export function splitIntoBatches(table: Table, batchSize: number, maxBatchBytes: number): Table[] {
  if (table.numRows === 0) return [new Table(table.schema)];
  const pieces: Table[] = [];
  let group: RecordBatch[] = [];
  let groupRows = 0;
  let groupBytes = 0;
  const flush = (): void => {
    if (group.length) pieces.push(new Table(group));
    group = [];
    groupRows = 0;
    groupBytes = 0;
  };
  for (const batch of table.batches) {
    if (batch.numRows === 0) continue;
    const bytes = batch.data.byteLength;
    // apache-arrow JS writes a sliced view column (Utf8View, BinaryView) wrongly unless it is re-based;
    // views nested inside other types cannot be re-based, so such batches go whole.
    const unsliceable = hasNestedViews(batch.data);
    if (batch.numRows > batchSize || bytes > maxBatchBytes || unsliceable) {
      flush();
      const rowsPerPiece = unsliceable ? batch.numRows : rowsWithinBounds(batch, batchSize, maxBatchBytes);
      for (let start = 0; start < batch.numRows; start += rowsPerPiece) {
        const piece = batch.slice(start, Math.min(start + rowsPerPiece, batch.numRows));
        pieces.push(new Table(start === 0 ? piece : rebaseViews(piece)));
      }
      continue;
    }
    if (groupRows + batch.numRows > batchSize || groupBytes + bytes > maxBatchBytes) flush();
    group.push(batch);
    groupRows += batch.numRows;
    groupBytes += bytes;
  }
  flush();
  return pieces;
}

function rowsWithinBounds(batch: RecordBatch, batchSize: number, maxBatchBytes: number): number {
  // Arrow buffers are columnar, so the average row size is a good estimate; dictionaries are not counted.
  const bytesPerRow = batch.data.byteLength / batch.numRows;
  const byBytes = bytesPerRow > 0 ? Math.floor(maxBatchBytes / bytesPerRow) : batchSize;
  return Math.max(1, Math.min(batchSize, byBytes));
}

const isView = (type: DataType): boolean => DataType.isBinaryView(type) || DataType.isUtf8View(type);

function hasNestedViews(data: Data): boolean {
  const nested = (child: Data): boolean => child.children.some((c) => isView(c.type) || nested(c));
  return data.children.some(nested);
}

/** Rewrites top-level view columns of a slice so they start at offset 0 (same buffers, no copy). */
function rebaseViews(batch: RecordBatch): RecordBatch {
  const columns = batch.data.children;
  if (!columns.some((c) => isView(c.type) && c.offset > 0)) return batch;
  const rebased = columns.map((column) => {
    if (!isView(column.type) || column.offset === 0) return column;
    const { type, length, nullCount, values, variadicBuffers, nullBitmap } = column as Data<DataType>;
    return makeData({
      type, offset: 0, length, nullCount, views: values, variadicBuffers,
      nullBitmap: nullCount > 0 ? util.truncateBitmap(column.offset, length, nullBitmap) : undefined,
    } as Parameters<typeof makeData>[0]) as Data;
  });
  const struct = makeData({ type: new Struct(batch.schema.fields), length: batch.numRows, nullCount: 0, children: rebased });
  return new RecordBatch(batch.schema, struct);
}
