// Column types for CSV text: inferred from the first batch, then every later batch is cast to them.
import {
  Bool, DataType, Float64, Int64, makeData, makeVector, Precision, type Schema, type Vector, Utf8, vectorFromArray,
} from 'apache-arrow';
import { InvalidInputError } from '../errors.js';

/** The types CSV inference produces; an empty cell is null in every one of them. */
export type CsvKind = 'bool' | 'int64' | 'float64' | 'utf8';

const INT = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|infinity|nan)$/i;
const BOOL = /^(true|false)$/i;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** The narrowest kind every non-empty value fits: bool, then int64, then float64, else utf8. */
export function inferKind(values: readonly string[]): CsvKind {
  let bool = true;
  let int = true;
  let float = true;
  let any = false;
  for (const value of values) {
    if (value === '') continue;
    any = true;
    bool &&= BOOL.test(value);
    int &&= INT.test(value) && fitsInt64(value);
    float &&= FLOAT.test(value);
    if (!bool && !float) return 'utf8';
  }
  // A column with no values yet says nothing about its type: text accepts anything that follows.
  if (!any) return 'utf8';
  return bool ? 'bool' : int ? 'int64' : float ? 'float64' : 'utf8';
}

export function arrowType(kind: CsvKind): DataType {
  switch (kind) {
    case 'bool': return new Bool();
    case 'int64': return new Int64();
    case 'float64': return new Float64();
    case 'utf8': return new Utf8();
  }
}

/** The kind a declared input field asks for, when CSV can produce its type directly. */
export function declaredKind(schema: Schema | undefined, name: string): CsvKind | undefined {
  const type = schema?.fields.find((f) => f.name === name)?.type;
  if (!type) return undefined;
  if (DataType.isBool(type)) return 'bool';
  if (DataType.isInt(type) && type.bitWidth === 64 && type.isSigned) return 'int64';
  if (DataType.isFloat(type) && type.precision === Precision.DOUBLE) return 'float64';
  if (DataType.isUtf8(type)) return 'utf8';
  return undefined;
}

/** Where a column's values sit in the file, for errors that point at the row to fix. */
export interface ColumnSite {
  readonly name: string;
  /** 1-based number of the data row (the header not counted) holding the first value in `values`. */
  readonly firstRow: number;
  readonly inferredFromRows: number;
}

/** Builds one column of `kind`; a value that does not fit the kind fails with the line to look at. */
export function buildColumn(kind: CsvKind, values: readonly string[], site: ColumnSite): Vector {
  switch (kind) {
    case 'utf8': return utf8(values);
    case 'bool': return vectorFromArray(values.map((v, i) => (v === '' ? null : parseBool(v, site, i))), new Bool());
    case 'float64': return numeric(new Float64(), new Float64Array(values.length), values, (v, i) => parseFloat64(v, site, i));
    case 'int64': return numeric(new Int64(), new BigInt64Array(values.length), values, (v, i) => parseInt64(v, site, i));
  }
}

function numeric<T extends Float64 | Int64>(
  type: T, data: T['TArray'], values: readonly string[], parse: (value: string, index: number) => number | bigint,
): Vector {
  // Built directly (values plus a validity bitmap): vectorFromArray's builders are several times slower here.
  const validity = new Uint8Array(Math.ceil(values.length / 8));
  let nullCount = 0;
  values.forEach((value, i) => {
    if (value === '') {
      nullCount++;
      return;
    }
    (data as unknown as (number | bigint)[])[i] = parse(value, i);
    validity[i >> 3]! |= 1 << (i & 7);
  });
  return makeVector(makeData({ type, length: values.length, nullCount, nullBitmap: nullCount ? validity : null, data } as never));
}

/** A Utf8 column written straight into one data buffer plus offsets: the generic builder is slower. */
function utf8(values: readonly string[]): Vector {
  let bytes = 0;
  for (const value of values) bytes += Buffer.byteLength(value);
  const data = Buffer.allocUnsafe(bytes);
  const valueOffsets = new Int32Array(values.length + 1);
  const validity = new Uint8Array(Math.ceil(values.length / 8));
  let nullCount = 0;
  let position = 0;
  values.forEach((value, i) => {
    if (value === '') nullCount++;
    else {
      position += data.write(value, position);
      validity[i >> 3]! |= 1 << (i & 7);
    }
    valueOffsets[i + 1] = position;
  });
  const nullBitmap = nullCount ? validity : null;
  return makeVector(makeData({ type: new Utf8(), length: values.length, nullCount, nullBitmap, valueOffsets, data }));
}

function parseBool(value: string, site: ColumnSite, index: number): boolean {
  if (!BOOL.test(value)) throw misfit(site, index, value, 'bool (true/false)');
  return value.toLowerCase() === 'true';
}

function parseFloat64(value: string, site: ColumnSite, index: number): number {
  if (!FLOAT.test(value)) throw misfit(site, index, value, 'float64');
  const lower = value.toLowerCase().replace(/^\+/, '');
  if (lower.endsWith('nan')) return Number.NaN;
  if (lower.endsWith('inf') || lower.endsWith('infinity')) return lower.startsWith('-') ? -Infinity : Infinity;
  return Number(value);
}

function parseInt64(value: string, site: ColumnSite, index: number): bigint {
  if (!INT.test(value) || !fitsInt64(value)) throw misfit(site, index, value, 'int64');
  return BigInt(value);
}

function fitsInt64(value: string): boolean {
  // Up to 18 digits always fits; only longer ones need the exact check.
  if (value.replace(/^[+-]/, '').length <= 18) return true;
  const n = BigInt(value);
  return n >= INT64_MIN && n <= INT64_MAX;
}

function misfit(site: ColumnSite, index: number, value: string, kind: string): InvalidInputError {
  return new InvalidInputError(
    `CSV data row ${site.firstRow + index} (header not counted): column "${site.name}" has ${JSON.stringify(value)}, but it was inferred as ${kind} ` +
    `from the first ${site.inferredFromRows} rows. Raise --batch-size so that inference sees this row, or fix the value.`,
  );
}
