// Validation of untrusted Arrow IPC streams (src/protocol/arrow-validate.ts): hand-corrupted streams, one per rule,
// each rejected with a message naming what is wrong; valid streams of every common type, from apache-arrow and from
// pyarrow, accepted and read unchanged; and the two places that read untrusted streams (RESULTs, HTTP bodies).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import {
  Bool, type DataType, Decimal, DenseUnion, Dictionary, Field, FixedSizeList, Float32, Float64, Int32, Int64, Int8, LargeUtf8, List,
  MessageHeader, MetadataVersion, Null, Schema, SparseUnion, Struct, Table, TimestampMillisecond, Uint8, Utf8, CompressionType,
  makeData, tableFromArrays, tableFromIPC, tableToIPC, vectorFromArray,
} from 'apache-arrow';
import {
  BodyCompression, BufferRegion, DictionaryBatch as DictionaryBatchHeader, FieldNode, Message, RecordBatch as RecordBatchHeader,
} from 'apache-arrow/ipc/metadata/message';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidInputError, InvalidOptionError, ProtocolError } from '../src/index.js';
import { ReplyReader } from '../src/local/reply-reader.js';
import { StreamDecoder } from '../src/protocol/arrow-ipc.js';
import { ArrowRowLimitError, ArrowValidationError, validateIpcStream } from '../src/protocol/arrow-validate.js';
import { RESULT } from '../src/protocol/wire.js';
import { type ModelServer, createServer } from '../src/serve/index.js';
import { readArrowBody } from '../src/serve/infer.js';
import { EchoUdf } from './fakes/echo-udf.js';
import { PYTHON, ROOT } from './helpers.js';

// ── Taking streams apart and putting them back together ──────────────────────────────────────────────

interface Part { readonly metadata: Uint8Array; readonly body: Uint8Array; readonly message: Message }

const EOS = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

/** The stream's messages (schema, dictionary and record batches), as apache-arrow's writer framed them. */
function split(stream: Uint8Array): Part[] {
  const view = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  const parts: Part[] = [];
  for (let at = 0; ;) {
    let length = view.getInt32(at, true);
    at += 4;
    if (length === -1) {
      length = view.getInt32(at, true);
      at += 4;
    }
    if (length === 0) return parts;
    const metadata = stream.subarray(at, at += length);
    const message = Message.decode(metadata);
    parts.push({ metadata, message, body: stream.subarray(at, at += message.bodyLength) });
  }
}

function encapsulate(metadata: Uint8Array): Uint8Array {
  const size = (metadata.byteLength + 8 + 7) & ~7;
  const out = new Uint8Array(size);
  new DataView(out.buffer).setInt32(0, -1, true);
  new DataView(out.buffer).setInt32(4, size - 8, true);
  out.set(metadata, 8);
  return out;
}

function join(parts: readonly Pick<Part, 'metadata' | 'body'>[]): Uint8Array {
  return Buffer.concat([...parts.flatMap((p) => [encapsulate(p.metadata), p.body]), EOS]);
}

const encode = (header: RecordBatchHeader | DictionaryBatchHeader, bodyLength: number): Uint8Array =>
  Message.encode(Message.from(header, bodyLength));

interface BatchEdit {
  length?: number;
  nodes?: FieldNode[];
  buffers?: BufferRegion[];
  compression?: BodyCompression;
}

/** The stream with its `which`-th record batch's header rewritten (the body kept, or edited in a copy). */
function editBatch(
  stream: Uint8Array, edit: (header: RecordBatchHeader) => BatchEdit, body?: (body: Uint8Array, header: RecordBatchHeader) => void, which = 0,
): Uint8Array {
  let seen = -1;
  return join(split(stream).map((part) => {
    if (!part.message.isRecordBatch() || ++seen !== which) return part;
    const header = part.message.header();
    const { length = header.length, nodes = header.nodes, buffers = header.buffers, compression = null } = edit(header);
    const copy = Uint8Array.from(part.body);
    body?.(copy, header);
    return { metadata: encode(new RecordBatchHeader(length, nodes, buffers, compression, header.variadicBufferCounts), copy.byteLength), body: copy };
  }));
}

