// Compares a table's schema with a declared one, field by field, naming the first mismatch.
import { type DataType, type Schema, util } from 'apache-arrow';
import { SchemaError, type SchemaSide } from '../errors.js';

/** Throws SchemaError unless the columns are exactly the declared ones, with equal types. */
export function checkSchema(declared: Schema, actual: Schema, side: SchemaSide, udf: string): void {
  for (const field of declared.fields) {
    const found = actual.fields.find((f) => f.name === field.name);
    if (!found) {
      const present = actual.fields.map((f) => f.name).join(', ') || 'none';
      throw new SchemaError(side, field.name, String(field.type), `missing (columns present: ${present})`, udf);
    }
    if (!sameType(field.type, found.type)) {
      throw new SchemaError(side, field.name, String(field.type), String(found.type), udf);
    }
  }
  const extra = actual.fields.find((f) => !declared.fields.some((d) => d.name === f.name));
  if (extra) throw new SchemaError(side, extra.name, 'absent (not declared)', String(extra.type), udf);
}

/**
 * apache-arrow's comparator also checks `other instanceof type.constructor`, so a declared `Float64`
 * and a decoded `Float` of the same precision differ in one direction only; either direction proves equality.
 */
function sameType(declared: DataType, actual: DataType): boolean {
  return util.compareTypes(actual, declared) || util.compareTypes(declared, actual);
}
