// Property tests of everything that reads bytes from outside: Arrow IPC streams (RESULTs and HTTP bodies), wire
// headers and ERROR payloads, JSON inference bodies. Random and mutated inputs must give a bounded result or the
// typed error of that reader, never another error, a hang, or memory in proportion to a claimed length.
import {
  Bool, type Data, DateDay, Decimal, DenseUnion, Dictionary, DurationMillisecond, Field, FixedSizeBinary, FixedSizeList, Float16, Float32,
  Float64, Int32, Int64, LargeUtf8, List, Map_, Null, Schema, SparseUnion, Struct, Table, TimeMillisecond, TimestampMillisecond, Utf8,
  Utf8View, makeData, makeVector, tableFromArrays, tableToIPC, vectorFromArray,
} from 'apache-arrow';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidInputError, ProtocolError } from '../src/index.js';
import { StreamDecoder } from '../src/protocol/arrow-ipc.js';
import { ArrowValidationError } from '../src/protocol/arrow-validate.js';
import { CALL, decodeErrorPayload, decodeHeader, encodeHeader, encodeJson } from '../src/protocol/wire.js';
import { DATATYPES, type OipDatatype } from '../src/serve/datatypes.js';
import { parseInferRequest } from '../src/serve/infer-body.js';
import { readArrowBody } from '../src/serve/infer.js';
import { type ModelServer, createServer } from '../src/serve/index.js';
import { tensorsToTable } from '../src/serve/tensor-decode.js';
import { EchoUdf } from './fakes/echo-udf.js';

const SEED = 20_240_617;
const RUNS = 10_000;
const settings = { seed: SEED, numRuns: RUNS };
const MAX_ROWS = 1000;

// ── Inputs ────────────────────────────────────────────────────────────────────────────────────────────

const column = (name: string, values: unknown[], type: ConstructorParameters<typeof Field>[1]): Table =>
  new Table({ [name]: vectorFromArray(values, type) });

const unionFields = [new Field('a', new Int32()), new Field('b', new Utf8())];
const unionChildren = (): Data[] => [
  makeData({ type: new Int32(), length: 2, data: Int32Array.of(7, 8) }),
  makeData({ type: new Utf8(), length: 2, valueOffsets: Int32Array.of(0, 1, 2), data: Uint8Array.of(97, 98) }),
];

/** Valid streams of many types, the seeds of the mutated ones. */
const CORPUS: readonly Uint8Array[] = [
  tableFromArrays({ x: Int32Array.of(1, 2, 3), y: Float64Array.of(0.5, 1, 2) }),
  column('s', ['a', null, 'ccc', ''], new Utf8()),
  column('l', ['a', null, 'ccc'], new LargeUtf8()),
  column('b', [true, null, false, true, true, false, false, true, null], new Bool()),
  column('l', [[1, 2], [], null, [3]], new List(new Field('item', new Int32()))),
  column('f', [[1, 2], null, [5, 6]], new FixedSizeList(2, new Field('item', new Float32()))),
  column('s', [{ a: 1, b: 'x' }, null, { a: 3, b: null }], new Struct([new Field('a', new Int32()), new Field('b', new Utf8())])),
  column('d', ['red', 'green', null, 'red'], new Dictionary(new Utf8(), new Int32())),
  column('n', [null, null], new Null()),
  column('t', [0, 1_700_000_000_000, null], new TimestampMillisecond()),
  tableFromArrays({ i: BigInt64Array.of(1n, -2n) }),
  new Table({ u: makeData({ type: new SparseUnion([0, 1], unionFields), length: 2, nullCount: 0, typeIds: Int8Array.of(0, 1), children: unionChildren() }) }),
  new Table({ u: makeData({ type: new DenseUnion([0, 1], unionFields), length: 2, nullCount: 0, typeIds: Int8Array.of(0, 1), valueOffsets: Int32Array.of(0, 1), children: unionChildren() } as never) }),
  new Table([...tableFromArrays({ x: Int32Array.of(1, 2, 3) }).batches, ...tableFromArrays({ x: Int32Array.of(4) }).batches]),
  column('m', [new Map([['a', 1]]), null, new Map()], new Map_(new Field('entries', new Struct<{ key: Utf8; value: Int32 }>([new Field('key', new Utf8(), false), new Field('value', new Int32())])))),
  column('v', ['a string longer than twelve bytes', 'b', null], new Utf8View()),
  new Table({
    duration: vectorFromArray([1n, null], new DurationMillisecond()), date: vectorFromArray([new Date(0), null], new DateDay()),
    time: vectorFromArray([1, null], new TimeMillisecond()), fsb: vectorFromArray([Uint8Array.of(1, 2), null], new FixedSizeBinary(2)),
    half: vectorFromArray([1.5, null], new Float16()),
    decimal: makeVector(makeData({ type: new Decimal(2, 10, 128), length: 2, nullCount: 0, data: Uint32Array.of(150, 0, 0, 0, 7, 0, 0, 0) })),
  }),
].map((table) => tableToIPC(table, 'stream'));

