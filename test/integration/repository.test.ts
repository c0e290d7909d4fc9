// Model repositories against real Python workers: version policies, the repository extension, swaps under load, failed loads.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool, type PoolStats } from '../../src/index.js';
import { type ModelServer, type ServeOptions, createServer } from '../../src/serve/index.js';
import type { RepositoryOptions } from '../../src/serve/repository/model-repository.js';
import { isAlive, PYTHON, tempDir, waitFor, workerPids } from '../helpers.js';

// ---- repositories on disk -----------------------------------------------------------------------

/**
 * y = x * conf.scale, and the version its sibling helper.py declares: a reply tells which version (and helper)
 * ran. `lazy` imports the helper inside apply rather than at the top.
 */
const MODEL_PY = (init: string, lazy = false): string => `
import pyarrow as pa
import pyarrow.compute as pc

${lazy ? '' : 'import helper'}

${init}

def apply(conf, batch):
    ${lazy ? 'import helper' : ''}
    y = pc.multiply(batch.column("x"), pa.scalar(float(conf["scale"]), pa.float32()))
    version = pa.array([helper.VERSION] * batch.num_rows, pa.int64())
    return pa.RecordBatch.from_arrays([y, version], names=["y", "version"])
`;

/** A version's init returns conf (`lazy` also imports its helper inside apply), raises, or sleeps first. */
type Kind = 'good' | 'lazy' | 'broken' | { readonly initSeconds: number };

function initSource(kind: Kind, version: number): string {
  if (kind === 'broken') return `def init(conf):\n    raise RuntimeError("broken v${version}")\n`;
  if (typeof kind === 'object') return `import time\n\ndef init(conf):\n    time.sleep(${kind.initSeconds})\n    return conf\n`;
  return 'def init(conf):\n    return conf\n';
}

/** Writes `<root>/<model>/<version>/` with model.py and a helper.py whose VERSION is the version. */
function writeVersion(root: string, model: string, version: number, kind: Kind = 'good'): void {
  const dir = path.join(root, model, String(version));
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'helper.py'), `VERSION = ${version}\n`);
  writeFileSync(path.join(dir, 'model.py'), MODEL_PY(initSource(kind, version), kind === 'lazy'));
}

const TENSORS = {
  input: [{ name: 'x', datatype: 'FP32', shape: [-1] }],
  output: [{ name: 'y', datatype: 'FP32', shape: [-1] }, { name: 'version', datatype: 'INT64', shape: [-1] }],
};

function writeConfig(root: string, model: string, config: Record<string, unknown>): void {
  mkdirSync(path.join(root, model), { recursive: true });
  writeFileSync(path.join(root, model, 'config.json'), JSON.stringify(config));
}

/** A repository of models, each with versions 1..`versions` and a config.json (scale, one instance, batching, tensors). */
function repository(models: Record<string, { scale: number; versions?: number; config?: Record<string, unknown> }>): string {
  const root = tempDir('repo-');
  for (const [name, { scale, versions = 3, config = {} }] of Object.entries(models)) {
    writeConfig(root, name, { conf: { scale }, instances: 1, batching: { maxBatchRows: 64, maxDelayMs: 1 }, ...TENSORS, ...config });
    for (let v = 1; v <= versions; v++) writeVersion(root, name, v);
  }
  return root;
}

// ---- one pool for the file, servers closed after each test --------------------------------------

let pool: Pool<PoolStats>;
const poolLogs: string[] = [];
const servers = new Set<ModelServer>();
const logs: { level: string; line: string }[] = [];

beforeAll(async () => {
  // Python writes __pycache__ into the version directories, as it does for most users (this machine's environment may say otherwise).
  pool = await createPool({ python: PYTHON, workers: 2, env: { PYTHONDONTWRITEBYTECODE: '' }, logger: (line) => poolLogs.push(line) });
});

afterEach(async () => {
  for (const server of servers) await server.close();
  servers.clear();
  logs.length = 0;
});

