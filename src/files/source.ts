// What every reader returns: record batches read lazily, and how far through its input it is.
import type { RecordBatch, Schema } from 'apache-arrow';

export interface TableSource {
  /** The batches, read one at a time as they are pulled: memory holds only what is in flight. */
  readonly batches: AsyncIterable<RecordBatch>;
  /** Rows in the whole input when its metadata says so (Parquet), else undefined. */
  readonly totalRows: number | undefined;
  /** Share of the input consumed so far (0 to 1), or undefined when its size is unknown (a pipe). */
  progress(): number | undefined;
}

/** Options every reader takes. */
export interface ReadOptions {
  /** Rows per batch for formats that choose their own batching (Parquet, CSV). */
  readonly batchSize: number;
  /** Declared input schema: CSV columns it names take its types instead of inferred ones. */
  readonly schema?: Schema;
}
