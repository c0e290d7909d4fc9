// The soak's deterministic UDF, the inputs the clients send, and the checks of every answer against
// the values computed here in JavaScript. Row k of an input with base v is i = v + k,
// s = 'q' + i in base 36 (ASCII), x random; the UDF answers i2 = 2i + 1, y = 2x + 1, r = reverse(s).
import { Table, Utf8, makeVector, vectorFromArray } from 'apache-arrow';

export const UDF_SOURCE = `# pyudf soak UDF (written by bench/soak.mjs): deterministic, so every answer is checked in JavaScript.
import pyarrow as pa
import pyarrow.compute as pc


def init(conf):
    return conf


def apply(state, batch):
    i = batch.column("i")
    x = batch.column("x")
    s = batch.column("s")
    return pa.record_batch({
        "i2": pc.add(pc.multiply(i, 2), 1),
        "y": pc.add(pc.multiply(x, 2.0), 1.0),
        "r": pc.utf8_reverse(s),
    })
`;

/** Output columns and the Arrow type each must have. */
export const OUTPUT_TYPES = { i2: 'Int64', y: 'Float64', r: 'Utf8' };

/** Thrown by a check: the answer differs from what the UDF must return. Counted as a wrong result, never as an error. */
export class WrongResult extends Error {
  constructor(message) {
    super(message);
    this.name = 'WrongResult';
  }
}

/** mulberry32: a small seeded PRNG, so a run's load can be replayed with --seed. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [1, max], log-uniform: as many 1–10-row inputs as 10k–100k-row ones. */
export const logUniform = (rng, max) => Math.min(max, Math.max(1, Math.floor(Math.exp(rng() * Math.log(max + 1)))));

/** i values stay below 2^41, so i2 = 2i + 1 is exact as a JSON number (2^53) too. */
const MAX_BASE = 2 ** 40;
const TWO32 = 2 ** 32;

export const sOf = (v) => `q${v.toString(36)}`;

/**
 * A segment of rows the client sent: `base` (i of its first row), `n` rows, and its x values.
 * Every check walks segments with a cursor, so a stream's output is checked as it arrives.
 */
export function makeSegment(rng, n) {
  const base = Math.floor(rng() * MAX_BASE);
  const x = new Float64Array(n);
  for (let k = 0; k < n; k++) x[k] = (rng() - 0.5) * 2e6;
  return { base, n, x };
}

/** The segment as an Arrow table with columns i (Int64), x (Float64), s (Utf8). */
export function segmentTable({ base, n, x }) {
  const i = new BigInt64Array(n);
  const words = new Uint32Array(i.buffer);
  const s = new Array(n);
  for (let k = 0; k < n; k++) {
    const v = base + k;
    words[2 * k] = v % TWO32;
    words[2 * k + 1] = Math.floor(v / TWO32);
    s[k] = sOf(v);
  }
  return new Table({ i: makeVector(i), x: makeVector(x), s: vectorFromArray(s, new Utf8()) });
}

/** Row k of a segment as a plain object for udf.call(). */
export const segmentRow = ({ base, x }, k) => ({ i: BigInt(base + k), x: x[k], s: sOf(base + k) });

/** The segment as an Open Inference Protocol JSON request body. */
export function segmentJson({ base, n, x }) {
  const i = new Array(n);
  const s = new Array(n);
  for (let k = 0; k < n; k++) {
    i[k] = base + k;
    s[k] = sOf(base + k);
  }
  return JSON.stringify({
    inputs: [
      { name: 'i', datatype: 'INT64', shape: [n], data: i },
      { name: 'x', datatype: 'FP64', shape: [n], data: Array.from(x) },
      { name: 's', datatype: 'BYTES', shape: [n], data: s },
    ],
  });
}

/** Walks the expected rows of a list of segments, in order. */
export class Cursor {
  constructor(segments) {
    this.segments = segments;
    this.segment = 0;
    this.k = 0;
    this.rows = 0;
  }

  get total() {
    return this.segments.reduce((sum, s) => sum + s.n, 0);
  }

  /** The expected base value and x of the next row; advances. */
  next() {
    let seg = this.segments[this.segment];
    while (seg && this.k >= seg.n) {
      this.segment++;
      this.k = 0;
      seg = this.segments[this.segment];
    }
    if (!seg) throw new WrongResult(`more rows than the ${this.total} sent`);
    const row = { v: seg.base + this.k, x: seg.x[this.k] };
    this.k++;
    this.rows++;
    return row;
  }

  /** Throws unless every row sent was checked. */
  finish(what) {
    if (this.rows !== this.total) throw new WrongResult(`${what}: ${this.rows} rows came back for ${this.total} sent`);
  }
}

function checkSchema(schema, what) {
  const names = schema.fields.map((f) => f.name);
  for (const [name, type] of Object.entries(OUTPUT_TYPES)) {
    const field = schema.fields.find((f) => f.name === name);
    if (!field) throw new WrongResult(`${what}: no column "${name}" (got ${names.join(', ')})`);
    if (String(field.type) !== type) throw new WrongResult(`${what}: column "${name}" is ${String(field.type)}, expected ${type}`);
  }
}

const describeRow = (row, v) => `row ${row} (i = ${v})`;