afterAll(async () => {
  const pids = workerPids(pool);
  await pool.close();
  expect(pids.filter(isAlive)).toEqual([]);
});

async function serve(repo: string | RepositoryOptions, extra: Partial<ServeOptions> = {}): Promise<{ server: ModelServer; url: string }> {
  const server = createServer({
    repository: repo, port: 0, logger: (line, meta) => logs.push({ level: meta.level, line }), ...(extra.poolOptions ? {} : { pool }), ...extra,
  });
  servers.add(server);
  const { url } = await server.listen();
  return { server, url };
}

/** UDFs loaded on the shared pool's workers, counting each worker holding one. */
const loadedUdfs = (): number => pool.stats().workers.reduce((sum, w) => sum + w.udfs, 0);

// ---- requests ----------------------------------------------------------------------------------

interface Answer {
  readonly status: number;
  /** How long the request took, for the clients that loop. */
  readonly ms?: number;
  readonly version?: number;
  readonly y?: number[];
  readonly error?: string;
}

async function infer(url: string, model: string, version?: string, x: number[] = [1, 2]): Promise<Answer> {
  const response = await fetch(`${url}/v2/models/${model}${version === undefined ? '' : `/versions/${version}`}/infer`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [x.length], data: x }] }),
  });
  const body = await response.json() as { model_version?: string; outputs?: { name: string; data: number[] }[]; error?: string };
  if (response.status !== 200) return { status: response.status, error: body.error ?? '' };
  const output = (name: string): number[] => body.outputs!.find((o) => o.name === name)!.data;
  const ran = output('version')[0]!;
  // The reply's model_version must name the version whose code ran.
  if (body.model_version !== String(ran)) return { status: 200, error: `model_version "${body.model_version}", but version ${ran} ran` };
  return { status: 200, y: output('y'), version: ran };
}

interface IndexEntry { name: string; version: string; state: string; reason: string }

async function index(url: string): Promise<IndexEntry[]> {
  const response = await fetch(`${url}/v2/repository/index`, { method: 'POST' });
  expect(response.status).toBe(200);
  return await response.json() as IndexEntry[];
}

