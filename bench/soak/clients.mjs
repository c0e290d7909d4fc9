// The soak's load: concurrent clients that apply, stream, call and POST to the web API until told to
// stop, each answer checked; what happened is counted in a Tally (bounded memory however long it runs).
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { ARROW_STREAM, isPyUdfError } from '../../dist/index.js';
import { Histogram } from './histogram.mjs';
import {
  Cursor, WrongResult, checkBatch, checkJsonResponse, checkRow, checkTable, logUniform, makeSegment, prng,
  segmentJson, segmentRow, segmentTable,
} from './data.mjs';

export const KINDS = ['apply', 'stream', 'call', 'http-json', 'http-arrow'];
const CLIENT_SEEDS = ['apply', 'stream', 'call', 'http'];

/** A 4xx/5xx answer with the Open Inference Protocol's JSON `{"error": "…"}` body: a typed error. */
export class HttpError extends Error {
  constructor(status, message) {
    super(`HTTP ${status}: ${message}`);
    this.name = 'HttpError';
    this.status = status;
  }
}

/** Anything else the web API answered that is not a valid reply (untyped). */
export class BadHttpReply extends Error {
  constructor(message) {
    super(message);
    this.name = 'BadHttpReply';
  }
}

const EXAMPLES = 10;

/** Counts per operation kind, errors by code, wrong results and untyped errors, with a few examples of each. */
export class Tally {
  constructor() {
    this.ops = Object.fromEntries(KINDS.map((kind) => [kind, {
      count: 0, rows: 0, errors: 0, wrong: 0, untyped: 0, latency: new Histogram(),
    }]));
    this.errorsByCode = {};
    this.wrong = 0;
    this.untyped = 0;
    this.wrongExamples = [];
    this.untypedExamples = [];
    this.typedExamples = {};
    this.startedAt = undefined;
  }

  ok(kind, rows, ms) {
    const op = this.ops[kind];
    op.count++;
    op.rows += rows;
    op.latency.record(ms);
  }

  fail(kind, error, elapsedS) {
    const op = this.ops[kind];
    if (error instanceof WrongResult) {
      op.wrong++;
      this.wrong++;
      if (this.wrongExamples.length < EXAMPLES) this.wrongExamples.push({ kind, atS: elapsedS, message: error.message });
      return;
    }
    op.errors++;
    const typed = error instanceof HttpError || isPyUdfError(error);
    const code = error instanceof HttpError ? `HTTP_${error.status}` : typed ? error.code : `untyped:${error?.name ?? typeof error}`;
    this.errorsByCode[code] = (this.errorsByCode[code] ?? 0) + 1;
    const example = { kind, atS: elapsedS, code, message: String(error?.message ?? error).slice(0, 2000) };
    if (!typed) {
      op.untyped++;
      this.untyped++;
      if (this.untypedExamples.length < EXAMPLES) this.untypedExamples.push({ ...example, stack: String(error?.stack ?? '').slice(0, 4000) });
    } else {
      const examples = (this.typedExamples[code] ??= []);
      if (examples.length < 3) examples.push(example);
    }
  }

  /** A line for the progress output. */
  progress() {
    const ops = KINDS.map((kind) => `${kind} ${this.ops[kind].count}`).join(', ');
    const errors = Object.values(this.errorsByCode).reduce((a, b) => a + b, 0);
    return `ops: ${ops}; errors ${errors}, wrong ${this.wrong}, untyped ${this.untyped}`;
  }
}

/**
 * Starts the clients; resolves when every one has finished its current operation after
 * `control.stopping` turned true. `inFlight` holds the operations running now (for the hang check).
 */
