// One Arrow DataType as TypeScript: the apache-arrow type (`List<Float64>`) and the value that builds it.
import { DataType, DateUnit, type Field, IntervalUnit, Precision, TimeUnit } from 'apache-arrow';
import { InvalidInputError } from '../errors.js';

/** `type` is the TS type, `value` an expression constructing it (the classes both use go into `imports`). */
export interface TsType {
  readonly type: string;
  readonly value: string;
}

const UNITS: Record<TimeUnit, string> = {
  [TimeUnit.SECOND]: 'Second', [TimeUnit.MILLISECOND]: 'Millisecond',
  [TimeUnit.MICROSECOND]: 'Microsecond', [TimeUnit.NANOSECOND]: 'Nanosecond',
};
const FLOATS: Record<Precision, string> = { [Precision.HALF]: 'Float16', [Precision.SINGLE]: 'Float32', [Precision.DOUBLE]: 'Float64' };
const INTERVALS: Record<IntervalUnit, string> = {
  [IntervalUnit.DAY_TIME]: 'IntervalDayTime', [IntervalUnit.YEAR_MONTH]: 'IntervalYearMonth',
  [IntervalUnit.MONTH_DAY_NANO]: 'IntervalMonthDayNano',
};

/** A property key as TypeScript needs it: bare when it is an identifier, quoted otherwise. */
export function propertyKey(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name);
}

/** `new Field(...)` for `field`, with its type built by tsType. */
export function fieldValue(field: Field, imports: Set<string>): string {
  imports.add('Field');
  return `new Field(${JSON.stringify(field.name)}, ${tsType(field.type, imports).value}, ${field.nullable})`;
}

/** The `{ a: Int32; b: Utf8 }` TypeMap of some fields. */
export function typeMap(fields: readonly Field[], imports: Set<string>, indent = ''): string {
  if (!fields.length) return '{}';
  const lines = fields.map((f) => `${indent}  ${propertyKey(f.name)}: ${tsType(f.type, imports).type};`);
  return `{\n${lines.join('\n')}\n${indent}}`;
}

export function tsType(type: DataType, imports: Set<string>): TsType {
  const simple = (name: string, args = ''): TsType => {
    imports.add(name);
    return { type: name, value: `new ${name}(${args})` };
  };
  if (DataType.isNull(type)) return simple('Null');
  if (DataType.isBool(type)) return simple('Bool');
  if (DataType.isInt(type)) return simple(`${type.isSigned ? 'Int' : 'Uint'}${type.bitWidth}`);
  if (DataType.isFloat(type)) return simple(FLOATS[type.precision]);
  if (DataType.isUtf8(type)) return simple('Utf8');
  if (DataType.isLargeUtf8(type)) return simple('LargeUtf8');
  if (DataType.isBinary(type)) return simple('Binary');
  if (DataType.isLargeBinary(type)) return simple('LargeBinary');
  if (DataType.isUtf8View(type)) return simple('Utf8View');
  if (DataType.isBinaryView(type)) return simple('BinaryView');
  if (DataType.isFixedSizeBinary(type)) return simple('FixedSizeBinary', String(type.byteWidth));
  if (DataType.isDecimal(type)) return simple('Decimal', `${type.scale}, ${type.precision}, ${type.bitWidth}`);
  if (DataType.isDate(type)) return simple(type.unit === DateUnit.DAY ? 'DateDay' : 'DateMillisecond');
  if (DataType.isTime(type)) return simple(`Time${UNITS[type.unit]}`);
  // null, not undefined, for no zone: decoded schemas say null, and compareTypes tells them apart.
  if (DataType.isTimestamp(type)) return simple(`Timestamp${UNITS[type.unit]}`, JSON.stringify(type.timezone ?? null));
  if (DataType.isInterval(type)) return simple(INTERVALS[type.unit]);
  if (DataType.isDuration(type)) return simple(`Duration${UNITS[type.unit]}`);
  if (DataType.isList(type) || DataType.isLargeList(type)) {
    const name = DataType.isList(type) ? 'List' : 'LargeList';
    imports.add(name);
    const child = type.children[0]!;
    return { type: `${name}<${tsType(child.type, imports).type}>`, value: `new ${name}(${fieldValue(child, imports)})` };
  }
  if (DataType.isFixedSizeList(type)) {
    imports.add('FixedSizeList');
    const child = type.children[0]!;
    return {
      type: `FixedSizeList<${tsType(child.type, imports).type}>`,
      value: `new FixedSizeList(${type.listSize}, ${fieldValue(child, imports)})`,
    };
  }
  if (DataType.isStruct(type)) {
    imports.add('Struct');
    const map = typeMap(type.children, imports).replace(/\n\s*/g, ' ');
    return { type: `Struct<${map}>`, value: `new Struct<${map}>([${type.children.map((f) => fieldValue(f, imports)).join(', ')}])` };
  }
  if (DataType.isMap(type)) {
    imports.add('Map_');
    const [key, value] = type.children[0]!.type.children as [Field, Field];
    const entries = type.children[0]!;
    return {
      type: `Map_<${tsType(key.type, imports).type}, ${tsType(value.type, imports).type}>`,
      value: `new Map_(${fieldValue(entries, imports)}, ${type.keysSorted})`,
    };
  }
  if (DataType.isDictionary(type)) {
    imports.add('Dictionary');
    const values = tsType(type.dictionary, imports);
    const indices = tsType(type.indices, imports);
    return { type: `Dictionary<${values.type}, ${indices.type}>`, value: `new Dictionary(${values.value}, ${indices.value}, null, ${type.isOrdered})` };
  }
  throw new InvalidInputError(`Arrow type ${String(type)} has no TypeScript mapping in pyudf types yet (unions are not supported)`);
}
