// Type equality for declared schemas: dictionary ids ignored, every other parameter compared.
import {
  type DataType, Dictionary, Field, FixedSizeList, Float32, Float64, Int16, Int32, Int64, Schema, Struct, Table, TimestampMillisecond, Utf8,
  tableFromArrays, tableFromIPC, tableToIPC,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { SchemaError } from '../src/index.js';
import { checkSchema, sameType } from '../src/udf/schema-check.js';

const decoded = (schema: Schema) => tableFromIPC(tableToIPC(new Table(schema))).schema;

describe('sameType', () => {
  it('matches a declared type with the same type decoded from IPC', () => {
    expect(sameType(new Float64(), tableFromIPC(tableToIPC(tableFromArrays({ x: new Float64Array(1) }))).schema.fields[0]!.type)).toBe(true);
  });

  it('ignores dictionary ids but not dictionary value or index types', () => {
    const a = new Dictionary(new Utf8(), new Int32(), 1);
    expect(sameType(a, new Dictionary(new Utf8(), new Int32(), 7))).toBe(true);
    expect(sameType(a, new Dictionary(new Utf8(), new Int16(), 1))).toBe(false);
  });

  it('compares widths, time zones, list sizes and child names and types', () => {
    expect(sameType(new Int32(), new Int64())).toBe(false);
    expect(sameType(new TimestampMillisecond('UTC'), new TimestampMillisecond('Europe/Paris'))).toBe(false);
    const decodedTimestamp = decoded(new Schema([new Field('t', new TimestampMillisecond())])).fields[0]!.type;
    expect(sameType(new TimestampMillisecond(), decodedTimestamp)).toBe(true);
    const list = (n: number) => new FixedSizeList(n, new Field('item', new Float32()));
    expect(sameType(list(3), list(3))).toBe(true);
    expect(sameType(list(3), list(4))).toBe(false);
    const struct = (name: string, type: DataType = new Int32()) => new Struct([new Field(name, type)]);
    expect(sameType(struct('a'), struct('a'))).toBe(true);
    expect(sameType(struct('a'), struct('b'))).toBe(false);
    expect(sameType(struct('a'), struct('a', new Int64()))).toBe(false);
  });
});

describe('checkSchema', () => {
  const declared = new Schema([new Field('x', new Float64()), new Field('d', new Dictionary(new Utf8(), new Int32()))]);
  it('accepts the same schema after an IPC round trip', () => {
    expect(() => checkSchema(declared, decoded(declared), 'output', 'm')).not.toThrow();
  });
  it('names a missing, a mistyped and an undeclared column', () => {
    expect(() => checkSchema(declared, new Schema([declared.fields[0]!]), 'input', 'm')).toThrow(/input column "d" of UDF "m" is missing/);
    expect(() => checkSchema(declared, new Schema([new Field('x', new Int32()), declared.fields[1]!]), 'input', 'm'))
      .toThrow(SchemaError);
    expect(() => checkSchema(declared, new Schema([...declared.fields, new Field('extra', new Int32())]), 'output', 'm'))
      .toThrow(/output column "extra" .* is Int32, but the declared output schema says absent/);
  });
});