export function startClients({ udf, url, model, seed, counts, tally, control, inFlight }) {
  const elapsedS = () => (performance.now() - tally.startedAt) / 1000;
  const infer = `${url}/v2/models/${model}/infer`;

  /** One client: prepares an input (not timed), runs it (timed), checks the answer, until told to stop. */
  async function loop(name, index, op) {
    const rng = prng(seed * 7919 + CLIENT_SEEDS.indexOf(name) * 1009 + index + 1);
    while (!control.stopping) {
      const input = op.prepare(rng);
      const kind = input.kind ?? name;
      const entry = { kind, client: index, rows: input.rows, started: performance.now() };
      inFlight.add(entry);
      try {
        const result = await input.op.run(input);
        const ms = performance.now() - entry.started;
        input.op.check(input, result);
        tally.ok(kind, input.rows, ms);
      } catch (error) {
        tally.fail(kind, error, elapsedS());
      } finally {
        inFlight.delete(entry);
      }
    }
  }

  const apply = {
    prepare: (rng) => {
      const segment = makeSegment(rng, logUniform(rng, 200_000));
      return { op: apply, rows: segment.n, segment, table: segmentTable(segment) };
    },
    run: ({ table }) => udf.apply(table),
    check: ({ segment }, result) => checkTable(result, [segment], `apply of ${segment.n} rows`),
  };

  const stream = {
    prepare: (rng) => {
      const segments = Array.from({ length: 2 + Math.floor(rng() * 7) }, () => makeSegment(rng, logUniform(rng, 20_000)));
      return { op: stream, rows: segments.reduce((s, x) => s + x.n, 0), segments, maxInFlight: 1 + Math.floor(rng() * 4) };
    },
    // The stream is consumed (and each batch checked as it arrives) inside run: its time is the stream's.
    run: async ({ segments, maxInFlight }) => {
      async function* source() {
        for (const segment of segments) yield segmentTable(segment);
      }
      const cursor = new Cursor(segments);
      const what = `stream of ${segments.length} tables (${segments.map((s) => s.n).join(', ')} rows)`;
      for await (const batch of udf.stream(source(), { maxInFlight })) checkBatch(batch, cursor, what);
      cursor.finish(what);
    },
    check: () => {},
  };

  const call = {
    prepare: (rng) => ({ op: call, rows: 1, segment: makeSegment(rng, 1) }),
    run: ({ segment }) => udf.call(segmentRow(segment, 0)),
    check: ({ segment }, result) => checkRow(result, segment, 0, 'call'),
  };

  const post = async (body, contentType) => {
    const response = await fetch(infer, {
      method: 'POST', headers: { 'content-type': contentType }, body, signal: AbortSignal.timeout(120_000),
    });
    const bytes = Buffer.from(await response.arrayBuffer());
    if (response.status === 200) return { bytes, contentType: response.headers.get('content-type') };
    let json;
    try { json = JSON.parse(bytes.toString('utf8')); } catch { /* not JSON: untyped below */ }
    if (response.status >= 400 && response.status < 600 && typeof json?.error === 'string') throw new HttpError(response.status, json.error);
    throw new BadHttpReply(`HTTP ${response.status} without an OIP error body: ${bytes.toString('utf8', 0, 300)}`);
  };

  const httpJson = {
    prepare: (rng) => {
      const segment = makeSegment(rng, logUniform(rng, 1000));
      return { op: httpJson, kind: 'http-json', rows: segment.n, segment, body: segmentJson(segment) };
    },
    run: ({ body }) => post(body, 'application/json'),
    check: ({ segment }, { bytes, contentType }) => {
      const what = `JSON infer of ${segment.n} rows`;
      if (!contentType?.startsWith('application/json')) throw new WrongResult(`${what}: content-type ${contentType}`);
      let body;
      try { body = JSON.parse(bytes.toString('utf8')); } catch (error) { throw new WrongResult(`${what}: the 200 body is not JSON: ${error.message}`); }
      checkJsonResponse(body, segment, model, what);
    },
  };

  const httpArrow = {
    prepare: (rng) => {
      const segment = makeSegment(rng, logUniform(rng, 1000));
      return { op: httpArrow, kind: 'http-arrow', rows: segment.n, segment, body: tableToIPC(segmentTable(segment), 'stream') };
    },
    run: ({ body }) => post(body, ARROW_STREAM),
    check: ({ segment }, { bytes, contentType }) => {
      const what = `Arrow infer of ${segment.n} rows`;
      if (contentType !== ARROW_STREAM) throw new WrongResult(`${what}: content-type ${contentType}`);
      let table;
      try { table = tableFromIPC(bytes); } catch (error) { throw new WrongResult(`${what}: the 200 body is not an Arrow stream: ${error.message}`); }
      checkTable(table, [segment], what);
    },
  };

  // HTTP clients send JSON or Arrow bodies at random, per request.
  const http = { prepare: (rng) => (rng() < 0.5 ? httpArrow : httpJson).prepare(rng) };

  const loops = [
    ...Array.from({ length: counts.apply }, (_, i) => loop('apply', i, apply)),
    ...Array.from({ length: counts.stream }, (_, i) => loop('stream', i, stream)),
    ...Array.from({ length: counts.call }, (_, i) => loop('call', i, call)),
    ...Array.from({ length: counts.http }, (_, i) => loop('http', i, http)),
  ];
  return Promise.all(loops);
}
