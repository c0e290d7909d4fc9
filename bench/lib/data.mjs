// The benchmark data (10 float64 columns), checksums that prove an answer is complete, and files.
import { writeFile } from 'node:fs/promises';
import { DataType, tableFromArrays, tableToIPC } from 'apache-arrow';

export const IDENTITY_COLUMNS = 10;
export const columnNames = Array.from({ length: IDENTITY_COLUMNS }, (_, c) => `c${c}`);

/**
 * Row i of column c. Every value is an odd multiple of 2^-11 below 1000, so no value is a whole
 * number (JSON cannot turn it into an int) and sums of up to ~10^8 values are exact in any order.
 */
export const cell = (i, c) => (((i * 7919 + c * 104729) % 1000003) + 0.5) / 1024;

export function identityColumns(rows) {
  const columns = {};
  columnNames.forEach((name, c) => {
    const values = new Float64Array(rows);
    for (let i = 0; i < rows; i++) values[i] = cell(i, c);
    columns[name] = values;
  });
  return columns;
}

export const identityTable = (rows) => tableFromArrays(identityColumns(rows));

export function expectedChecksum(rows) {
  let sum = 0;
  for (let c = 0; c < IDENTITY_COLUMNS; c++) for (let i = 0; i < rows; i++) sum += cell(i, c);
  return sum;
}

/** Sum of every numeric value of an Arrow table (fixed-size list columns flattened). */
export function tableChecksum(table) {
  let sum = 0;
  const add = (data) => {
    // apache-arrow slices a sliced column's value buffer (and a fixed-size list's child) itself.
    if (DataType.isFixedSizeList(data.type)) return add(data.children[0]);
    if (!ArrayBuffer.isView(data.values)) return undefined;
    for (let i = 0; i < data.length; i++) sum += Number(data.values[i]);
    return undefined;
  };
  for (const batch of table.batches) for (const column of batch.data.children) add(column);
  return sum;
}


/** The columns as plain arrays (what a JSON bridge is handed), built once outside the timing. */
export const plainColumns = (columns) => Object.fromEntries(Object.entries(columns).map(([k, v]) => [k, Array.from(v)]));

/** An Open Inference Protocol JSON request with one FP64 tensor per column. */
export function oipRequest(plain) {
  return JSON.stringify({
    inputs: Object.entries(plain).map(([name, data]) => ({ name, datatype: 'FP64', shape: [data.length], data })),
  });
}

/** Rows and checksum of an Open Inference Protocol JSON answer. */
export function oipChecksum(answer) {
  const outputs = answer.outputs;
  return { rows: outputs[0]?.shape[0] ?? 0, checksum: outputs.reduce((s, o) => s + o.data.reduce((a, b) => a + b, 0), 0) };
}

export const writeArrowStream = (file, table) => writeFile(file, tableToIPC(table, 'stream'));
