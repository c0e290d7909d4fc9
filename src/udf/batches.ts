// Splits an input table into the record batches sent to workers, bounded by rows and by bytes.
import { RecordBatch, Table } from 'apache-arrow';

/**
 * Slices (zero-copy) each input record batch into pieces of at most `batchSize` rows whose estimated
 * size stays under `maxBatchBytes`. Pieces never span two input batches, so each is one RecordBatch.
 * A table without rows yields one zero-row table, so the worker still reports the output schema.
 */
export function splitIntoBatches(table: Table, batchSize: number, maxBatchBytes: number): Table[] {
  if (table.numRows === 0) return [new Table(table.schema)];
  const pieces: Table[] = [];
  for (const batch of table.batches) {
    if (batch.numRows === 0) continue;
    const rowsPerPiece = rowsWithinBounds(batch, batchSize, maxBatchBytes);
    for (let start = 0; start < batch.numRows; start += rowsPerPiece) {
      pieces.push(new Table(batch.slice(start, Math.min(start + rowsPerPiece, batch.numRows))));
    }
  }
  return pieces;
}

function rowsWithinBounds(batch: RecordBatch, batchSize: number, maxBatchBytes: number): number {
  // Arrow buffers are columnar, so the average row size is a good estimate; dictionaries are not counted.
  const bytesPerRow = batch.data.byteLength / batch.numRows;
  const byBytes = bytesPerRow > 0 ? Math.floor(maxBatchBytes / bytesPerRow) : batchSize;
  return Math.max(1, Math.min(batchSize, byBytes));
}