/** Polls the index until `done` holds of it. */
async function until(url: string, done: (entries: IndexEntry[]) => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done(await index(url))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${JSON.stringify(await index(url))}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const entry = (name: string, version: string, state = 'READY', reason = ''): IndexEntry => ({ name, version, state, reason });

async function repositoryCall(url: string, model: string, action: 'load' | 'unload'): Promise<{ status: number; body: { error?: string } }> {
  const response = await fetch(`${url}/v2/repository/models/${model}/${action}`, { method: 'POST' });
  return { status: response.status, body: await response.json() as { error?: string } };
}

async function get(url: string, route: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}${route}`);
  return { status: response.status, body: await response.json() as Record<string, unknown> };
}

/** Clients sending unversioned requests in a loop until stopped: what each saw, in order. */
function clients(url: string, model: string, count: number): { answered: () => number; latest: () => (number | undefined)[]; stop: () => Promise<Answer[][]> } {
  let running = true;
  const seen: Answer[][] = Array.from({ length: count }, () => []);
  const runs = seen.map(async (answers, i) => {
    while (running) {
      const started = performance.now();
      try {
        answers.push({ ...await infer(url, model, undefined, [i, 1]), ms: performance.now() - started });
      } catch (error) {
        answers.push({ status: 0, error: String(error), ms: performance.now() - started });
      }
    }
  });
  return {
    answered: () => seen.reduce((sum, answers) => sum + answers.length, 0),
    latest: () => seen.map((answers) => answers.at(-1)?.version),
    stop: async () => { running = false; await Promise.all(runs); return seen; },
  };
}

const errorLines = (pattern: RegExp): string[] => logs.filter((l) => l.level === 'error' && pattern.test(l.line)).map((l) => l.line);

/** Python processes this test process started (workers), by pid. */
function pythonChildren(): number[] {
  const out = execFileSync('ps', ['-A', '-o', 'pid=,ppid=,comm='], { encoding: 'utf8' });
  return out.split('\n').map((line) => line.trim().split(/\s+/))
    .filter(([, ppid, comm]) => Number(ppid) === process.pid && /python/i.test(comm ?? '')).map(([pid]) => Number(pid));
}

// ---- tests -------------------------------------------------------------------------------------

describe('model repository: what loads, and the URLs that reach it', () => {
  it('loads the latest version of each model with its config.json; serves metadata, readiness, versioned URLs and metrics per version', async () => {
    // a's batching: requests wait up to 400 ms to share a batch, which flushes at once when 4 rows wait.
    const batching = { maxBatchRows: 4, maxDelayMs: 400 };
    const root = repository({ a: { scale: 2, config: { batching } }, b: { scale: 10 }, c: { scale: 1, versions: 1 } });
    const { url } = await serve({ path: root, models: ['a', 'b'] });

    expect(await index(url)).toEqual([entry('a', '3'), entry('b', '3'), entry('c', '', 'UNAVAILABLE', 'unloaded')]);
    // instances: 1 in config.json: each model on one worker of two.
    expect(loadedUdfs()).toBe(2);

    const metadata = await get(url, '/v2/models/a');
    expect(metadata).toEqual({
      status: 200,
      body: {
        name: 'a', versions: ['3'], platform: 'pyudf', inputs: [{ name: 'x', datatype: 'FP32', shape: [-1] }],
        outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }, { name: 'version', datatype: 'INT64', shape: [-1] }],
      },
    });
    expect((await get(url, '/v2/models/a/versions/3')).body.versions).toEqual(['3']);

    // conf reaches init (the scale), and each model's own config.
    expect(await infer(url, 'a')).toEqual({ status: 200, y: [2, 4], version: 3 });
    expect(await infer(url, 'a', '3')).toEqual({ status: 200, y: [2, 4], version: 3 });
    expect(await infer(url, 'b')).toEqual({ status: 200, y: [10, 20], version: 3 });
    const old = await infer(url, 'a', '1');
    expect(old.status).toBe(404);
    expect(old.error).toBe('model "a" version 1 is not loaded: its version policy {"latest":{"num_versions":1}} leaves it out; it has 3');
    expect((await infer(url, 'a', '9')).error).toBe('model "a" has no version "9"; it has 3');
    expect((await infer(url, 'c')).error).toBe('model "c" is not loaded (POST /v2/repository/models/c/load loads it); this server serves "a", "b"');
    expect((await infer(url, 'nope')).error).toBe('no model named "nope"; this server serves "a", "b"');
    // Four one-row requests share one batch, sent without waiting; a lone request waits maxDelayMs for company.
    const started = performance.now();
    const four = await Promise.all([1, 2, 3, 4].map((x) => infer(url, 'a', undefined, [x])));
    expect(four.map((a) => a.y)).toEqual([[2], [4], [6], [8]]);
    expect(performance.now() - started).toBeLessThan(400);
    const lone = performance.now();
    await infer(url, 'a', undefined, [1]);
    expect(performance.now() - lone).toBeGreaterThanOrEqual(395);

    expect(await get(url, '/v2/models/a/ready')).toEqual({ status: 200, body: { name: 'a', ready: true } });
    expect(await get(url, '/v2/models/a/versions/3/ready')).toEqual({ status: 200, body: { name: 'a', version: '3', ready: true } });
    expect((await get(url, '/v2/models/a/versions/1/ready')).status).toBe(404);
    expect((await get(url, '/v2/models/c/ready')).status).toBe(404);
    expect((await get(url, '/v2/health/ready')).status).toBe(200);

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('pyudf_requests_total{model="a",version="3",protocol="json",code="200"} 7\n');
    expect(metrics).toContain('pyudf_requests_total{model="b",version="3",protocol="json",code="200"} 1\n');
    expect(metrics).toMatch(/^pyudf_requests_total\{model="a",version="[^"]*",protocol="json",code="404"\} [1-9]/m);
    expect(metrics).toContain('pyudf_model_ready{model="a",version="3"} 1');
    expect(metrics).toContain('pyudf_model_ready{model="b",version="3"} 1');
    expect(metrics).not.toMatch(/pyudf_model_ready\{model="a",version="[12]"\}/);
    // Batches of a: 2 rows, 2 rows, the four requests' 4, the lone 1.
    expect(metrics).toContain('pyudf_batch_rows_count{model="a",version="3"} 4\n');
    expect(metrics).toContain('pyudf_batch_rows_sum{model="a",version="3"} 9\n');
  });

  it('follows the server\'s version policy (all), overridden by a model\'s config.json (specific)', async () => {
    const root = repository({ a: { scale: 2 }, b: { scale: 10, config: { versionPolicy: { specific: { versions: [1, 2] } } } } });
    const { url } = await serve({ path: root, versionPolicy: { all: {} } });

    expect(await index(url)).toEqual([entry('a', '1'), entry('a', '2'), entry('a', '3'), entry('b', '1'), entry('b', '2')]);
    expect((await get(url, '/v2/models/a')).body.versions).toEqual(['1', '2', '3']);
    expect((await get(url, '/v2/models/b')).body.versions).toEqual(['1', '2']);
    // Unversioned requests go to the highest version; versioned ones to theirs, with their own helper.py.
    expect(await infer(url, 'a')).toMatchObject({ status: 200, version: 3 });
    for (const v of [1, 2, 3]) expect(await infer(url, 'a', String(v))).toMatchObject({ status: 200, version: v });
    expect(await infer(url, 'b')).toMatchObject({ status: 200, version: 2, y: [10, 20] });
    expect(await infer(url, 'b', '1')).toMatchObject({ status: 200, version: 1 });
    expect((await infer(url, 'b', '3')).status).toBe(404);
    expect(await get(url, '/v2/models/a/versions/1/ready')).toEqual({ status: 200, body: { name: 'a', version: '1', ready: true } });

    const metrics = await (await fetch(`${url}/metrics`)).text();
    for (const v of [1, 2, 3]) expect(metrics).toContain(`pyudf_model_ready{model="a",version="${v}"} 1`);
    expect(metrics).toContain('pyudf_requests_total{model="a",version="1",protocol="json",code="200"} 1');
    expect(loadedUdfs()).toBe(5);
  });

  it('loads a new version on POST .../load, unloads a model on .../unload, and loads it again', async () => {
    const root = repository({ a: { scale: 2 }, b: { scale: 10 } });
    const { url } = await serve(root);
    expect(await infer(url, 'a')).toMatchObject({ version: 3 });

    writeVersion(root, 'a', 4);
    expect((await infer(url, 'a', '4')).error).toBe('model "a" version 4 is not loaded yet (POST /v2/repository/models/a/load loads it); it has 3');
    expect(await repositoryCall(url, 'a', 'load')).toEqual({ status: 200, body: {} });
    expect(await infer(url, 'a')).toMatchObject({ status: 200, version: 4, y: [2, 4] });
    expect(await index(url)).toEqual([entry('a', '4'), entry('b', '3')]);
    expect((await get(url, '/v2/models/a')).body.versions).toEqual(['4']);
    expect(loadedUdfs()).toBe(2);

    expect(await repositoryCall(url, 'a', 'unload')).toEqual({ status: 200, body: {} });
    expect(await index(url)).toEqual([entry('a', '', 'UNAVAILABLE', 'unloaded'), entry('b', '3')]);
    // An unloaded model is not served: inference, metadata and readiness answer 404, with a hint to load it; the index lists it.
    const unloaded = await infer(url, 'a');
    expect(unloaded).toEqual({ status: 404, error: expect.stringMatching(/model "a" is not loaded/) });
    expect((await get(url, '/v2/models/a')).status).toBe(404);
    expect((await get(url, '/v2/models/a/ready')).status).toBe(404);
    expect(await infer(url, 'b')).toMatchObject({ status: 200, version: 3 });
    expect(loadedUdfs()).toBe(1);
    // Unloading twice is harmless; a model the repository does not hold is a 404.
    expect((await repositoryCall(url, 'a', 'unload')).status).toBe(200);
    expect(await repositoryCall(url, 'nope', 'load')).toEqual({ status: 404, body: { error: expect.stringMatching(/no model named "nope" in the repository/) } });
    expect((await repositoryCall(url, 'nope', 'unload')).status).toBe(404);

    expect(await repositoryCall(url, 'a', 'load')).toEqual({ status: 200, body: {} });
    expect(await infer(url, 'a')).toMatchObject({ status: 200, version: 4 });
    expect(await index(url)).toEqual([entry('a', '4'), entry('b', '3')]);

    // Taking the newest version away and loading again rolls back to the one before.
    rmSync(path.join(root, 'a', '4'), { recursive: true });
    expect(await repositoryCall(url, 'a', 'load')).toEqual({ status: 200, body: {} });
    expect(await infer(url, 'a')).toMatchObject({ status: 200, version: 3 });
    expect(await index(url)).toEqual([entry('a', '3'), entry('b', '3')]);
    expect(loadedUdfs()).toBe(2);
  });
});

describe('model repository: swapping versions', () => {
  it('swaps versions 2..5 under 16 concurrent clients (explicit loads and the poller) without a failed request', async () => {
    // instances: 2 puts every version on both workers: each swap loads (and version 4 inits for 0.3 s) beside the serving one.
    const root = repository({ hot: { scale: 3, versions: 1, config: { instances: 2 } } });
    const { url } = await serve({ path: root, pollMs: 200 });
    const load = clients(url, 'hot', 16);
    let seen: Answer[][] = [];
    const swaps: { version: number; how: string; ms: number }[] = [];
    try {
      for (const version of [2, 3, 4, 5]) {
        const started = performance.now();
        writeVersion(root, 'hot', version, version === 4 ? { initSeconds: 0.3 } : 'good');
        const how = version % 2 === 0 ? 'load' : 'poller';
        if (how === 'load') expect(await repositoryCall(url, 'hot', 'load')).toEqual({ status: 200, body: {} });
        await until(url, (i) => i.length === 1 && i[0]!.version === String(version), `version ${version} alone`);
        swaps.push({ version, how, ms: Math.round(performance.now() - started) });
        // Every client moves to the new version before the next swap.
        await waitFor(() => load.latest().every((v) => v === version), 5_000, `every client on version ${version}`);
      }
    } finally {
      seen = await load.stop();
    }
    const all = seen.flat();
    const failures = all.filter((a) => a.status !== 200);
    const ms = all.map((a) => a.ms!).sort((a, b) => a - b);
    console.log(`hot swap: ${all.length} requests, ${failures.length} failed, latency p50 ${ms[Math.floor(ms.length / 2)]!.toFixed(1)} ms, `
      + `max ${ms.at(-1)!.toFixed(1)} ms; swaps ${JSON.stringify(swaps)}`);
    expect(failures).toEqual([]);
    for (const [i, answers] of seen.entries()) {
      const versions = answers.map((a) => a.version!);
      // An atomic switch: once a client got version N, it never gets an older one.
      expect(versions.every((v, j) => j === 0 || v >= versions[j - 1]!), `client ${i}`).toBe(true);
      expect(answers.every((a) => a.y![0] === i * 3 && a.y![1] === 3)).toBe(true);
    }
    const versions = new Set(all.map((a) => a.version));
    for (const v of [2, 3, 4, 5]) expect(versions.has(v), `version ${v} answered`).toBe(true);
    // The old versions were closed: one version left, on the two workers its config asks for.
    expect(await index(url)).toEqual([entry('hot', '5')]);
    expect(loadedUdfs()).toBe(2);
    expect(logs.filter((l) => /model "hot" version \d unloaded/.test(l.line))).toHaveLength(4);
  });

  // A sibling imported inside apply (not at the module's top) goes into sys.modules at the first call; the worker
  // runs each hook with its own version's helpers in view (loader.own_imports), so version 2 gets its own.
  it('a helper imported inside apply is the new version\'s after a swap, on the worker where the old one ran', async () => {
    const root = tempDir('repo-');
    writeConfig(root, 'lazy', { conf: { scale: 1 }, ...TENSORS });
    writeVersion(root, 'lazy', 1, 'lazy');
    // One worker, so that version 2 loads where version 1 has run.
    const { url } = await serve(root, { poolOptions: { python: PYTHON, workers: 1 } });
    expect(await infer(url, 'lazy')).toMatchObject({ status: 200, version: 1 });
    writeVersion(root, 'lazy', 2, 'lazy');
    expect(await repositoryCall(url, 'lazy', 'load')).toEqual({ status: 200, body: {} });
    expect(await index(url)).toEqual([entry('lazy', '2')]);
    expect(await infer(url, 'lazy')).toMatchObject({ status: 200, version: 2 });
  });

  it('keeps the old version serving when a new one fails in init, logs it once, and loads it once its files are fixed', async () => {
    const root = repository({ m: { scale: 1, versions: 2 } });
    const { url } = await serve({ path: root, pollMs: 150 });
    const load = clients(url, 'm', 4);
    let seen: Answer[] = [];
    try {
      // The poller finds version 3, whose init raises.
      writeVersion(root, 'm', 3, 'broken');
      await until(url, (i) => i.some((e) => e.version === '3' && e.state === 'UNAVAILABLE'), 'version 3 failed');
      expect(await index(url)).toEqual([entry('m', '2'), entry('m', '3', 'UNAVAILABLE', expect.stringMatching(/^RuntimeError: broken v3 \(.*model\.py:\d+ in init\) — raised in init\(\) of UDF "m\/3"$/))]);
      expect(errorLines(/broken v3/)).toEqual([expect.stringMatching(/^loading model "m" version 3 failed: PythonError: RuntimeError: broken v3[\s\S]*Traceback/)]);
      // Not retried at every poll: its files have not changed.
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      expect(errorLines(/broken v3/)).toHaveLength(1);
      expect(await infer(url, 'm')).toMatchObject({ status: 200, version: 2 });
      const direct = await infer(url, 'm', '3');
      expect(direct).toEqual({ status: 503, error: expect.stringMatching(/model "m" version 3 failed to load: RuntimeError: broken v3/) });

      // An explicit load tries again, and says why it failed.
      const loaded = await repositoryCall(url, 'm', 'load');
      expect(loaded).toEqual({ status: 400, body: { error: expect.stringMatching(/^loading model "m" version 3 failed: RuntimeError: broken v3/) } });
      expect(loaded.body.error).not.toMatch(/Traceback/);
      expect(errorLines(/broken v3/)).toHaveLength(2);
      expect(await get(url, '/v2/models/m/ready')).toEqual({ status: 200, body: { name: 'm', ready: true } });
      expect((await get(url, '/v2/models/m/versions/3/ready')).status).toBe(503);
      expect((await get(url, '/v2/health/ready')).status).toBe(200);

      // Fixed files: the poller loads version 3 and retires 2.
      writeVersion(root, 'm', 3);
      await until(url, (i) => i.length === 1 && i[0]!.version === '3' && i[0]!.state === 'READY', 'version 3 alone');
      expect(await infer(url, 'm')).toMatchObject({ status: 200, version: 3 });
    } finally {
      seen = (await load.stop()).flat();
    }
    expect(seen.filter((a) => a.status !== 200)).toEqual([]);
    expect(new Set(seen.map((a) => a.version))).toEqual(new Set([2, 3]));
    expect(errorLines(/broken v3/)).toHaveLength(2);
  });
});

describe('model repository: broken repositories and hostile timing', () => {
  it('keeps serving when config.json turns bad under the poller, logs it once, and answers an explicit load with 400', async () => {
    const root = repository({ m: { scale: 1, versions: 1 } });
    const { url } = await serve({ path: root, pollMs: 100 });
    writeConfig(root, 'm', { batchsize: 4 });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(errorLines(/batchsize/)).toEqual([expect.stringMatching(/^model "m": InvalidOptionError: Invalid option ".*m[/\\]config\.json": has unknown key\(s\) "batchsize"/)]);
    expect(await infer(url, 'm')).toMatchObject({ status: 200, version: 1 });
    const load = await repositoryCall(url, 'm', 'load');
    expect(load).toEqual({ status: 400, body: { error: expect.stringMatching(/^loading model "m" failed: Invalid option ".*config\.json": has unknown key\(s\) "batchsize"/) } });

    // Fixed, with a new version: the poller loads it with the new config.
    writeConfig(root, 'm', { conf: { scale: 5 }, ...TENSORS });
    writeVersion(root, 'm', 2);
    await until(url, (i) => i.length === 1 && i[0]!.version === '2', 'version 2 alone');
    expect(await infer(url, 'm')).toMatchObject({ status: 200, version: 2, y: [5, 10] });
    expect(errorLines(/batchsize/)).toHaveLength(1);
  });

  it.each([
    ['a version directory with no model', (root: string) => writeFileSync(path.join(mkdirs(root, 'bad', '1'), 'README.txt'), 'nothing'),
      /bad[/\\]1 holds no model\.py and no saved model/],
    ['two saved models in one version', (root: string) => {
      const dir = mkdirs(root, 'bad', '1');
      writeFileSync(path.join(dir, 'a.onnx'), '');
      writeFileSync(path.join(dir, 'b.joblib'), '');
    }, /bad[/\\]1 holds several saved models \(a\.onnx, b\.joblib\); name one as "model" in config\.json/],
    ['an unknown config.json key', (root: string) => {
      writeConfig(root, 'bad', { batchsize: 4 });
      writeVersion(root, 'bad', 1);
    }, /bad[/\\]config\.json.*unknown key\(s\) "batchsize"/],
    ['a bad version policy in config.json', (root: string) => {
      writeConfig(root, 'bad', { versionPolicy: { latest: { num_versions: 0 } } });
      writeVersion(root, 'bad', 1);
    }, /bad[/\\]config\.json: versionPolicy.*num_versions/],
  ])('refuses to start with %s, naming it, and leaves nothing loaded', async (_what, make, message) => {
    const root = repository({ good: { scale: 1, versions: 1 } });
    make(root);
    const server = createServer({ repository: root, pool, port: 0, logger: (line, meta) => logs.push({ level: meta.level, line }) });
    servers.add(server);
    await expect(server.listen()).rejects.toThrow(message);
    expect(loadedUdfs()).toBe(0);
  });

  it('refuses a repository path that does not exist', () => {
    expect(() => createServer({ repository: path.join(tempDir('repo-'), 'missing'), pool, port: 0 })).toThrow(/repository\.path.*no such directory/);
  });

  it('ends concurrent loads and unloads of one model in the state of the last one asked', async () => {
    const root = repository({ a: { scale: 2 }, b: { scale: 10 } });
    const { url } = await serve({ path: root, pollMs: 100 });
    // Requests started 20 ms apart (so they arrive in order) while the operations before them still run.
    const burst = async (actions: ('load' | 'unload')[]): Promise<number[]> => Promise.all(actions.map(async (action, i) => {
      await new Promise((resolve) => setTimeout(resolve, i * 20));
      return (await repositoryCall(url, 'a', action)).status;
    }));
    expect(await burst(['unload', 'load', 'unload', 'load', 'unload', 'load'])).toEqual([200, 200, 200, 200, 200, 200]);
    expect(await index(url)).toEqual([entry('a', '3'), entry('b', '3')]);
    expect(await infer(url, 'a')).toMatchObject({ status: 200, version: 3 });
    expect(loadedUdfs()).toBe(2);

    expect(await burst(['load', 'unload', 'load', 'unload'])).toEqual([200, 200, 200, 200]);
    // The poller leaves an unloaded model alone.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await index(url)).toEqual([entry('a', '', 'UNAVAILABLE', 'unloaded'), entry('b', '3')]);
    expect((await infer(url, 'a')).status).toBe(404);
    expect(loadedUdfs()).toBe(1);

    // All at once, in whatever order they arrive: the index, the routing and the workers agree at the end.
    const statuses = await Promise.all(['load', 'unload', 'load', 'unload', 'load', 'unload', 'load'].map((action) => repositoryCall(url, 'a', action as 'load' | 'unload')));
    expect(statuses.map((s) => s.status)).toEqual([200, 200, 200, 200, 200, 200, 200]);
    const loaded = (await index(url)).some((e) => e.name === 'a' && e.state === 'READY');
    expect(await index(url)).toEqual([loaded ? entry('a', '3') : entry('a', '', 'UNAVAILABLE', 'unloaded'), entry('b', '3')]);
    expect((await infer(url, 'a')).status).toBe(loaded ? 200 : 404);
    expect(loadedUdfs()).toBe(loaded ? 2 : 1);
  });

  it.each(['an explicit load', 'the poller'])('closes while %s loads a version and requests are in flight: resolves, and no worker is left', async (how) => {
    // One instance: version 2 inits on the other worker while version 1 keeps answering on its own.
    const root = repository({ s: { scale: 1, versions: 1, config: { instances: 1 } } });
    const before = new Set(pythonChildren());
    const { server, url } = await serve({ path: root, pollMs: how === 'the poller' ? 100 : 0 }, { poolOptions: { python: PYTHON, workers: 2 }, drainTimeoutMs: 5_000 });
    const ours = pythonChildren().filter((pid) => !before.has(pid));
    expect(ours).toHaveLength(2);
    const load = clients(url, 's', 8);
    await waitFor(() => load.answered() >= 8, 5_000, 'the clients\' first answers');
    writeVersion(root, 's', 2, { initSeconds: 1.5 });
    const loading = how === 'the poller' ? undefined : repositoryCall(url, 's', 'load');
    await until(url, (i) => i.some((e) => e.version === '2' && e.state === 'LOADING'), 'version 2 loading');

    const started = performance.now();
    await server.close();
    const closeMs = performance.now() - started;
    // A load request in flight when close() began is drained like any request: it finishes, then its version
    // closes with the rest. The poller's load is refused once it finishes, quietly.
    if (loading) expect((await loading).status).toBe(200);
    expect(logs.filter((l) => l.level === 'error')).toEqual([]);
    // Requests refused once the server closes: 503, or no connection at all.
    const seen = (await load.stop()).flat();
    expect(seen.filter((a) => a.status === 200).length).toBeGreaterThan(0);
    expect(seen.filter((a) => a.status !== 200 && !(a.status === 503 && /shutting down/.test(a.error!)) && !(a.status === 0 && /fetch failed/.test(a.error!)))).toEqual([]);
    expect(closeMs).toBeLessThan(5_000);
    console.log(`close() while ${how} loads: ${Math.round(closeMs)} ms`);
    await waitFor(() => ours.every((pid) => !isAlive(pid)), 5_000, 'the server\'s workers to exit');
  });
});

function mkdirs(...parts: string[]): string {
  const dir = path.join(...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}
