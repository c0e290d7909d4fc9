// A servable UDF that answers with its input, for tests of the HTTP layer's own checks (no Python involved).
import type { Table } from 'apache-arrow';
import type { ServableUdf } from '../../src/serve/options.js';

export class EchoUdf implements ServableUdf {
  readonly name = 'echo';
  readonly ready = true;
  async callTable(table: Table): Promise<Table> {
    return table;
  }
  observe(): () => void {
    return () => undefined;
  }
  async close(): Promise<void> {}
}