/** Checks one RecordBatch of results against the next rows of `cursor`, without allocating per row. */
export function checkBatch(batch, cursor, what) {
  checkSchema(batch.schema, what);
  const i2 = batch.getChild('i2').data[0];
  const y = batch.getChild('y').data[0];
  const r = batch.getChild('r').data[0];
  for (const [name, data] of [['i2', i2], ['y', y], ['r', r]]) {
    if (data.nullCount > 0) throw new WrongResult(`${what}: column "${name}" has ${data.nullCount} nulls`);
  }
  const words = new Uint32Array(i2.values.buffer, i2.values.byteOffset, batch.numRows * 2);
  const yv = y.values;
  const offsets = r.valueOffsets;
  const bytes = r.values;
  for (let j = 0; j < batch.numRows; j++) {
    const at = cursor.rows;
    const { v, x } = cursor.next();
    const e = 2 * v + 1;
    if (words[2 * j] !== e % TWO32 || words[2 * j + 1] !== Math.floor(e / TWO32)) {
      throw new WrongResult(`${what}: ${describeRow(at, v)}: i2 = ${i2.values[j]}, expected ${e}`);
    }
    if (yv[j] !== 2 * x + 1) throw new WrongResult(`${what}: ${describeRow(at, v)}: y = ${yv[j]}, expected ${2 * x + 1}`);
    const s = sOf(v);
    const start = Number(offsets[j]);
    const end = Number(offsets[j + 1]);
    let ok = end - start === s.length;
    for (let t = 0; ok && t < s.length; t++) ok = bytes[start + t] === s.charCodeAt(s.length - 1 - t);
    if (!ok) {
      const got = Buffer.from(bytes.subarray(start, end)).toString('latin1');
      throw new WrongResult(`${what}: ${describeRow(at, v)}: r = ${JSON.stringify(got)}, expected ${JSON.stringify([...s].reverse().join(''))}`);
    }
  }
}

/** Checks a whole result table against `segments`. */
export function checkTable(table, segments, what) {
  if (!table || !Array.isArray(table.batches)) throw new WrongResult(`${what}: not a Table`);
  const cursor = new Cursor(segments);
  for (const batch of table.batches) checkBatch(batch, cursor, what);
  cursor.finish(what);
}

/** Checks udf.call()'s result row. */
export function checkRow(result, segment, k, what) {
  const v = segment.base + k;
  const x = segment.x[k];
  const keys = result && typeof result === 'object' ? Object.keys(result).sort().join(',') : String(result);
  if (keys !== 'i2,r,y') throw new WrongResult(`${what}: result has keys ${keys}, expected i2, r, y`);
  if (result.i2 !== BigInt(2 * v + 1)) throw new WrongResult(`${what}: i = ${v}: i2 = ${result.i2}, expected ${2 * v + 1}n`);
  if (result.y !== 2 * x + 1) throw new WrongResult(`${what}: i = ${v}: y = ${result.y}, expected ${2 * x + 1}`);
  const r = [...sOf(v)].reverse().join('');
  if (result.r !== r) throw new WrongResult(`${what}: i = ${v}: r = ${JSON.stringify(result.r)}, expected ${JSON.stringify(r)}`);
}

/** Checks an Open Inference Protocol JSON response body against one segment. */
export function checkJsonResponse(body, segment, model, what) {
  if (!body || typeof body !== 'object' || !Array.isArray(body.outputs)) throw new WrongResult(`${what}: no "outputs" in the response`);
  if (body.model_name !== model) throw new WrongResult(`${what}: model_name is ${JSON.stringify(body.model_name)}, expected ${JSON.stringify(model)}`);
  const datatypes = { i2: 'INT64', y: 'FP64', r: 'BYTES' };
  const out = {};
  for (const [name, datatype] of Object.entries(datatypes)) {
    const tensor = body.outputs.find((o) => o.name === name);
    if (!tensor) throw new WrongResult(`${what}: no output "${name}"`);
    if (tensor.datatype !== datatype) throw new WrongResult(`${what}: output "${name}" is ${tensor.datatype}, expected ${datatype}`);
    if (!Array.isArray(tensor.shape) || tensor.shape.length !== 1 || tensor.shape[0] !== segment.n) {
      throw new WrongResult(`${what}: output "${name}" has shape ${JSON.stringify(tensor.shape)}, expected [${segment.n}]`);
    }
    if (!Array.isArray(tensor.data) || tensor.data.length !== segment.n) throw new WrongResult(`${what}: output "${name}" has ${tensor.data?.length} values, expected ${segment.n}`);
    out[name] = tensor.data;
  }
  for (let k = 0; k < segment.n; k++) {
    const v = segment.base + k;
    const x = segment.x[k];
    if (out.i2[k] !== 2 * v + 1) throw new WrongResult(`${what}: ${describeRow(k, v)}: i2 = ${out.i2[k]}, expected ${2 * v + 1}`);
    if (out.y[k] !== 2 * x + 1) throw new WrongResult(`${what}: ${describeRow(k, v)}: y = ${out.y[k]}, expected ${2 * x + 1}`);
    const r = [...sOf(v)].reverse().join('');
    if (out.r[k] !== r) throw new WrongResult(`${what}: ${describeRow(k, v)}: r = ${JSON.stringify(out.r[k])}, expected ${JSON.stringify(r)}`);
  }
}
