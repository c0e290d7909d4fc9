// Arrow's own integration IPC streams as test vectors: each one apache-arrow JS can read and write comes
// back from an identity UDF equal (pyarrow's Table.equals, metadata included) to the original.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type RecordBatch, Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, PYTHON, ROOT, startPool } from '../helpers.js';

const DIR = process.env.PYUDF_CONFORMANCE_DIR ?? path.join(ROOT, '..', 'shared', 'conformance', 'arrow-ipc');
const STREAMS = existsSync(DIR) ? readdirSync(DIR).filter((f) => /^generated_.*\.stream$/.test(f)).sort() : [];

/**
 * Streams apache-arrow JS (21.x) cannot read, with the reason: they never reach a UDF. Computed by
 * running this test; when apache-arrow learns a type, the test fails so the stream gets covered.
 */
const UNSUPPORTED_BY_JS: Record<string, RegExp> = {
  'generated_list_view.stream': /Unrecognized type: "ListView"/,
  'generated_run_end_encoded.stream': /Unrecognized type: "RunEndEncoded"/,
};

/**
 * Streams that apache-arrow JS reads but cannot reproduce: a JS read → `tableToIPC` round trip with no
 * Python involved already changes them (asserted below, so a fixed apache-arrow is noticed).
 */
const JS_LIMITATIONS: Record<string, string> = {
  // Two top-level fields are both named "ints" (int8 and int32). RecordBatch's constructor runs
  // Schema.assign(), which merges fields by name, so field 0 gets field 1's type (int32) while its
  // data stays int8: the schema JS writes no longer describes the data.
  'generated_duplicate_fieldnames.stream': 'duplicate field names: Schema.assign merges fields by name',
};

/** Most rows per batch: small, so every stream is split into several sliced batches and reassembled. */
const BATCH_SIZE = 5;

interface Comparison {
  name: string;
  equal: boolean;
  equalIgnoringMetadata: boolean;
  error: string | null;
  diff: string | null;
}

interface Outcome {
  /** Why apache-arrow JS could not read or write the stream; undefined when it could. */
  unsupported?: string;
  /** The error apply() rejected with. */
  applyError?: string;
  /** pyarrow's verdict on original vs the identity UDF's result. */
  udf?: Comparison;
  /** pyarrow's verdict on original vs JS read → JS write, without Python. */
  jsOnly?: Comparison;
  /** Same, but sliced into BATCH_SIZE-row pieces, each written and read back, as pyudf sends them. */
  jsSliced?: Comparison;
}

const outcomes = new Map<string, Outcome>();
let tmp: string | undefined;

function readWithJs(file: string): Table | string {
  let stage = 'read';
  try {
    const table = tableFromIPC(readFileSync(file));
    stage = 'write';
    tableFromIPC(tableToIPC(table, 'stream'));
    return table;
  } catch (error) {
    return `cannot ${stage}: ${String(error)}`;
  }
}

/** What pyudf does on the JS side, without Python: slice each batch, write each piece, read it back. */
function slicedRoundTrip(table: Table): Table {
  const batches: RecordBatch[] = [];
  for (const batch of table.batches) {
    for (let start = 0; start < batch.numRows; start += BATCH_SIZE) {
      const piece = new Table(batch.slice(start, Math.min(start + BATCH_SIZE, batch.numRows)));
      batches.push(...tableFromIPC(tableToIPC(piece, 'stream')).batches);
    }
  }
  return batches.length ? new Table(batches) : table;
}

async function compareWithPyarrow(pairs: { name: string; original: string; result: string }[]): Promise<Comparison[]> {
  const manifest = path.join(tmp!, 'manifest.json');
  await writeFile(manifest, JSON.stringify(pairs));
  const { stdout } = await execa(PYTHON, [fixture('compare_ipc.py'), manifest]);
  return stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Comparison);
}