type Mutation =
  | { readonly kind: 'byte'; readonly at: number; readonly value: number }
  | { readonly kind: 'int32'; readonly at: number; readonly aligned: boolean; readonly value: number }
  | { readonly kind: 'int64'; readonly at: number; readonly value: bigint }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'splice'; readonly at: number; readonly remove: number; readonly insert: Uint8Array };

const at = fc.nat({ max: 1 << 16 });
/** Lengths and offsets that break readers that trust them. */
const hostile32 = fc.constantFrom(0x7fffffff, -1, -8, 0x40000000, 0x10000000, -0x80000000, 65_536, 4096, 0);
const hostile64 = fc.constantFrom(2n ** 50n, 2n ** 53n + 1n, 2n ** 60n, -1n, 2n ** 31n, 2n ** 32n, 2n ** 63n - 1n);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('byte' as const), at, value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('int32' as const), at, aligned: fc.boolean(), value: fc.oneof(hostile32, fc.integer()) }),
  fc.record({ kind: fc.constant('int64' as const), at, value: fc.oneof(hostile64, fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })) }),
  fc.record({ kind: fc.constant('truncate' as const), at }),
  fc.record({ kind: fc.constant('splice' as const), at, remove: fc.nat({ max: 32 }), insert: fc.uint8Array({ maxLength: 32 }) }),
);

function mutate(base: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let bytes = Uint8Array.from(base);
  for (const m of mutations) {
    if (bytes.byteLength === 0) break;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const where = m.at % bytes.byteLength;
    switch (m.kind) {
      case 'byte': bytes[where] = m.value; break;
      case 'int32': {
        const i = m.aligned ? where & ~3 : where;
        if (i + 4 <= bytes.byteLength) view.setInt32(i, m.value, true);
        break;
      }
      case 'int64': {
        const i = where & ~7;
        if (i + 8 <= bytes.byteLength) view.setBigInt64(i, BigInt.asIntN(64, m.value), true);
        break;
      }
      case 'truncate': bytes = bytes.slice(0, where); break;
      case 'splice': bytes = Uint8Array.from([...bytes.subarray(0, where), ...m.insert, ...bytes.subarray(where + m.remove)]); break;
    }
  }
  return bytes;
}

/** Random bytes, valid streams, and valid streams after one to four hostile edits: fresh memory, as a socket delivers it. */
const arrowInput: fc.Arbitrary<Uint8Array> = fc.oneof(
  { arbitrary: fc.uint8Array({ maxLength: 512 }), weight: 1 },
  { arbitrary: fc.constantFrom(...CORPUS).map((bytes) => Uint8Array.from(bytes)), weight: 1 },
  { arbitrary: fc.tuple(fc.constantFrom(...CORPUS), fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([base, ms]) => mutate(base, ms)), weight: 8 },
);

/** Bytes the table holds beyond the input it views: each distinct ArrayBuffer once. */
function allocatedBytes(table: Table, input: Uint8Array): number {
  const buffers = new Set<ArrayBufferLike>();
  const seen = new Set<Data>();
  const visit = (data: Data): void => {
    if (seen.has(data)) return;
    seen.add(data);
    const views: (ArrayBufferView | undefined)[] = [data.valueOffsets, data.values, data.nullBitmap, data.typeIds, ...(data.variadicBuffers ?? [])];
    for (const view of views) {
      if (view && view.buffer !== input.buffer) buffers.add(view.buffer);
    }
    // apache-arrow's empty placeholder batch (a stream without batches) leaves list children undefined.
    for (const child of data.children as (Data | undefined)[]) if (child) visit(child);
    data.dictionary?.data.forEach(visit);
  };
  table.batches.forEach((batch) => visit(batch.data));
  return [...buffers].reduce((sum, buffer) => sum + buffer.byteLength, 0);
}

/** What a table read from untrusted bytes may be: few enough rows, and memory in proportion to the bytes. */
function expectBounded(table: Table, input: Uint8Array): void {
  expect(table.numRows).toBeLessThanOrEqual(MAX_ROWS);
  expect(allocatedBytes(table, input)).toBeLessThanOrEqual(2 * input.byteLength + 1024);
}

// ── Properties ────────────────────────────────────────────────────────────────────────────────────────

