// Compares a table's schema with a declared one, field by field, naming the first mismatch.
import { DataType, type Schema, util } from 'apache-arrow';
import { SchemaError, type SchemaSide } from '../errors.js';

/**
 * Throws SchemaError unless the columns are exactly the declared ones, with equal types. With
 * `decodesDictionaries` (the worker decodes them), a dictionary column matches its value type.
 */
export function checkSchema(declared: Schema, actual: Schema, side: SchemaSide, udf: string, decodesDictionaries = false): void {
  const output = side === 'output';
  for (const field of declared.fields) {
    const found = actual.fields.find((f) => f.name === field.name);
    if (!found) {
      const present = actual.fields.map((f) => f.name).join(', ') || 'none';
      const fix = output ? `return a column named "${field.name}" from apply` : `add a column named "${field.name}" to the input`;
      throw new SchemaError({ side, column: field.name, expected: String(field.type), actual: `missing (columns present: ${present})`, udf, fix });
    }
    const decoded = decodesDictionaries && DataType.isDictionary(found.type) && !DataType.isDictionary(field.type)
      ? found.type.dictionary : found.type;
    if (!sameType(field.type, decoded)) {
      const [expected, got] = [String(field.type), String(found.type)];
      const fix = output
        ? `return it as ${expected} from apply (pyudf casts only lossless differences, such as int32 to int64; in pyarrow: column.cast(...)), or declare it as ${got}`
        : DataType.isDictionary(found.type)
          ? `leave keepDictionaries off so that the worker decodes it, decode it first, or declare it as ${got}`
          : `build the column as ${expected}, or declare it as ${got}`;
      throw new SchemaError({ side, column: field.name, expected, actual: got, udf, fix });
    }
  }
  const extra = actual.fields.find((f) => !declared.fields.some((d) => d.name === f.name));
  if (extra) {
    const fix = output ? 'drop it from what apply returns, or add it to the declared output' : 'leave it out of the input (table.select(...)), or declare it';
    throw new SchemaError({ side, column: extra.name, expected: 'absent (not declared)', actual: String(extra.type), udf, fix });
  }
}

/**
 * Throws SchemaError unless `actual` has the columns of `reference` in the same order with the same
 * nullability: what it takes to join the batches of several results into one table.
 */
export function checkSameLayout(reference: Schema, actual: Schema, side: SchemaSide, udf: string): void {
  reference.fields.forEach((field, i) => {
    const other = actual.fields[i];
    if (other && other.name !== field.name) {
      throw new SchemaError({ side, column: other.name, expected: `column ${i} to be "${field.name}", as in the first batch`, actual: `column ${i}`, udf });
    }
    if (other && other.nullable !== field.nullable) {
      const describe = (nullable: boolean): string => `${String(field.type)}, ${nullable ? 'nullable' : 'not null'}`;
      throw new SchemaError({ side, column: field.name, expected: `${describe(field.nullable)}, as in the first batch`, actual: describe(other.nullable), udf });
    }
  });
}

/**
 * Type equality that ignores dictionary ids: JS numbers them from a global counter and pyarrow renumbers
 * them, so a declared schema and a received one rarely agree on ids. apache-arrow's comparator also
 * checks `other instanceof type.constructor`, so a declared `Float64` and a decoded `Float` of the same
 * precision match in one direction only; either direction proves equality for a leaf type.
 */
export function sameType(declared: DataType, actual: DataType): boolean {
  if (declared.typeId !== actual.typeId) return false;
  if (DataType.isDictionary(declared) && DataType.isDictionary(actual)) {
    return declared.isOrdered === actual.isOrdered
      && sameType(declared.indices, actual.indices) && sameType(declared.dictionary, actual.dictionary);
  }
  if (DataType.isTimestamp(declared) && DataType.isTimestamp(actual)) {
    // A timestamp built without a zone has `undefined`, a decoded one `null`: both mean "no zone".
    return declared.unit === actual.unit && (declared.timezone ?? null) === (actual.timezone ?? null);
  }
  const children = declared.children ?? [];
  const otherChildren = actual.children ?? [];
  if (children.length === 0 && otherChildren.length === 0) {
    return util.compareTypes(actual, declared) || util.compareTypes(declared, actual);
  }
  return children.length === otherChildren.length
    && sameNestedParameters(declared, actual)
    && children.every((child, i) => child.name === otherChildren[i]!.name && sameType(child.type, otherChildren[i]!.type));
}

/** The parameters of nested types besides their children. */
function sameNestedParameters(a: DataType, b: DataType): boolean {
  if (DataType.isFixedSizeList(a) && DataType.isFixedSizeList(b)) return a.listSize === b.listSize;
  if (DataType.isUnion(a) && DataType.isUnion(b)) {
    return a.mode === b.mode && a.typeIds.length === b.typeIds.length && a.typeIds.every((id, i) => id === b.typeIds[i]);
  }
  if (DataType.isMap(a) && DataType.isMap(b)) return a.keysSorted === b.keysSorted;
  return true;
}