beforeAll(async () => {
  if (STREAMS.length === 0) return; // the first test fails and says why
  tmp = await mkdtemp(path.join(os.tmpdir(), 'pyudf-conformance-'));
  const pairs: { name: string; original: string; result: string }[] = [];
  const pool = await startPool({ workers: 2 });
  try {
    const udf = await pool.register({ name: 'identity', code: 'def apply(state, batch):\n    return batch\n', batchSize: BATCH_SIZE, keepDictionaries: true });
    for (const name of STREAMS) {
      const original = path.join(DIR, name);
      const table = readWithJs(original);
      if (typeof table === 'string') {
        outcomes.set(name, { unsupported: table });
        continue;
      }
      outcomes.set(name, {});
      const jsOnly = path.join(tmp, `js-${name}`);
      await writeFile(jsOnly, tableToIPC(table, 'stream'));
      pairs.push({ name: `js:${name}`, original, result: jsOnly });
      const jsSliced = path.join(tmp, `js-sliced-${name}`);
      try {
        await writeFile(jsSliced, tableToIPC(slicedRoundTrip(table), 'stream'));
        pairs.push({ name: `sliced:${name}`, original, result: jsSliced });
      } catch (error) {
        const failed = `apache-arrow JS threw: ${String(error)}`;
        outcomes.get(name)!.jsSliced = { name, equal: false, equalIgnoringMetadata: false, error: failed, diff: null };
      }
      try {
        const result = await udf.apply(table);
        const udfOut = path.join(tmp, `udf-${name}`);
        await writeFile(udfOut, tableToIPC(result, 'stream'));
        pairs.push({ name: `udf:${name}`, original, result: udfOut });
      } catch (error) {
        outcomes.get(name)!.applyError = String(error);
      }
    }
  } finally {
    await pool.close();
  }
  for (const comparison of await compareWithPyarrow(pairs)) {
    const [side, name] = comparison.name.split(/:(.*)/s) as [string, string];
    const outcome = outcomes.get(name)!;
    if (side === 'udf') outcome.udf = comparison;
    else if (side === 'sliced') outcome.jsSliced = comparison;
    else outcome.jsOnly = comparison;
  }
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('Arrow integration streams through an identity UDF', () => {
  it('finds the conformance streams', () => {
    expect(existsSync(DIR), `conformance directory ${DIR} is missing (set PYUDF_CONFORMANCE_DIR)`).toBe(true);
    expect(STREAMS.length, `no generated_*.stream files in ${DIR}`).toBeGreaterThan(0);
  });

  it('knows exactly which streams apache-arrow JS cannot read or write', () => {
    const unsupported = Object.fromEntries(
      [...outcomes].filter(([, o]) => o.unsupported !== undefined).map(([name, o]) => [name, o.unsupported!]),
    );
    expect(Object.keys(unsupported).sort()).toEqual(Object.keys(UNSUPPORTED_BY_JS).sort());
    for (const [name, reason] of Object.entries(unsupported)) expect(reason, name).toMatch(UNSUPPORTED_BY_JS[name]!);
  });

  const supported = STREAMS.filter((name) => !(name in UNSUPPORTED_BY_JS));
  it.each(supported)('%s comes back equal to the original', (name) => {
    const outcome = outcomes.get(name);
    expect(outcome, `${name} was not processed`).toBeDefined();
    expect(outcome!.unsupported, 'apache-arrow JS could not read or write it').toBeUndefined();
    const { jsOnly } = outcome!;
    expect(jsOnly, 'no pyarrow verdict on the JS-only round trip').toBeDefined();
    if (name in JS_LIMITATIONS) {
      // The listed JS limitation must still be real: JS read → write alone changes the stream.
      expect(jsOnly!.equal, `${name} now survives a JS-only round trip: remove it from JS_LIMITATIONS`).toBe(false);
      // ...and the identity UDF adds no difference of its own.
      expect(outcome!.applyError, 'identity UDF failed').toBeUndefined();
      expect(outcome!.udf?.diff, 'the UDF result differs from what JS alone writes').toBe(jsOnly!.diff);
      return;
    }
    expect(jsOnly!.error, 'pyarrow cannot read what JS wrote').toBeNull();
    expect(jsOnly!.equal, `JS read → write alone changes ${name}:\n${jsOnly!.diff}`).toBe(true);
    // Where the UDF result differs, say whether apache-arrow alone (slice → write → read, as pyudf
    // batches) already breaks it, which points at the JS side rather than Python.
    const { jsSliced } = outcome!;
    const slicedNote = jsSliced && !jsSliced.equal
      ? `\n(apache-arrow JS alone, slicing into ${BATCH_SIZE}-row pieces, writing and reading them, already breaks it: ` +
        `${jsSliced.error ?? jsSliced.diff})`
      : '';
    expect(outcome!.applyError, `identity UDF failed${slicedNote}`).toBeUndefined();
    const { udf } = outcome!;
    expect(udf, 'no pyarrow verdict on the UDF result').toBeDefined();
    expect(udf!.error, `pyarrow cannot read the UDF result${slicedNote}`).toBeNull();
    const metadataOnly = udf!.equalIgnoringMetadata ? ' (only metadata differs)' : '';
    expect(udf!.equal, `identity UDF changed ${name}${metadataOnly}:\n${udf!.diff}${slicedNote}`).toBe(true);
  });
});