describe('fuzzing the readers of untrusted bytes', () => {
  it('StreamDecoder.decode: a bounded table or ArrowValidationError', () => {
    const decoder = new StreamDecoder(); // one for all runs, as the pool has: its schema cache sees every stream
    fc.assert(fc.property(arrowInput, (bytes) => {
      let table: Table;
      try {
        table = decoder.decode(bytes, { maxRows: MAX_ROWS });
      } catch (error) {
        // Not merely some error: one apache-arrow throws after validation passed would be a gap in the validation.
        expect(error).toBeInstanceOf(ArrowValidationError);
        return;
      }
      expectBounded(table, bytes);
    }), settings);
  });

  it('the server\'s Arrow body reader: a bounded table or InvalidInputError', () => {
    fc.assert(fc.property(arrowInput, (bytes) => {
      let table: Table;
      try {
        table = readArrowBody(bytes, MAX_ROWS);
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidInputError);
        return;
      }
      expectBounded(table, bytes);
    }), settings);
  });

  it('decodeHeader: a header or ProtocolError', () => {
    const valid = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.nat(), fc.nat(), fc.integer({ min: 0, max: 0xffff }))
      .map(([kind, requestId, udfId, flags]) => encodeHeader(CALL, requestId >>> 0, udfId >>> 0, flags).fill(kind, 5, 6));
    const header = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      valid,
      fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([bytes, ms]) => mutate(bytes, ms)),
    );
    fc.assert(fc.property(header, (frame) => {
      try {
        const decoded = decodeHeader(frame);
        expect(Number.isInteger(decoded.kind) && Number.isInteger(decoded.requestId)).toBe(true);
      } catch (error) {
        expect(error).toBeInstanceOf(ProtocolError);
      }
    }), settings);
  });

  it('decodeErrorPayload: a payload or ProtocolError', () => {
    const field = fc.oneof(fc.jsonValue(), fc.string(), fc.constantFrom('python', 'protocol', 'load', 'init', 'apply', null));
    const frameEntry = fc.oneof(fc.jsonValue(), fc.record({ file: field, line: fc.oneof(fc.integer(), fc.double(), field), function: field }));
    const payload = fc.record(
      { kind: field, phase: field, type: field, message: field, traceback: field, frames: fc.oneof(field, fc.array(frameEntry, { maxLength: 4 })) },
      { requiredKeys: [] },
    );
    const frame = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.jsonValue().map((value) => encodeJson(value)),
      payload.map((value) => encodeJson(value)),
      fc.tuple(payload.map((value) => encodeJson(value)), fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([bytes, ms]) => mutate(bytes, ms)),
      fc.constant(undefined),
    );
    fc.assert(fc.property(frame, (bytes) => {
      try {
        const decoded = decodeErrorPayload(bytes);
        expect(['python', 'protocol']).toContain(decoded.kind);
        expect(typeof decoded.message).toBe('string');
      } catch (error) {
        expect(error).toBeInstanceOf(ProtocolError);
      }
    }), settings);
  });

  it('parseInferRequest and tensorsToTable: a table or InvalidInputError', () => {
    const declared = new Schema([
      new Field('x', new Int32()), new Field('s', new Utf8()), new Field('v', new FixedSizeList(2, new Field('item', new Float32()))),
      new Field('d', new Dictionary(new Utf8(), new Int32())), new Field('i', new Int64()), new Field('f', new Float64()),
    ]);
    const names = fc.constantFrom('x', 's', 'v', 'd', 'i', 'f', 'other');
    const datatype = fc.constantFrom(...(Object.keys(DATATYPES) as OipDatatype[]));
    const shape = fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 });
    const element = (type: OipDatatype): fc.Arbitrary<unknown> => (type === 'BYTES' ? fc.string({ maxLength: 3 })
      : type === 'BOOL' ? fc.oneof(fc.boolean(), fc.constantFrom(0, 1, 2)) : fc.oneof(fc.integer({ min: -3, max: 300 }), fc.double(), fc.constant(2 ** 64)));
    /** A tensor whose data has the count its shape needs: these get past parsing and exercise the conversion. */
    const jsonTensor = fc.tuple(names, datatype, shape).chain(([name, type, dims]) => fc.record({
      name: fc.constant(name), datatype: fc.constant(type), shape: fc.constant(dims),
      data: fc.array(element(type), { minLength: dims.reduce((a, b) => a * b, 1), maxLength: dims.reduce((a, b) => a * b, 1) }),
    }));
    /** A tensor given as binary data of about the right size, and those bytes. */
    const binaryTensor = fc.tuple(names, datatype, shape, fc.integer({ min: -1, max: 1 })).chain(([name, type, dims, off]) => {
      const count = dims.reduce((a, b) => a * b, 1);
      const bytes = type === 'BYTES'
        ? fc.array(fc.uint8Array({ maxLength: 4 }), { minLength: count, maxLength: count }).map((items) => Buffer.concat(items.flatMap((item) => [Buffer.from(Uint32Array.of(item.byteLength).buffer), item])))
        : fc.uint8Array({ minLength: Math.max(0, count * DATATYPES[type].bytes + off), maxLength: Math.max(0, count * DATATYPES[type].bytes + off) });
      return bytes.map((data) => ({ tensor: { name, datatype: type, shape: dims, parameters: { binary_data_size: data.byteLength } }, data }));
    });
    const wildTensor = fc.record({
      name: fc.oneof(names, fc.jsonValue()), datatype: fc.oneof(datatype, fc.jsonValue()),
      shape: fc.oneof(shape, fc.array(fc.oneof(fc.integer(), fc.constantFrom(-1, 1.5, 2 ** 31, 2 ** 53, 1e300), fc.jsonValue()), { maxLength: 3 })),
      data: fc.jsonValue(), parameters: fc.jsonValue(),
    }, { requiredKeys: [] });
    const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value) ?? 'null');
    const body: fc.Arbitrary<readonly [Uint8Array, string | undefined]> = fc.oneof(
      { weight: 4, arbitrary: fc.tuple(fc.array(fc.oneof({ weight: 4, arbitrary: jsonTensor }, { weight: 1, arbitrary: wildTensor }), { minLength: 1, maxLength: 3 }), fc.option(fc.string(), { nil: undefined }))
        .map(([inputs, id]) => [json({ id, inputs }), undefined] as const) },
      { weight: 2, arbitrary: fc.array(binaryTensor, { minLength: 1, maxLength: 3 }).map((tensors) => {
        const head = json({ inputs: tensors.map((t) => t.tensor), parameters: { binary_data_output: true } });
        return [Buffer.concat([head, ...tensors.map((t) => t.data)]), String(head.byteLength)] as const;
      }) },
      { weight: 1, arbitrary: fc.tuple(fc.uint8Array({ maxLength: 200 }), fc.option(fc.string({ maxLength: 6 }), { nil: undefined })) },
      { weight: 1, arbitrary: fc.jsonValue().map((value) => [json(value), undefined] as const) },
      { weight: 1, arbitrary: fc.record({ id: fc.jsonValue(), inputs: fc.jsonValue(), outputs: fc.jsonValue(), parameters: fc.jsonValue() }, { requiredKeys: [] }).map((value) => [json(value), undefined] as const) },
      { weight: 2, arbitrary: fc.tuple(fc.array(jsonTensor, { minLength: 1, maxLength: 2 }), fc.array(mutation, { minLength: 1, maxLength: 3 }))
        .map(([inputs, ms]) => [mutate(json({ inputs }), ms), undefined] as const) },
    );
    fc.assert(fc.property(body, fc.boolean(), ([bytes, headerLength], withSchema) => {
      try {
        const parsed = parseInferRequest(Buffer.from(bytes), headerLength);
        const table = tensorsToTable(parsed.inputs, withSchema ? declared : undefined, MAX_ROWS);
        expect(table.numRows).toBeLessThanOrEqual(MAX_ROWS);
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidInputError);
      }
    }), settings);
  });
});

