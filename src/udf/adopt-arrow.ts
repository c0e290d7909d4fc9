// Tables made by another copy of apache-arrow (its CommonJS build, from require()) rebuilt over the same memory with ours.
import {
  Binary, Bool, Data, type DataType, Date_, Decimal, Dictionary, Duration, Field, FixedSizeBinary, FixedSizeList, Float, Int, Interval,
  LargeBinary, LargeList, LargeUtf8, List, Map_, Null, RecordBatch, Schema, Struct, Table, Time, Timestamp, Type, DataType as Types, Union,
  Utf8, Vector,
} from 'apache-arrow';
import { InvalidInputError } from '../errors.js';

/**
 * `table` itself when its types are this module's apache-arrow classes; otherwise the same columns, without
 * copying, as this copy's classes. apache-arrow's Table, Schema and Data pass `instanceof` across copies,
 * but its DataType does not, and its encoders visit types by class: a table from `require('apache-arrow')`
 * in a CommonJS program (pyudf loads the ES module build) would otherwise be written wrongly.
 */
export function adoptTable<T extends Table>(table: T): T {
  if (table.schema.fields.every((field) => field.type instanceof Types)) return table;
  const schema = adoptSchema(table.schema);
  const batches = table.batches.map((batch) => new RecordBatch(schema, adoptData(batch.data) as Data<Struct>));
  return new Table(schema, batches) as T;
}

/** `schema` itself when its types are this module's classes; otherwise the same schema with them (see adoptTable). */
export function adoptSchema<T extends Schema>(schema: T): T {
  if (schema.fields.every((field) => field.type instanceof Types)) return schema;
  return new Schema(schema.fields.map(adoptField), schema.metadata) as T;
}

function adoptField(field: Field): Field {
  return new Field(field.name, adoptType(field.type), field.nullable, field.metadata);
}

function adoptData(data: Data): Data {
  const dictionary = data.dictionary ? new Vector(data.dictionary.data.map(adoptData)) : undefined;
  return new Data(
    adoptType(data.type), data.offset, data.length, data.nullCount, data.buffers, data.children.map(adoptData), dictionary, data.variadicBuffers,
  );
}

/** The parameters the types below are built from (units are enums of several kinds, passed on as they are). */
interface TypeParameters {
  readonly isSigned: boolean;
  readonly bitWidth: number;
  readonly precision: number;
  readonly scale: number;
  readonly unit: number;
  readonly timezone: string | null;
  readonly byteWidth: number;
  readonly listSize: number;
  readonly keysSorted: boolean;
  readonly mode: number;
  readonly typeIds: Int32Array;
  readonly dictionary: DataType;
  readonly indices: DataType;
  readonly id: number;
  readonly isOrdered: boolean;
}

/** The same type as this module's class, by its type id and parameters. */
function adoptType(type: DataType): DataType {
  const t = type as unknown as TypeParameters;
  const children = (): Field[] => (type.children ?? []).map(adoptField);
  switch (type.typeId) {
    case Type.Null: return new Null();
    case Type.Int: return new Int(t.isSigned, t.bitWidth as never);
    case Type.Float: return new Float(t.precision as never);
    case Type.Binary: return new Binary();
    case Type.LargeBinary: return new LargeBinary();
    case Type.Utf8: return new Utf8();
    case Type.LargeUtf8: return new LargeUtf8();
    case Type.Bool: return new Bool();
    case Type.Decimal: return new Decimal(t.scale, t.precision, t.bitWidth);
    case Type.Date: return new Date_(t.unit as never);
    case Type.Time: return new Time(t.unit as never, t.bitWidth as never);
    case Type.Timestamp: return new Timestamp(t.unit as never, t.timezone);
    case Type.Interval: return new Interval(t.unit as never);
    case Type.Duration: return new Duration(t.unit as never);
    case Type.FixedSizeBinary: return new FixedSizeBinary(t.byteWidth);
    case Type.List: return new List(children()[0]!);
    case Type.LargeList: return new LargeList(children()[0]!);
    case Type.FixedSizeList: return new FixedSizeList(t.listSize, children()[0]!);
    case Type.Struct: return new Struct(children());
    case Type.Map: return new Map_(children()[0]! as never, t.keysSorted);
    case Type.Union: return new Union(t.mode as never, Array.from(t.typeIds), children());
    case Type.Dictionary: return new Dictionary(adoptType(t.dictionary), adoptType(t.indices) as never, t.id, t.isOrdered);
    default:
      throw new InvalidInputError(`columns of type ${String(type)} from another copy of apache-arrow are not supported; build the table with the apache-arrow pyudf uses`);
  }
}
