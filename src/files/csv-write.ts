// Writes CSV with csv-stringify: a header row, then one line per row; null is an empty field.
import { DataType, type RecordBatch, type Vector } from 'apache-arrow';
import { stringify } from 'csv-stringify/sync';
import type { ByteSink } from './sink.js';

/** Text of one value, as the CSV reader reads it back for bool, int, float and string columns. */
type Format = (value: unknown) => string;

function formatterFor(type: DataType): Format {
  if (DataType.isDate(type) || DataType.isTimestamp(type)) {
    // apache-arrow returns both as epoch milliseconds.
    return (value) => new Date(value as number).toISOString();
  }
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return (value) => value as string;
  if (DataType.isInt(type) || DataType.isFloat(type) || DataType.isBool(type)) return (value) => String(value);
  // Nested, binary and decimal values have no CSV form of their own: write them as JSON text.
  return (value) => JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

export async function writeCsv(batches: AsyncIterable<RecordBatch>, sink: ByteSink): Promise<void> {
  let header: string | undefined;
  for await (const batch of batches) {
    if (header === undefined) {
      header = stringify([batch.schema.fields.map((f) => f.name)]);
      await sink.write(header);
    }
    await sink.write(batchText(batch));
  }
}

function batchText(batch: RecordBatch): string {
  const columns: { vector: Vector; format: Format }[] = batch.schema.fields.map((field, i) => ({
    vector: batch.getChildAt(i)!,
    format: formatterFor(field.type),
  }));
  const rows: string[][] = new Array<string[]>(batch.numRows);
  for (let row = 0; row < batch.numRows; row++) {
    rows[row] = columns.map(({ vector, format }) => {
      const value: unknown = vector.get(row);
      return value === null || value === undefined ? '' : format(value);
    });
  }
  return stringify(rows);
}
