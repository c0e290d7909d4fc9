// Tables from apache-arrow's CommonJS build (what require() gives a CommonJS program) are rebuilt with pyudf's classes, same memory.
import { createRequire } from 'node:module';
import { DataType, tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ipcStreamFrames } from '../src/protocol/arrow-ipc.js';
import { adoptTable } from '../src/udf/adopt-arrow.js';
import { resolveUdfSpec } from '../src/udf/register-options.js';

type Arrow = typeof import('apache-arrow');
const cjs = createRequire(import.meta.url)('apache-arrow') as Arrow;

describe('adoptTable', () => {
  it('rebuilds a CommonJS-built table of many types over the same buffers, which then encodes and decodes unchanged', () => {
    const foreign = new cjs.Table({
      i: cjs.vectorFromArray(Int32Array.of(1, -2, 3)),
      f: cjs.vectorFromArray(Float64Array.of(0.5, 1.5, 2.5)),
      s: cjs.vectorFromArray(['a', 'bb', null], new cjs.Utf8()),
      d: cjs.vectorFromArray(['x', 'y', 'x'], new cjs.Dictionary(new cjs.Utf8(), new cjs.Int32())),
      l: cjs.vectorFromArray([[1], [2, 3], []], new cjs.List(new cjs.Field('item', new cjs.Int32(), true))),
      t: cjs.vectorFromArray([{ a: 1, b: 'p' }, { a: 2, b: 'q' }, { a: 3, b: 'r' }]),
      b: cjs.vectorFromArray([true, false, true]),
      ts: cjs.vectorFromArray([1, 2, 3], new cjs.TimestampMillisecond()),
      fl: cjs.vectorFromArray([[1, 2], [3, 4], [5, 6]], new cjs.FixedSizeList(2, new cjs.Field('item', new cjs.Float32(), true))),
    });
    expect(foreign.schema.fields[0]!.type instanceof DataType).toBe(false);
    const adopted = adoptTable(foreign);
    expect(adopted.schema.fields.every((field) => field.type instanceof DataType)).toBe(true);
    expect(adopted.getChild('i')!.data[0]!.values).toBe(foreign.getChild('i')!.data[0]!.values);
    const decoded = tableFromIPC(Buffer.concat(ipcStreamFrames(adopted)));
    expect(decoded.toArray().map((row) => JSON.stringify(row))).toEqual(foreign.toArray().map((row) => JSON.stringify(row)));
    expect(decoded.schema.fields.map((f) => String(f.type))).toEqual(foreign.schema.fields.map((f) => String(f.type)));
  });

  it('returns a table built with pyudf\'s own apache-arrow as it is', async () => {
    const { tableFromArrays } = await import('apache-arrow');
    const own = tableFromArrays({ x: Float64Array.of(1) });
    expect(adoptTable(own)).toBe(own);
  });

  it('adopts declared schemas built with the CommonJS build, so the REGISTER carries a readable output schema', () => {
    const output = new cjs.Schema([new cjs.Field('y', new cjs.Int64(), true)]);
    const { spec, settings } = resolveUdfSpec({ code: 'def apply(s, b):\n    return b\n', output }, 1);
    expect(settings.output!.fields[0]!.type instanceof DataType).toBe(true);
    expect(String(tableFromIPC(Buffer.from(spec.output!, 'base64')).schema.fields[0]!.type)).toBe('Int64');
  });
});