/** A DataView of buffer `index` of the batch, for editing offsets, type ids or indices in place. */
const bufferView = (body: Uint8Array, header: RecordBatchHeader, index: number): DataView =>
  new DataView(body.buffer, body.byteOffset + header.buffers[index]!.offset, header.buffers[index]!.length);

/** Replaces an 8-byte little-endian value in a message flatbuffer: how values apache-arrow cannot write get there. */
function patchInt64(metadata: Uint8Array, from: bigint, to: bigint): Uint8Array {
  const out = Uint8Array.from(metadata);
  const view = new DataView(out.buffer);
  for (let at = 0; at + 8 <= out.byteLength; at++) {
    if (view.getBigInt64(at, true) === from) {
      view.setBigInt64(at, to, true);
      return out;
    }
  }
  throw new Error(`value ${from} not found`);
}

const stream = (table: Table): Uint8Array => tableToIPC(table, 'stream');
const column = (name: string, values: unknown[], type: DataType): Table => new Table({ [name]: vectorFromArray(values, type) });

const INTS = stream(tableFromArrays({ x: Int32Array.of(1, 2, 3) }));
/** INTS with its batch and column claiming 2^50 rows. */
const HUGE_BATCH = (): Uint8Array => editBatch(INTS, () => ({ length: 2 ** 50, nodes: [new FieldNode(2 ** 50, 0)] }));
const STRINGS = stream(column('s', ['a', 'bb', 'ccc'], new Utf8()));

