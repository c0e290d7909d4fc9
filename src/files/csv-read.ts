// Reads CSV (a header row, then data) through csv-parse, streaming, into typed batches of N rows.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { RecordBatch, type Schema, Table, type Vector } from 'apache-arrow';
import { parse } from 'csv-parse';
import { InvalidInputError } from '../errors.js';
import { type CsvKind, buildColumn, declaredKind, inferKind } from './csv-columns.js';
import { STDIO } from './format.js';
import type { ReadOptions, TableSource } from './source.js';

export async function readCsv(file: string, options: ReadOptions): Promise<TableSource> {
  const size = file === STDIO ? undefined : (await stat(file)).size;
  const input = file === STDIO ? process.stdin : createReadStream(file, { highWaterMark: 1 << 20 });
  const bytesRead = (): number => ('bytesRead' in input ? input.bytesRead : 0);
  return {
    totalRows: undefined,
    progress: () => (size === undefined ? undefined : size ? bytesRead() / size : 1),
    batches: batches(input.pipe(parse({ bom: true, skip_empty_lines: true })), options.batchSize, file, options.schema),
  };
}

async function* batches(records: AsyncIterable<string[]>, batchSize: number, file: string, declared: Schema | undefined): AsyncGenerator<RecordBatch> {
  let header: string[] | undefined;
  let kinds: CsvKind[] | undefined;
  let rows: string[][] = [];
  let firstRow = 1;
  let inferredFrom = 0;
  const flush = (): RecordBatch => {
    if (!kinds) {
      kinds = header!.map((name, c) => declaredKind(declared, name) ?? inferKind(rows.map((row) => row[c]!)));
      inferredFrom = rows.length;
    }
    const columns: Record<string, Vector> = {};
    header!.forEach((name, c) => {
      const site = { name, firstRow, inferredFromRows: inferredFrom };
      columns[name] = buildColumn(kinds![c]!, rows.map((row) => row[c]!), site);
    });
    firstRow += rows.length;
    rows = [];
    return new Table(columns).batches[0]!;
  };
  try {
    for await (const record of records) {
      if (!header) {
        header = checkedHeader(record, file);
        continue;
      }
      rows.push(record);
      if (rows.length >= batchSize) yield flush();
    }
  } catch (error) {
    if (error instanceof InvalidInputError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidInputError(`cannot read ${file} as CSV: ${reason}`, { cause: error });
  }
  if (!header) throw new InvalidInputError(`${file} is empty: a CSV input needs a header row naming its columns`);
  if (rows.length) yield flush();
}

function checkedHeader(record: string[], file: string): string[] {
  const seen = new Set<string>();
  record.forEach((name, i) => {
    if (name === '') throw new InvalidInputError(`${file}: column ${i + 1} of the header row has no name`);
    if (seen.has(name)) throw new InvalidInputError(`${file}: the header row names column "${name}" twice`);
    seen.add(name);
  });
  return record;
}
