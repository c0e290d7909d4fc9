// What the server needs of a registered UDF (a `Udf` has it all): the seam between serving and the pool.
import type { Schema, Table } from 'apache-arrow';
import type { BatchEvent } from '../udf/udf.js';

/** What the server needs of a registered UDF; `Udf` has it all. */
export interface ServableUdf {
  readonly name: string;
  readonly inputSchema?: Schema | undefined;
  readonly outputSchema?: Schema | undefined;
  /** True while at least one worker has the UDF initialised. */
  readonly ready: boolean;
  /** Runs a table through the UDF, sharing batches with concurrent calls. */
  callTable(table: Table, options?: { signal?: AbortSignal }): Promise<Table>;
  observe(listener: (event: BatchEvent) => void): () => void;
  close(): Promise<void>;
}