/** The error `read` throws (the test fails if it returns). */
function thrown(read: () => unknown): Error {
  try {
    read();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, got none');
}

function rejects(bytes: Uint8Array, message: RegExp, maxRows = 1000): void {
  const error = thrown(() => validateIpcStream(bytes, { maxRows }));
  expect(error).toBeInstanceOf(ArrowValidationError);
  expect(error.message).toMatch(message);
  // The decoder validates first: no table, whatever apache-arrow would have made of it.
  expect(thrown(() => new StreamDecoder().decode(bytes, { maxRows })).message).toMatch(message);
}

describe('validateIpcStream rejects', () => {
  it('a batch claiming 2^50 rows', () => {
    const rows = 2 ** 50;
    rejects(editBatch(INTS, () => ({ length: rows, nodes: [new FieldNode(rows, 0)] })), /record batch 0: claims 1125899906842624 rows/);
  });

  it('more rows than maxRows, in one batch or over several', () => {
    expect(() => validateIpcStream(INTS, { maxRows: 2 })).toThrow(ArrowRowLimitError);
    rejects(INTS, /record batch 0: claims 3 rows; at most 2 are accepted/, 2);
    const twice = stream(new Table([...tableFromIPC(INTS).batches, ...tableFromIPC(INTS).batches]));
    rejects(twice, /record batch 1: claims 3 rows after 3; at most 5 are accepted/, 5);
    expect(() => validateIpcStream(twice, { maxRows: 6 })).not.toThrow();
  });

  it('a node length above 2^53 (refused, not rounded)', () => {
    const marker = 0x5a5a5a5an;
    const edited = split(editBatch(INTS, () => ({ nodes: [new FieldNode(Number(marker), 0)] })));
    const patched = edited.map((p) => (p.message.isRecordBatch() ? { ...p, metadata: patchInt64(p.metadata, marker, 2n ** 60n) } : p));
    rejects(join(patched), /message 1: apache-arrow cannot decode its header: 1152921504606846976 is not safe to convert to a number/);
  });

  it.each([
    ['a column shorter than its batch', () => ({ nodes: [new FieldNode(2, 0)] }), /column "x" \(Int32\): has 2 values; the batch has 3 rows/],
    ['a negative node length', () => ({ nodes: [new FieldNode(-1, 0)] }), /column "x" \(Int32\): claims length -1/],
    ['more nulls than values', () => ({ nodes: [new FieldNode(3, 4)] }), /claims 4 nulls in 3 values/],
    ['too few field nodes', () => ({ nodes: [] }), /column "x" \(Int32\): the batch has only 0 field nodes/],
    ['too many field nodes', (h: RecordBatchHeader) => ({ nodes: [...h.nodes, new FieldNode(1, 0)] }), /record batch 0: has 2 field nodes; the schema uses 1/],
    ['too few buffers', (h: RecordBatchHeader) => ({ buffers: h.buffers.slice(0, 1) }), /the batch has only 1 buffers \(reading the data\)/],
    ['too many buffers', (h: RecordBatchHeader) => ({ buffers: [...h.buffers, new BufferRegion(0, 0)] }), /has 3 buffers; the schema uses 2/],
    ['a buffer past the body', (h: RecordBatchHeader) => ({ buffers: [h.buffers[0]!, new BufferRegion(8, 4096)] }), /the data at bytes 8\.\.4104 lies outside the 16-byte body/],
    ['a buffer at a negative offset', (h: RecordBatchHeader) => ({ buffers: [h.buffers[0]!, new BufferRegion(-8, 12)] }), /the data at bytes -8\.\.4 lies outside/],
    ['a data buffer too short', (h: RecordBatchHeader) => ({ buffers: [h.buffers[0]!, new BufferRegion(0, 8)] }), /3 values need a data buffer of 12 bytes, it holds 8/],
    ['nulls without a validity bitmap', () => ({ nodes: [new FieldNode(3, 1)] }), /1 nulls need a validity bitmap of 1 bytes, it holds 0/],
    ['a compressed body', () => ({ compression: new BodyCompression(CompressionType.LZ4_FRAME) }), /record batch 0: compressed bodies are not supported/],
  ])('%s', (_, edit, message) => {
    rejects(editBatch(INTS, edit), message);
  });

  it('a Bool data buffer short of bits', () => {
    const bools = stream(column('b', Array.from({ length: 20 }, (_, i) => i % 2 === 0), new Bool()));
    rejects(editBatch(bools, (h) => ({ buffers: [h.buffers[0]!, new BufferRegion(h.buffers[1]!.offset, 2)] })), /column "b" \(Bool\): 20 values need a data buffer of 3 bytes, it holds 2/);
  });

  it.each([
    ['offsets past the data', (v: DataView) => v.setInt32(12, 900, true), /column "s" \(Utf8\): offsets end at 900 but the data buffer holds 8 bytes/],
    ['decreasing offsets', (v: DataView) => v.setInt32(8, 0, true), /column "s" \(Utf8\): offset 2 is 0, less than offset 1 \(1\)/],
    ['a negative first offset', (v: DataView) => v.setInt32(0, -1, true), /the first offset is -1/],
  ])('Utf8 with %s', (_, patch, message) => {
    rejects(editBatch(STRINGS, () => ({}), (body, h) => patch(bufferView(body, h, 1))), message);
  });

  it('an offsets buffer too short for its values', () => {
    rejects(editBatch(STRINGS, (h) => ({ buffers: [h.buffers[0]!, new BufferRegion(h.buffers[1]!.offset, 8), h.buffers[2]!] })), /3 values need 4 offsets \(16 bytes\), the offsets buffer holds 8 bytes/);
  });

  it('LargeUtf8 offsets past the data, or above 2^53', () => {
    const large = stream(column('l', ['a', 'bb'], new LargeUtf8()));
    rejects(editBatch(large, () => ({}), (body, h) => bufferView(body, h, 1).setBigInt64(16, 900n, true)), /column "l" \(LargeUtf8\): offsets end at 900 but the data buffer holds 8 bytes/);
    rejects(editBatch(large, () => ({}), (body, h) => bufferView(body, h, 1).setBigInt64(16, 2n ** 60n, true)), /64-bit value 1152921504606846976 at body byte \d+ is out of range/);
  });

  it('List offsets past the child', () => {
    const lists = stream(column('l', [[1, 2], [3]], new List(new Field('item', new Int32()))));
    rejects(editBatch(lists, () => ({}), (body, h) => bufferView(body, h, 1).setInt32(8, 900, true)), /column "l" \(List<Int32>\): offsets end at 900 but the child holds 3 values/);
  });

  it('a FixedSizeList child short of length x size', () => {
    const lists = stream(column('f', [[1, 2], [3, 4], [5, 6]], new FixedSizeList(2, new Field('item', new Float64()))));
    rejects(editBatch(lists, (h) => ({ nodes: [h.nodes[0]!, new FieldNode(4, 0)] })), /column "f" \(FixedSizeList\[2\]<Float64>\): 3 lists of 2 need 6 child values, the child holds 4/);
  });

  it('a Struct child shorter than the struct', () => {
    const structs = stream(column('s', [{ a: 1 }, { a: 2 }], new Struct([new Field('a', new Int32())])));
    rejects(editBatch(structs, (h) => ({ nodes: [h.nodes[0]!, new FieldNode(1, 0)] })), /column "s" \(Struct<\{a:Int32\}>\): child "a" holds 1 values, fewer than the struct's 2/);
  });

  const unionTable = (type: SparseUnion | DenseUnion, valueOffsets?: Int32Array): Table => {
    const children = [makeData({ type: new Int32(), length: 2, data: Int32Array.of(7, 8) }), makeData({ type: new Utf8(), length: 2, valueOffsets: Int32Array.of(0, 1, 2), data: Uint8Array.of(97, 98) })];
    const data = makeData({ type, length: 2, nullCount: 0, typeIds: Int8Array.of(0, 1), children, ...(valueOffsets ? { valueOffsets } : {}) } as never);
    return new Table({ u: data });
  };
  const unionFields = [new Field('a', new Int32()), new Field('b', new Utf8())];

  it('a union type id that is not declared', () => {
    const sparse = stream(unionTable(new SparseUnion([0, 1], unionFields)));
    expect(() => validateIpcStream(sparse, { maxRows: 10 })).not.toThrow();
    rejects(editBatch(sparse, () => ({}), (body, h) => bufferView(body, h, 0).setInt8(0, 5)), /column "u" \(.*\): value 0 has type id 5, not one of \[0, 1\]/);
  });

  it('a dense union offset past its child', () => {
    const dense = stream(unionTable(new DenseUnion([0, 1], unionFields), Int32Array.of(0, 1)));
    expect(() => validateIpcStream(dense, { maxRows: 10 })).not.toThrow();
    rejects(editBatch(dense, () => ({}), (body, h) => bufferView(body, h, 1).setInt32(4, 7, true)), /value 1 is at offset 7 of child "b", which holds 2 values/);
  });

  const DICTIONARY = stream(column('d', ['a', 'b', 'a'], new Dictionary(new Utf8(), new Int32())));

  it('a dictionary index outside its dictionary', () => {
    rejects(editBatch(DICTIONARY, () => ({}), (body, h) => bufferView(body, h, 1).setInt32(0, 9, true)), /column "d" \(Dictionary<Int32, Utf8>\): index 0 is 9, outside the dictionary of 2 values/);
  });

  it('a batch whose dictionary was never sent, and a dictionary no field uses', () => {
    const parts = split(DICTIONARY);
    expect(parts.map((p) => p.message.headerType)).toEqual([MessageHeader.Schema, MessageHeader.DictionaryBatch, MessageHeader.RecordBatch]);
    rejects(join([parts[0]!, parts[2]!]), /column "d" \(Dictionary<Int32, Utf8>\): dictionary id \d+ has not been sent before this batch/);
    const dictionary = parts[1]!.message.header() as DictionaryBatchHeader;
    const stray = { metadata: encode(new DictionaryBatchHeader(dictionary.data, 7), parts[1]!.body.byteLength), body: parts[1]!.body };
    rejects(join([parts[0]!, stray, parts[2]!]), /dictionary batch for id 7: no field of the schema has this dictionary id/);
  });

  it('framing: lengths past the end, negative lengths, truncation, the file format, a missing or second schema', () => {
    const [schema, batch] = split(INTS);
    const metadataStart = INTS.byteLength - EOS.byteLength - batch!.body.byteLength - batch!.metadata.byteLength - 8;
    rejects(INTS.subarray(0, metadataStart + 20), /message 1: \d+ bytes of metadata run past the end of the \d+-byte stream/);
    rejects(INTS.subarray(0, INTS.byteLength - EOS.byteLength - 4), /message 1: a body of 16 bytes runs past the end/);
    rejects(INTS.subarray(0, metadataStart + 2), /the stream ends inside a message length/);
    const negative = Uint8Array.from(INTS);
    new DataView(negative.buffer).setInt32(metadataStart + 4, -8, true);
    rejects(negative, /message 1: metadata length -8 is negative/);
    rejects(tableToIPC(tableFromArrays({ x: Int32Array.of(1) }), 'file'), /an Arrow IPC file .* not a stream/);
    rejects(join([batch!]), /message 0: the stream must start with a schema/);
    rejects(join([schema!, schema!, batch!]), /message 1: a second schema; a stream has one/);
    // apache-arrow reads on past the end-of-stream marker of a stream without batches: a batch there was never checked.
    const hidden = Buffer.concat([join([schema!]), join(split(HUGE_BATCH()).slice(1))]);
    rejects(hidden, /\d+ bytes follow the end-of-stream marker at byte \d+/);
    expect(() => readArrowBody(hidden, 1000)).toThrow(/bytes follow the end-of-stream marker/);
    const schemaWithBody = Message.encode(new Message(8, MetadataVersion.V5, MessageHeader.Schema, schema!.message.header()));
    rejects(join([{ metadata: schemaWithBody, body: new Uint8Array(8) }, batch!]), /message 0: a schema message has no body, this one claims 8 bytes/);
  });

  it('a flatbuffer vector claiming 2^31 entries', () => {
    const [schema, batch] = split(INTS);
    // The FieldNode vector: its length (1) just before the one node (length 3, null count 0).
    const metadata = Uint8Array.from(batch!.metadata);
    const view = new DataView(metadata.buffer);
    let at = 4;
    while (!(view.getInt32(at - 4, true) === 1 && view.getBigInt64(at, true) === 3n && view.getBigInt64(at + 8, true) === 0n)) at++;
    view.setInt32(at - 4, 0x7fffffff, true);
    rejects(join([schema!, { metadata, body: batch!.body }]), /message 1: the field nodes claim 2147483647 entries, more than the \d+-byte metadata holds/);
  });

  it('fields nested deeper than 64', () => {
    let type: DataType = new Int32();
    for (let i = 0; i < 70; i++) type = new List(new Field('item', type));
    const schema = Message.encode(Message.from(new Schema([new Field('deep', type)])));
    rejects(join([{ metadata: schema, body: new Uint8Array(0) }]), /message 0: fields are nested more than 64 deep/);
  });

  it('types apache-arrow cannot read (run-end encoded, list views) and corrupt string views', () => {
    const [ree, listView, views] = pyarrowStreams(`
ree = pa.RunEndEncodedArray.from_arrays(pa.array([2, 3], pa.int32()), pa.array([1.5, 2.5]))
out(pa.table({'r': ree}))
out(pa.table({'v': pa.array([[1], [2, 3]], pa.list_view(pa.int32()))}))
out(pa.table({'sv': pa.array(['a string longer than twelve bytes', 'short'], pa.string_view())}))
`);
    rejects(ree!, /field "r" has type RunEndEncoded, which apache-arrow cannot read/);
    rejects(listView!, /field "v" has type ListView, which apache-arrow cannot read/);
    expect(() => validateIpcStream(views!, { maxRows: 10 })).not.toThrow();
    rejects(editBatch(views!, () => ({}), (body, h) => bufferView(body, h, 1).setInt32(8, 5, true)), /column "sv" \(Utf8View\): view 0 refers to variadic buffer 5 of 1/);
    rejects(editBatch(views!, () => ({}), (body, h) => bufferView(body, h, 1).setInt32(12, 1000, true)), /view 0 covers bytes 1000\.\.1033 of a \d+-byte buffer/);
  });
});

// ── Valid streams ─────────────────────────────────────────────────────────────────────────────────────

const VALID: [string, Table][] = [
  ['ints', tableFromArrays({ i8: Int8Array.of(-1, 0, 1), u8: Uint8Array.of(0, 1, 255), i32: Int32Array.of(1, 2, 3), i64: BigInt64Array.of(1n, 2n ** 60n, -3n) })],
  ['floats', tableFromArrays({ f32: Float32Array.of(0.5, 1, 2), f64: Float64Array.of(0.25, -1, 1e300) })],
  ['bools with nulls', column('b', [true, null, false, true, true, false, false, true, null], new Bool())],
  ['strings with nulls', column('s', ['a', null, 'ünïcødé', ''], new Utf8())],
  ['large strings', column('l', ['a', null, 'ccc'], new LargeUtf8())],
  ['lists', column('l', [[1, 2], [], null, [3]], new List(new Field('item', new Int32())))],
  ['fixed-size lists', column('f', [[1, 2], null, [5, 6]], new FixedSizeList(2, new Field('item', new Float64())))],
  ['structs', column('s', [{ a: 1, b: 'x' }, null, { a: 3, b: null }], new Struct([new Field('a', new Int32()), new Field('b', new Utf8())]))],
  ['dictionaries', column('d', ['red', 'green', null, 'red'], new Dictionary(new Utf8(), new Int32()))],
  ['nulls', column('n', [null, null, null], new Null())],
  ['timestamps', column('t', [0, 1_700_000_000_000, null], new TimestampMillisecond())],
  ['decimals', new Table({ d: makeData({ type: new Decimal(2, 10, 128), length: 2, nullCount: 0, data: Uint32Array.of(150, 0, 0, 0, 7, 0, 0, 0) }) })],
  ['an empty table', tableFromArrays({ x: new Float32Array(0) })],
  ['several batches', new Table([...tableFromIPC(INTS).batches, ...tableFromIPC(INTS).batches])],
];

describe('validateIpcStream accepts', () => {
  it.each(VALID)('%s, which read back unchanged', (_, table) => {
    const bytes = stream(table);
    expect(() => validateIpcStream(bytes, { maxRows: table.numRows })).not.toThrow();
    const decoded = new StreamDecoder().decode(bytes, { maxRows: table.numRows });
    expect(decoded.numRows).toBe(table.numRows);
    expect(Buffer.from(stream(decoded)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('a stream without messages, and one without batches', () => {
    expect(() => validateIpcStream(new Uint8Array(0), { maxRows: 0 })).not.toThrow();
    expect(() => validateIpcStream(EOS, { maxRows: 0 })).not.toThrow();
    const schemaOnly = join(split(INTS).slice(0, 1));
    expect(() => validateIpcStream(schemaOnly, { maxRows: 0 })).not.toThrow();
    expect(new StreamDecoder().decode(schemaOnly, { maxRows: 0 }).schema.fields.map(String)).toEqual(['x: Int32']);
  });

  it('a stream pyarrow wrote: every common type, nulls, a sliced table, several batches', () => {
    const [bytes] = pyarrowStreams(`
import datetime, decimal
n = 12
def nulls(values):
    return [None if i % 4 == 1 else v for i, v in enumerate(values)]
columns = {
    'i8': pa.array(nulls(list(range(n))), pa.int8()),
    'u16': pa.array(nulls(list(range(n))), pa.uint16()),
    'i64': pa.array(nulls([2**40 + i for i in range(n)]), pa.int64()),
    'u64': pa.array(nulls(list(range(n))), pa.uint64()),
    'f16': pa.array(nulls([1.5] * n), pa.float16()),
    'f32': pa.array(nulls([0.5 * i for i in range(n)]), pa.float32()),
    'f64': pa.array(nulls([0.25 * i for i in range(n)]), pa.float64()),
    'b': pa.array(nulls([i % 3 == 0 for i in range(n)]), pa.bool_()),
    's': pa.array(nulls(['x' * i for i in range(n)]), pa.string()),
    'ls': pa.array(nulls(['y' * i for i in range(n)]), pa.large_string()),
    'bin': pa.array(nulls([b'\\x00' * i for i in range(n)]), pa.binary()),
    'lbin': pa.array(nulls([b'\\x01' * i for i in range(n)]), pa.large_binary()),
    'fsb': pa.array(nulls([bytes([i]) * 3 for i in range(n)]), pa.binary(3)),
    'list': pa.array(nulls([list(range(i % 4)) for i in range(n)]), pa.list_(pa.int32())),
    'llist': pa.array(nulls([['a'] * (i % 3) for i in range(n)]), pa.large_list(pa.string())),
    'fsl': pa.array(nulls([[i, i + 1] for i in range(n)]), pa.list_(pa.float64(), 2)),
    'struct': pa.array(nulls([{'a': i, 'b': str(i)} for i in range(n)]), pa.struct([('a', pa.int32()), ('b', pa.string())])),
    'map': pa.array(nulls([[('k', i)] for i in range(n)]), pa.map_(pa.string(), pa.int64())),
    'dict': pa.array(nulls(['red', 'green', 'blue'] * (n // 3))).dictionary_encode(),
    'null': pa.nulls(n),
    'ts': pa.array(nulls([datetime.datetime(2020, 1, 1) + datetime.timedelta(seconds=i) for i in range(n)]), pa.timestamp('us', tz='UTC')),
    'd32': pa.array(nulls([datetime.date(2020, 1, 1 + i) for i in range(n)]), pa.date32()),
    'd64': pa.array(nulls([datetime.date(2020, 1, 1 + i) for i in range(n)]), pa.date64()),
    't32': pa.array(nulls([datetime.time(0, 0, i) for i in range(n)]), pa.time32('s')),
    't64': pa.array(nulls([datetime.time(0, 0, i) for i in range(n)]), pa.time64('ns')),
    'dur': pa.array(nulls(list(range(n))), pa.duration('ms')),
    'dec': pa.array(nulls([decimal.Decimal(i) / 100 for i in range(n)]), pa.decimal128(10, 2)),
    'dec256': pa.array(nulls([decimal.Decimal(i) for i in range(n)]), pa.decimal256(40, 0)),
    'mdn': pa.array(nulls([pa.MonthDayNano([1, 2, i]) for i in range(n)]), pa.month_day_nano_interval()),
    'sparse': pa.UnionArray.from_sparse(pa.array([0, 1] * (n // 2), pa.int8()), [pa.array(list(range(n)), pa.int32()), pa.array(['u'] * n)]),
    'dense': pa.UnionArray.from_dense(pa.array([0, 1] * (n // 2), pa.int8()), pa.array([i // 2 for i in range(n)], pa.int32()),
                                      [pa.array(list(range(n // 2)), pa.int32()), pa.array(['v'] * (n // 2))]),
    'sv': pa.array(nulls(['a string value longer than twelve bytes %d' % i for i in range(n)]), pa.string_view()),
}
table = pa.table(columns).slice(1, n - 3)
table.validate(full=True)
out(table, max_chunksize=4)
`);
    expect(() => validateIpcStream(bytes!, { maxRows: 9 })).not.toThrow();
    const reference = tableFromIPC(bytes!);
    expect(reference.numRows).toBe(9);
    expect(reference.batches.length).toBe(3);
    const decoded = new StreamDecoder().decode(bytes!, { maxRows: 9 });
    expect(decoded.schema.fields.map(String)).toEqual(reference.schema.fields.map(String));
    expect(Buffer.from(stream(decoded)).equals(Buffer.from(stream(reference)))).toBe(true);
  });

  it('RESULTs as the worker writes them: small ones from its schema cache, large ones measured first, dictionaries', () => {
    const results = pyarrowStreams(`
from pyudf.arrow_ipc import SchemaCache, write_ipc_stream
cache = SchemaCache()
small = pa.table({'score': pa.array([0.5, None]), 'label': pa.array(['a', None])})
emit(write_ipc_stream(small.schema, small.to_batches(), cache))
emit(write_ipc_stream(small.schema, small.to_batches(), cache))
large = pa.table({'x': pa.array(range(100_000), pa.int64()), 's': pa.array([str(i) for i in range(100_000)])})
emit(write_ipc_stream(large.schema, large.to_batches(max_chunksize=30_000), cache))
coded = pa.table({'d': pa.array(['a', 'b', None, 'a']).dictionary_encode()})
emit(write_ipc_stream(coded.schema, coded.to_batches(), cache))
`);
    const decoder = new StreamDecoder();
    expect(results.map((bytes) => decoder.decode(bytes, { maxRows: 100_000 }).numRows)).toEqual([2, 2, 100_000, 4]);
  });
});

/**
 * Runs `body` in the project's Python with `pa` (pyarrow), `out(table, **kw)`, which writes a stream with
 * pyarrow's writer, and `emit(bytes)`; returns the streams in order.
 */
function pyarrowStreams(body: string): Uint8Array[] {
  const script = `
import base64, sys
import pyarrow as pa
def emit(data):
    print(base64.b64encode(bytes(data)).decode())
def out(table, **options):
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        for batch in table.to_batches(**options):
            writer.write_batch(batch)
    emit(sink.getvalue().to_pybytes())
${body}`;
  const env = { ...process.env, PYTHONPATH: path.join(ROOT, 'python') };
  const output = execFileSync(PYTHON, ['-c', script], { encoding: 'utf8', maxBuffer: 64 << 20, env });
  return output.trim().split('\n').map((line) => new Uint8Array(Buffer.from(line, 'base64')));
}

// ── Where untrusted streams are read ──────────────────────────────────────────────────────────────────

const HUGE = HUGE_BATCH();

describe('the readers of untrusted streams', () => {
  it('ReplyReader: a RESULT that fails validation is a ProtocolError saying why', () => {
    const reader = new ReplyReader(undefined);
    const header = { kind: RESULT, requestId: 1, udfId: 1, flags: 0 } as const;
    const read = (body: Uint8Array, maxRows?: number): Table => reader.result(header, [Buffer.alloc(16), Buffer.from(body)], { workerId: 'w1', udfName: 'model' }, maxRows);
    expect(() => read(HUGE)).toThrow(ProtocolError);
    expect(() => read(HUGE)).toThrow(/RESULT body of UDF "model" is not an Arrow IPC stream: record batch 0: claims 1125899906842624 rows/);
    expect(() => read(INTS, 2)).toThrow(/claims 3 rows; at most 2 are accepted/);
    expect(read(INTS).numRows).toBe(3);
  });

  it('the server: a body that fails validation is an InvalidInputError; too many rows names maxRequestRows', () => {
    expect(() => readArrowBody(HUGE, 1000)).toThrow(InvalidInputError);
    expect(() => readArrowBody(HUGE, 1000)).toThrow(/the body is not a valid Arrow IPC stream: record batch 0: claims 1125899906842624 rows/);
    expect(() => readArrowBody(INTS, 2)).toThrow(/at most 2 are accepted \(the server's maxRequestRows\)/);
    expect(readArrowBody(INTS, 3).numRows).toBe(3);
  });

  it('maxRequestRows: validated as an option', () => {
    const udf = new EchoUdf();
    expect(() => createServer({ udf, maxRequestRows: 0 })).toThrow(InvalidOptionError);
    expect(() => createServer({ udf, maxRequestRows: 1.5 })).toThrowError(/"maxRequestRows"/);
    expect(() => createServer({ udf, maxRequestRows: 2 ** 31 })).toThrowError(/"maxRequestRows": must be at most 2147483647/);
  });

  describe('over HTTP', () => {
    const servers: ModelServer[] = [];
    afterEach(async () => {
      await Promise.all(servers.splice(0).map((s) => s.close()));
    });

    it('refuses Arrow and tensor requests of more than maxRequestRows rows with 400, naming the option', async () => {
      const server = createServer({ udf: new EchoUdf(), port: 0, maxRequestRows: 2, logger: () => undefined });
      servers.push(server);
      const { url } = await server.listen();
      const post = (body: Uint8Array | string, type: string): Promise<Response> =>
        fetch(`${url}/v2/models/echo/infer`, { method: 'POST', headers: { 'content-type': type }, body });
      const arrow = await post(INTS, 'application/vnd.apache.arrow.stream');
      expect(arrow.status).toBe(400);
      expect(((await arrow.json()) as { error: string }).error).toMatch(/claims 3 rows; at most 2 are accepted \(the server's maxRequestRows\)/);
      const json = await post(JSON.stringify({ inputs: [{ name: 'x', datatype: 'INT32', shape: [3], data: [1, 2, 3] }] }), 'application/json');
      expect(json.status).toBe(400);
      expect(((await json.json()) as { error: string }).error).toMatch(/input "x" has 3 rows \(shape \[3\]\); at most 2 are accepted \(the server's maxRequestRows\)/);
      const fits = await post(JSON.stringify({ inputs: [{ name: 'x', datatype: 'INT32', shape: [2], data: [1, 2] }] }), 'application/json');
      expect(fits.status).toBe(200);
    });
  });
});
