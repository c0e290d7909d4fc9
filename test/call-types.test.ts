// call() is typed by the UDF's declared columns: checked by the type checker (npm run lint), shown here with expectTypeOf.
import { Dictionary, Field, FixedSizeList, Float32, Float64, Int32, Int64, List, Schema, Struct, Utf8 } from 'apache-arrow';
import { describe, expectTypeOf, it } from 'vitest';
import type { RowOf, Udf } from '../src/index.js';

type In = { text: Utf8; tokens: List<Int64> };
type Out = { score: Float64; embedding: FixedSizeList<Float32>; meta: Struct<{ label: Utf8 }> };

describe('RowOf', () => {
  it('maps declared columns to the values call() takes and returns', () => {
    expectTypeOf<RowOf<In>>().toEqualTypeOf<{ text: string | null; tokens: (bigint | null)[] | null }>();
    expectTypeOf<RowOf<Out>['embedding']>().toEqualTypeOf<(number | null)[] | null>();
    expectTypeOf<RowOf<Out>['meta']>().toEqualTypeOf<{ label: string | null } | null>();
    expectTypeOf<Udf<In, Out>['call']>().parameter(0).toEqualTypeOf<RowOf<In>>();
    expectTypeOf<ReturnType<Udf<In, Out>['call']>>().toEqualTypeOf<Promise<RowOf<Out>>>();
    expectTypeOf<RowOf<{ city: Dictionary<Utf8, Int32> }>>().toEqualTypeOf<{ city: string | null }>();
    // Undeclared: any columns.
    expectTypeOf<Udf['call']>().parameter(0).toEqualTypeOf<Record<string, unknown>>();
  });

  it('rejects a row with a wrongly typed column at compile time', () => {
    const schema = new Schema([new Field('text', new Utf8(), true)]);
    const call = (async () => ({})) as unknown as Udf<{ text: Utf8 }>['call'];
    // @ts-expect-error text must be a string
    void call({ text: 42 }).catch(() => undefined);
    void call({ text: 'ok' });
    void schema;
  });
});