// ── The attack, over HTTP ─────────────────────────────────────────────────────────────────────────────


/** A valid one-column stream whose batch and column claim `rows` rows over a 12-byte body. */
function claimingRows(rows: number): Uint8Array {
  const bytes = Uint8Array.from(tableToIPC(tableFromArrays({ x: Int32Array.of(1, 2, 3) }), 'stream'));
  const view = new DataView(bytes.buffer);
  // The batch length and the field node length are the only int64 3s in the stream.
  for (let at = 0; at + 8 <= bytes.byteLength; at += 8) {
    if (view.getBigInt64(at, true) === 3n) view.setBigInt64(at, BigInt(rows), true);
  }
  return bytes;
}

describe('a malformed Arrow body sent to a real server', () => {
  const servers: ModelServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('gets 400 quickly, and the server still answers', async () => {
    const server = createServer({ udf: new EchoUdf(), port: 0, logger: () => undefined });
    servers.push(server);
    const { url } = await server.listen();
    const attacks = [claimingRows(2 ** 50), claimingRows(2.25e15), claimingRows(2 ** 31 - 1), mutate(claimingRows(2 ** 40), [{ kind: 'truncate', at: 200 }])];
    expect(attacks[0]!.byteLength).toBeLessThan(1000);
    for (const body of attacks) {
      const started = performance.now();
      const response = await fetch(`${url}/v2/models/echo/infer`, {
        method: 'POST', headers: { 'content-type': 'application/vnd.apache.arrow.stream' }, body,
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toMatch(/not a valid Arrow IPC stream|at most 1048576 are accepted/);
      expect(performance.now() - started).toBeLessThan(1000);
    }
    const ready = await fetch(`${url}/v2/health/ready`);
    expect(ready.status).toBe(200);
  });
});
