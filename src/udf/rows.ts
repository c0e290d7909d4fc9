// Plain row objects ↔ Arrow: building a table from rows (by declared schema or inference) and back.
import {
  Binary, Bool, type DataType, type Decimal, type Dictionary, Field, type FixedSizeList, type Interval, type Map_, Float64, Int64, type LargeList, List, type Schema, Struct, Table, TimestampMillisecond,
  type TypeMap, Utf8, type Vector, vectorFromArray,
} from 'apache-arrow';
import { InvalidInputError } from '../errors.js';

/** A row as plain JavaScript: column name → value. */
export type Row = Readonly<Record<string, unknown>>;

/** A value of Arrow type `T` as a row holds it: lists as arrays, structs as objects, leaves as apache-arrow gives them. */
export type PlainValue<T extends DataType> =
  T extends Struct<infer M> ? { [K in keyof M]: PlainValue<M[K]> | null }
    : T extends List<infer C> | FixedSizeList<infer C> | LargeList<infer C> ? (PlainValue<C> | null)[]
      : T extends Map_<DataType, infer V> ? Record<string, PlainValue<V> | null>
        : T extends Dictionary<infer V> ? PlainValue<V>
          // Their values are typed arrays, which rows hold as plain arrays.
          : T extends Decimal | Interval ? number[]
            : T['TValue'];

/**
 * A row of a table of columns `T`, as `call()` takes and returns it: each declared column by its type,
 * or any columns when none are declared.
 */
export type RowOf<T extends TypeMap> = string extends keyof T ? Record<string, unknown> : { [K in keyof T]: PlainValue<T[K]> | null };

/**
 * Builds one record batch from row objects. With a declared schema its types are used; otherwise each
 * column's type is inferred from its first non-null value (number → Float64, bigint → Int64,
 * string → Utf8, boolean → Bool, Date → Timestamp[ms], Uint8Array → Binary, arrays → List, objects → Struct).
 */
export function rowsToTable(rows: readonly Row[], schema?: Schema): Table {
  if (rows.length === 0) throw new InvalidInputError('no rows given: pass at least one row object');
  rows.forEach((row, i) => {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      throw new InvalidInputError(`row ${i} is ${Array.isArray(row) ? 'an array' : String(row)}; rows must be plain objects of column → value`);
    }
  });
  const fields = schema?.fields ?? inferFields(rows);
  const columns: Record<string, Vector> = {};
  for (const field of fields) {
    const values = rows.map((row) => row[field.name] ?? null);
    try {
      columns[field.name] = vectorFromArray(values, field.type);
    } catch (cause) {
      throw new InvalidInputError(`column "${field.name}" cannot be built as ${String(field.type)}: ${String(cause)}`);
    }
  }
  return new Table(columns);
}

function inferFields(rows: readonly Row[]): Field[] {
  const names = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  return names.map((name) => {
    const sample = rows.find((row) => row[name] !== null && row[name] !== undefined)?.[name];
    return new Field(name, inferType(sample, name), true);
  });
}

function inferType(value: unknown, name: string): DataType {
  switch (typeof value) {
    case 'number': return new Float64();
    case 'bigint': return new Int64();
    case 'string': return new Utf8();
    case 'boolean': return new Bool();
    case 'undefined': return new Utf8(); // all null: any nullable type will do
    default: break;
  }
  if (value === null) return new Utf8();
  if (value instanceof Date) return new TimestampMillisecond();
  if (value instanceof Uint8Array) return new Binary();
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    const items = Array.from(value as ArrayLike<unknown>);
    const sample = items.find((item) => item !== null && item !== undefined);
    return new List(new Field('item', inferType(sample, `${name}[]`), true));
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return new Struct(entries.map(([key, item]) => new Field(key, inferType(item, `${name}.${key}`), true)));
  }
  throw new InvalidInputError(`column "${name}" holds a ${typeof value}, which has no Arrow type; declare an input schema`);
}

/** Row `index` of a table as a plain object; nested lists become arrays and structs objects. */
export function rowToObject(table: Table, index: number): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  table.schema.fields.forEach((field, i) => {
    row[field.name] = toPlain(table.getChildAt(i)?.get(index));
  });
  return row;
}

function toPlain(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date || value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>);
  if (isVector(value)) return Array.from(value, toPlain);
  const json = (value as { toJSON?: () => unknown }).toJSON?.();
  if (json && typeof json === 'object') {
    return Object.fromEntries(Object.entries(json).map(([k, v]) => [k, toPlain(v)]));
  }
  return value;
}

function isVector(value: object): value is Vector {
  return typeof (value as Vector).toArray === 'function' && typeof (value as Vector).get === 'function'
    && Symbol.iterator in value;
}
