// The pool's own Arrow IPC writer and reader (src/protocol/arrow-ipc.ts) against apache-arrow's: the
// same bytes out and the same tables in, for Arrow's integration streams and sliced batches.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromArrays, tableFromIPC, tableToIPC, type Table } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { groupChunks, ipcStreamFrames, OWN_FRAME_BYTES, StreamDecoder } from '../src/protocol/arrow-ipc.js';
import { splitIntoBatches } from '../src/udf/batches.js';
import { ROOT } from './helpers.js';

const DIR = process.env.PYUDF_CONFORMANCE_DIR ?? path.join(ROOT, '..', 'shared', 'conformance', 'arrow-ipc');
/** Streams apache-arrow JS cannot read at all (see conformance.test.ts). */
const UNREADABLE = new Set(['generated_list_view.stream', 'generated_run_end_encoded.stream']);
const STREAMS = existsSync(DIR)
  ? readdirSync(DIR).filter((f) => /^generated_.*\.stream$/.test(f) && !UNREADABLE.has(f)).sort()
  : [];

const joined = (frames: Uint8Array[]): Buffer => Buffer.concat(frames);

describe('ipcStreamFrames and StreamDecoder', () => {
  it('finds the conformance streams', () => {
    expect(existsSync(DIR)).toBe(true);
    expect(STREAMS.length).toBeGreaterThanOrEqual(30);
  });

  it.each(STREAMS)('%s: writes the bytes apache-arrow writes and reads back what apache-arrow reads', (name) => {
    const table = tableFromIPC(readFileSync(path.join(DIR, name)));
    // Whole, and cut into small sliced batches as the pool sends them.
    for (const piece of [table, ...splitIntoBatches(table, 3, 1 << 20)]) {
      const reference = tableToIPC(piece, 'stream');
      const frames = ipcStreamFrames(piece);
      expect(joined(frames).equals(Buffer.from(reference))).toBe(true);
      const decoded = new StreamDecoder().decode(reference);
      expectSameTable(decoded, tableFromIPC(reference));
    }
  });

  it('reads each stream\'s own schema and values when it reuses schemas decoded before', () => {
    const decoder = new StreamDecoder();
    const first = decoder.decode(tableToIPC(tableFromArrays({ x: Float64Array.of(1, 2) })));
    const second = decoder.decode(tableToIPC(tableFromArrays({ x: Float64Array.of(3, 4, 5) })));
    expect(first.getChild('x')?.toArray()).toEqual(Float64Array.of(1, 2));
    expect(second.getChild('x')?.toArray()).toEqual(Float64Array.of(3, 4, 5));
    // Same message length, other bytes: not mistaken for the cached schema.
    const renamed = decoder.decode(tableToIPC(tableFromArrays({ z: Float64Array.of(6) })));
    expect(renamed.schema.fields.map(String)).toEqual(['z: Float64']);
    const other = decoder.decode(tableToIPC(tableFromArrays({ y: Int32Array.of(7) })));
    expect(other.schema.fields.map(String)).toEqual(['y: Int32']);
    expect(decoder.decode(tableToIPC(tableFromArrays({ x: Float64Array.of(8) }))).schema.fields.map(String)).toEqual(['x: Float64']);
  });

  it('sends large column buffers as frames that view the column (no copy) and joins the small chunks', () => {
    const rows = 65_536;
    const a = new Float64Array(rows).fill(1.5);
    const b = new Int8Array(rows).fill(3); // 64 KiB: exactly the own-frame size
    const c = Int32Array.of(1, 2); // too small for a frame of its own
    const table = tableFromArrays({ a, b, c: new Int32Array(rows).fill(9) });
    const frames = ipcStreamFrames(table);
    expect(frames.some((f) => f.buffer === a.buffer && f.byteOffset === a.byteOffset && f.byteLength === a.byteLength)).toBe(true);
    expect(frames.some((f) => f.buffer === b.buffer && f.byteLength === OWN_FRAME_BYTES)).toBe(true);
    expect(joined(frames).equals(Buffer.from(tableToIPC(table, 'stream')))).toBe(true);
    const small = ipcStreamFrames(tableFromArrays({ c }));
    expect(small).toHaveLength(1);
  });

  it('groups chunks: big ones alone, each run of small ones joined in order', () => {
    const big = new Uint8Array(10).fill(7);
    const grouped = groupChunks([Uint8Array.of(1), Uint8Array.of(2), big, Uint8Array.of(3)], 10);
    expect(grouped.map((f) => [...f])).toEqual([[1, 2], [...big], [3]]);
    expect(grouped[1]).toBe(big);
  });

  it('rejects a truncated or garbage stream with apache-arrow\'s own error', () => {
    const bytes = tableToIPC(tableFromArrays({ x: Float64Array.of(1, 2, 3) }), 'stream');
    expect(() => new StreamDecoder().decode(bytes.subarray(0, bytes.byteLength - 20))).toThrow();
    expect(() => new StreamDecoder().decode(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9))).toThrow();
  });
});

function expectSameTable(actual: Table, expected: Table): void {
  expect(actual.schema.fields.map(String)).toEqual(expected.schema.fields.map(String));
  expect([...actual.schema.metadata]).toEqual([...expected.schema.metadata]);
  expect(actual.numRows).toBe(expected.numRows);
  expect(actual.batches.map((b) => b.numRows)).toEqual(expected.batches.map((b) => b.numRows));
  expect(actual.batches.map((b) => [...b.metadata])).toEqual(expected.batches.map((b) => [...b.metadata]));
  // Re-encoding both must give the same bytes: every buffer, offset and null bitmap agrees.
  expect(Buffer.from(tableToIPC(actual, 'stream')).equals(Buffer.from(tableToIPC(expected, 'stream')))).toBe(true);
}
