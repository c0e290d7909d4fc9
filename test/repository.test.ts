// The model repository without Python: version policies, config.json, what a directory serves, the served-models table, and loads on a stand-in pool.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FixedSizeList, Float32, Int64, type Table } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, PythonError } from '../src/index.js';
import type { BackendStats } from '../src/backend/backend.js';
import type { Pool } from '../src/pool/pool.js';
import type { ServableUdf } from '../src/serve/index.js';
import { readModelConfig, registerOptions, tensorSchema } from '../src/serve/repository/model-config.js';
import { ModelLoadError } from '../src/serve/repository/load-error.js';
import { missingExplainer } from '../src/serve/repository/missing.js';
import { ModelRepository } from '../src/serve/repository/model-repository.js';
import { fingerprint, listModels, listVersions, versionSource } from '../src/serve/repository/scan.js';
import { keepCount, parseVersionPolicy, parseVersionPolicyFlag, selectVersions } from '../src/serve/repository/version-policy.js';
import { ServedModels, compareVersions } from '../src/serve/served-models.js';
import type { RegisterOptions } from '../src/udf/register-options.js';
import { tempDir, waitFor } from './helpers.js';

/** Creates files (content) and directories (null) under a fresh temp dir. */
function tree(files: Record<string, string | null>): string {
  const root = tempDir('repo-unit-');
  for (const [name, content] of Object.entries(files)) {
    const full = path.join(root, name);
    if (content === null) {
      mkdirSync(full, { recursive: true });
    } else {
      mkdirSync(path.dirname(full), { recursive: true });
      writeFileSync(full, content);
    }
  }
  return root;
}

describe('version policy', () => {
  it('picks the latest N, all, or specific versions, ordering versions as numbers', () => {
    const onDisk = ['10', '9', '1', '2'];
    expect(selectVersions({ latest: { num_versions: 1 } }, onDisk)).toEqual(['10']);
    expect(selectVersions({ latest: { num_versions: 2 } }, onDisk)).toEqual(['9', '10']);
    expect(selectVersions({ latest: { num_versions: 9 } }, onDisk)).toEqual(['1', '2', '9', '10']);
    expect(selectVersions({ all: {} }, onDisk)).toEqual(['1', '2', '9', '10']);
    expect(selectVersions({ specific: { versions: [9, '1', 7] } }, onDisk)).toEqual(['1', '9']);
    expect(selectVersions({ latest: { num_versions: 1 } }, [])).toEqual([]);
    expect(keepCount({ latest: { num_versions: 2 } })).toBe(2);
    expect(keepCount({ all: {} })).toBeUndefined();
    expect(compareVersions('9', '10')).toBeLessThan(0);
  });

  it('accepts Triton\'s JSON form and refuses anything else, naming where it came from', () => {
    expect(parseVersionPolicy({ latest: { num_versions: 3 } }, 'p')).toEqual({ latest: { num_versions: 3 } });
    expect(parseVersionPolicy({ all: {} }, 'p')).toEqual({ all: {} });
    expect(parseVersionPolicy({ specific: { versions: [1, '3'] } }, 'p')).toEqual({ specific: { versions: [1, '3'] } });
    const refused: [unknown, RegExp][] = [
      ['latest', /must be an object/],
      [{}, /exactly one of "latest", "all" and "specific", got none/],
      [{ all: {}, latest: { num_versions: 1 } }, /got "all", "latest"/],
      [{ latest: { num_versions: 0 } }, /"latest.num_versions" must be a positive integer, got 0/],
      [{ latest: null }, /"latest.num_versions" must be a positive integer/],
      [{ specific: { versions: [] } }, /"specific.versions" must be a non-empty array/],
      [{ specific: { versions: [1.5] } }, /"specific.versions"/],
      [{ newest: {} }, /unknown policy "newest"/],
    ];
    for (const [value, message] of refused) {
      expect(() => parseVersionPolicy(value, 'm/config.json: versionPolicy')).toThrow(message);
      expect(() => parseVersionPolicy(value, 'm/config.json: versionPolicy')).toThrow(/Invalid option "m\/config.json: versionPolicy"/);
    }
  });

  it('reads the CLI flag', () => {
    expect(parseVersionPolicyFlag('all')).toEqual({ all: {} });
    expect(parseVersionPolicyFlag('latest')).toEqual({ latest: { num_versions: 1 } });
    expect(parseVersionPolicyFlag('latest:2')).toEqual({ latest: { num_versions: 2 } });
    expect(parseVersionPolicyFlag('specific:1, 3')).toEqual({ specific: { versions: ['1', '3'] } });
    expect(() => parseVersionPolicyFlag('newest')).toThrow(/--version-policy.*latest:N, all or specific:V1,V2, got "newest"/);
    expect(() => parseVersionPolicyFlag('latest:x')).toThrow(/--version-policy/);
  });
});

describe('config.json', () => {
  it('is empty when absent, and names the file and key when wrong', () => {
    const root = tree({
      'json/config.json': '{ nope', 'array/config.json': '[]', 'keys/config.json': '{"conf": 1, "batchsize": 2, "Instances": 1}',
      'model/config.json': '{"model": "../other.py"}', 'batching/config.json': '{"batching": {"maxRows": 4}}',
      'policy/config.json': '{"versionPolicy": {"all": {}, "latest": {"num_versions": 1}}}',
    });
    expect(readModelConfig(path.join(root, 'none', 'config.json'))).toEqual({});
    const file = (dir: string): string => path.join(root, dir, 'config.json');
    expect(() => readModelConfig(file('json'))).toThrow(/config\.json".*is not valid JSON/);
    expect(() => readModelConfig(file('array'))).toThrow(/must hold a JSON object/);
    expect(() => readModelConfig(file('keys'))).toThrow(new RegExp(`Invalid option "${file('keys').replace(/[.\\/]/g, '\\$&')}": has unknown key\\(s\\) "batchsize", "Instances"; known keys: model, format`));
    expect(() => readModelConfig(file('model'))).toThrow(/config\.json: model".*inside the version directory/);
    expect(() => readModelConfig(file('batching'))).toThrow(/config\.json: batching".*"maxBatchRows" and\/or "maxDelayMs"/);
    expect(() => readModelConfig(file('policy'))).toThrow(/config\.json: versionPolicy".*exactly one/);
  });

  it('becomes register() options: batching, declared tensors as Arrow schemas, and the rest as given', () => {
    const options = registerOptions({
      conf: { scale: 2 }, instances: 1, timeoutMs: 500, batching: { maxBatchRows: 8, maxDelayMs: 3 }, versionPolicy: { all: {} }, model: 'model.py',
      input: [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }], output: [{ name: 'n', datatype: 'INT64', shape: [-1] }],
    }, { module: '/r/m/1/model.py' }, 'm/1', '/r/m/config.json');
    const { input, output, ...rest } = options;
    expect(rest).toEqual({ conf: { scale: 2 }, instances: 1, timeoutMs: 500, module: '/r/m/1/model.py', name: 'm/1', maxBatchRows: 8, maxDelayMs: 3 });
    expect(input!.fields.map((f) => f.name)).toEqual(['x']);
    const x = input!.fields[0]!.type as FixedSizeList;
    expect(x).toBeInstanceOf(FixedSizeList);
    expect(x.listSize).toBe(3);
    expect(x.children[0]!.type).toBeInstanceOf(Float32);
    expect(output!.fields[0]!.type).toBeInstanceOf(Int64);
    expect(registerOptions({}, { model: '/r/m/1/m.onnx' }, 'm/1', 'f')).toEqual({ model: '/r/m/1/m.onnx', name: 'm/1' });
  });

  it('refuses tensors whose shape does not start with the rows (-1), naming the tensor', () => {
    expect(() => tensorSchema([{ name: 'x', datatype: 'FP32', shape: [3] }], 'f: input')).toThrow(/"f: input\[0\]\.shape".*\[-1, d1, …\].*got \[3\]/);
    expect(() => tensorSchema([{ name: 'x', datatype: 'FP32', shape: [-1, 0] }], 'f: input')).toThrow(/input\[0\]\.shape/);
    expect(() => tensorSchema([{ name: 'x', datatype: 'FLOAT', shape: [-1] }], 'f: input')).toThrow(/input\[0\]\.datatype".*got "FLOAT"/);
    expect(() => tensorSchema([{ name: '', datatype: 'FP32', shape: [-1] }], 'f: input')).toThrow(/input\[0\]\.name/);
    expect(() => tensorSchema({} as never, 'f: output')).toThrow(/"f: output".*must be an array/);
  });
});

describe('what a repository holds', () => {
  it('lists model directories fit for URLs, and version directories named by positive integers', () => {
    const root = tree({ 'a/1': null, 'b.v2/10': null, '.git/1': null, 'has space/1': null, 'file.txt': 'x', 'a/0': null, 'a/01': null, 'a/latest': null, 'a/2/model.py': '' });
    expect(listModels(root)).toEqual(['a', 'b.v2']);
    expect(listVersions(path.join(root, 'a')).sort()).toEqual(['1', '2']);
    expect(listVersions(path.join(root, 'gone'))).toEqual([]);
  });

  it('serves a version\'s model.py, else its one saved model, and says what is wrong otherwise', () => {
    const root = tree({
      'py/model.py': '', 'py/m.onnx': '', 'saved/saved_model.pb': '', 'one/m.onnx': '', 'one/config.json': '{}', 'one/notes.txt': '',
      'nested/sm/saved_model.pb': '', 'two/a.onnx': '', 'two/b.joblib': '', 'none/notes.txt': '', 'named/b.pt': '', 'named/a.pt': '',
    });
    const at = (dir: string): string => path.join(root, dir);
    expect(versionSource(at('py'), undefined)).toEqual({ module: path.join(at('py'), 'model.py') });
    expect(versionSource(at('saved'), undefined)).toEqual({ model: at('saved') });
    expect(versionSource(at('one'), undefined)).toEqual({ model: path.join(at('one'), 'm.onnx') });
    expect(versionSource(at('nested'), undefined)).toEqual({ model: path.join(at('nested'), 'sm') });
    expect(versionSource(at('named'), 'b.pt')).toEqual({ model: path.join(at('named'), 'b.pt') });
    expect(versionSource(at('py'), 'model.py')).toEqual({ module: path.join(at('py'), 'model.py') });
    expect(() => versionSource(at('two'), undefined)).toThrow(/two holds several saved models \(a\.onnx, b\.joblib\); name one as "model" in config\.json/);
    expect(() => versionSource(at('none'), undefined)).toThrow(/none holds no model\.py and no saved model/);
    expect(() => versionSource(at('named'), 'c.pt')).toThrow(/config\.json names "c\.pt", which .*named does not hold/);
    expect(() => versionSource(at('none'), undefined)).toThrow(InvalidOptionError);
  });

  it('fingerprints a version\'s files, leaving out the bytecode Python writes when it loads them', () => {
    const root = tree({ 'v/model.py': 'a', 'v/pkg/helper.py': 'b' });
    const dir = path.join(root, 'v');
    const first = fingerprint(dir);
    expect(fingerprint(dir)).toBe(first);
    mkdirSync(path.join(dir, '__pycache__'));
    writeFileSync(path.join(dir, '__pycache__', 'model.cpython-312.pyc'), 'x');
    expect(fingerprint(dir)).toBe(first);
    mkdirSync(path.join(dir, 'pkg', '__pycache__'));
    expect(fingerprint(dir)).toBe(first);
    writeFileSync(path.join(dir, 'pkg', 'helper.py'), 'bb');
    expect(fingerprint(dir)).not.toBe(first);
    rmSync(path.join(dir, 'pkg'), { recursive: true });
    expect(fingerprint(dir)).not.toBe(first);
  });
});

/** A stand-in for a registered UDF: enough for the served-models table and the repository. */
function fakeUdf(name: string, log: string[] = []): ServableUdf {
  return {
    name, inputSchema: undefined, outputSchema: undefined, ready: true,
    callTable: async (table: Table) => table,
    observe: () => () => undefined,
    close: async () => { log.push(`close ${name}`); },
  };
}

/** The version a request for `model` (and `version`) runs on now. */
function servedBy(models: ServedModels, model: string, version?: string): string {
  const lease = models.acquire(model, version);
  lease.release();
  return lease.version;
}

describe('served models', () => {
  it('sends unversioned requests to the highest READY version, and drains a retired one before it is forgotten', async () => {
    const models = new ServedModels();
    models.publish('m', '2', fakeUdf('m/2'));
    models.loading('m', '10');
    expect(servedBy(models, 'm')).toBe('2');
    expect(() => models.acquire('m', '10')).toThrow(expect.objectContaining({ status: 503, message: 'model "m" version 10 is still loading' }));
    models.failed('m', '10', 'RuntimeError: no');
    expect(() => models.acquire('m', '10')).toThrow(expect.objectContaining({ status: 503, message: 'model "m" version 10 failed to load: RuntimeError: no' }));
    models.publish('m', '10', fakeUdf('m/10'));
    // A failure reported late never demotes a READY version.
    models.failed('m', '10', 'late');
    const lease = models.acquire('m');
    expect(lease.version).toBe('10');
    expect(models.metadata('m').versions).toEqual(['2', '10']);

    let retired = false;
    const retiring = models.retire('m', '10').then((udf) => { retired = true; return udf; });
    // A second retire of the same version waits for the same drain.
    const again = models.retire('m', '10');
    // Traffic moves at once; the retired version waits for its lease.
    expect(servedBy(models, 'm')).toBe('2');
    expect(() => models.acquire('m', '10')).toThrow(expect.objectContaining({ status: 503, message: 'model "m" version 10 is being unloaded' }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(retired).toBe(false);
    lease.release();
    lease.release();
    expect((await retiring)?.name).toBe('m/10');
    expect((await again)?.name).toBe('m/10');
    // Listed UNLOADING until the caller has closed its UDF and forgets it.
    expect(models.index().map((e) => `${e.version} ${e.state}`)).toEqual(['2 READY', '10 UNLOADING']);
    models.forget('m', '10');
    expect(models.index().map((e) => `${e.version} ${e.state}`)).toEqual(['2 READY']);
    // A READY version is never forgotten: it must be retired first.
    models.forget('m', '2');
    expect(models.index()).toHaveLength(1);
    expect(models.activeLeases).toBe(0);
  });

  it('says which model or version is missing, and why when told', () => {
    const models = new ServedModels();
    models.publish('a', '3', fakeUdf('a/3'));
    expect(() => models.acquire('b')).toThrow(expect.objectContaining({ status: 404, message: 'no model named "b"; this server serves "a"' }));
    expect(() => models.metadata('a', '1')).toThrow(expect.objectContaining({ status: 404, message: 'model "a" has no version "1"; it has 3' }));
    models.explainMissing((model, version) => (version === '1' ? `model "${model}" version 1 is not loaded` : model === 'b' ? 'model "b" is not loaded' : undefined));
    expect(() => models.acquire('b')).toThrow(expect.objectContaining({ message: 'model "b" is not loaded; this server serves "a"' }));
    expect(() => models.acquire('a', '1')).toThrow(expect.objectContaining({ message: 'model "a" version 1 is not loaded; it has 3' }));
    expect(() => models.acquire('a', '2')).toThrow(expect.objectContaining({ message: 'model "a" has no version "2"; it has 3' }));
    expect(new ServedModels().names()).toEqual([]);
    expect(() => new ServedModels().acquire('x')).toThrow('no model named "x"; this server serves no models');
  });
});

describe('why a repository model is not served', () => {
  it('tells an unloaded model, a version not loaded yet and one its policy leaves out from ones that do not exist', () => {
    const root = tree({ 'm/1/model.py': '', 'm/2/model.py': '', 'm/3/model.py': '', 'u/1/model.py': '', 'bad/1/model.py': '', 'bad/config.json': '{ nope' });
    const models = new ServedModels();
    models.publish('m', '2', fakeUdf('m/2'));
    models.publish('bad', '1', fakeUdf('bad/1'));
    const explain = missingExplainer(root, { latest: { num_versions: 2 } }, models);
    expect(explain('u', undefined)).toBe('model "u" is not loaded (POST /v2/repository/models/u/load loads it)');
    expect(explain('m', '1')).toBe('model "m" version 1 is not loaded: its version policy {"latest":{"num_versions":2}} leaves it out');
    expect(explain('m', '3')).toBe('model "m" version 3 is not loaded yet (POST /v2/repository/models/m/load loads it)');
    expect(explain('bad', '1')).toBe('model "bad" version 1 is not loaded');
    expect(explain('m', '9')).toBeUndefined();
    expect(explain('nope', undefined)).toBeUndefined();
    expect(explain('..', undefined)).toBeUndefined();
  });
});

describe('model repository on a stand-in pool', () => {
  /** A pool whose register() fails for modules whose path contains "broken", after `delayMs`. */
  function fakePool(log: string[], delayMs = 0): Pool<BackendStats> {
    return {
      register: async (options: RegisterOptions) => {
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        log.push(`register ${options.name}`);
        if (options.module?.includes('broken')) {
          throw new PythonError({ pythonType: 'RuntimeError', pythonMessage: 'no', traceback: 'Traceback …', frames: [], phase: 'init', udf: options.name! });
        }
        return fakeUdf(options.name!, log);
      },
    } as unknown as Pool<BackendStats>;
  }

  function repository(root: string, log: string[], options: { pollMs?: number; delayMs?: number } = {}): { repo: ModelRepository; models: ServedModels; lines: string[] } {
    const models = new ServedModels();
    const lines: string[] = [];
    const pool = fakePool(log, options.delayMs);
    const repo = new ModelRepository({ path: root, ...(options.pollMs ? { pollMs: options.pollMs } : {}) }, {
      pool: async () => pool, models, logger: (line) => lines.push(line), published: () => undefined, retired: () => undefined,
    });
    return { repo, models, lines };
  }

  it('answers a failed load with a 400 naming the version; listen() gets the error itself', async () => {
    const root = tree({ 'm/1/model.py': '', 'm/2/broken/model.py': '' });
    writeFileSync(path.join(root, 'm', 'config.json'), JSON.stringify({ model: 'broken/model.py' }));
    const log: string[] = [];
    const { repo, models, lines } = repository(root, log);
    await expect(repo.loadAll()).rejects.toBeInstanceOf(PythonError);
    const failure = await repo.load('m').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ModelLoadError);
    expect(failure).toMatchObject({ status: 400, message: 'loading model "m" version 2 failed: RuntimeError: no — raised in init() of UDF "m/2"' });
    expect((failure as ModelLoadError).cause).toBeInstanceOf(PythonError);
    expect(lines.filter((l) => l.startsWith('loading model "m" version 2 failed: PythonError: RuntimeError: no'))).toHaveLength(2);
    expect(models.index()).toEqual([{ name: 'm', version: '2', state: 'UNAVAILABLE', reason: 'RuntimeError: no — raised in init() of UDF "m/2"' }]);
    await expect(repo.load('nope')).rejects.toMatchObject({ status: 404 });
    await expect(repo.load('..')).rejects.toMatchObject({ status: 400 });
    await expect(repo.unload('..')).rejects.toMatchObject({ status: 400 });
    await repo.close();
  });

  it('runs loads and unloads of one model one after another, in the order asked', async () => {
    const root = tree({ 'm/1/model.py': '', 'm/2/model.py': '' });
    const log: string[] = [];
    const { repo, models } = repository(root, log, { delayMs: 20 });
    const outcomes = await Promise.allSettled([repo.load('m'), repo.unload('m'), repo.load('m'), repo.unload('m'), repo.load('m')]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(log).toEqual(['register m/2', 'close m/2', 'register m/2', 'close m/2', 'register m/2']);
    expect(models.index()).toEqual([{ name: 'm', version: '2', state: 'READY', reason: '' }]);
    await repo.close();
    expect(log.at(-1)).toBe('close m/2');
    expect(models.index()).toEqual([]);
  });

  it('polls: loads a new version once two polls see it unchanged, swaps, and leaves a failed one alone until it changes', async () => {
    const root = tree({ 'm/1/model.py': '' });
    const log: string[] = [];
    const { repo, models, lines } = repository(root, log, { pollMs: 30 });
    await repo.loadAll();
    repo.watch();
    mkdirSync(path.join(root, 'm', '2', 'broken'), { recursive: true });
    writeFileSync(path.join(root, 'm', 'config.json'), JSON.stringify({ model: 'broken/model.py' }));
    writeFileSync(path.join(root, 'm', '2', 'broken', 'model.py'), '');
    await waitFor(() => models.index().some((e) => e.state === 'UNAVAILABLE'), 2_000, 'version 2 failed');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(log.filter((l) => l === 'register m/2')).toHaveLength(1);
    expect(lines.filter((l) => l.includes('version 2 failed'))).toHaveLength(1);
    expect(servedBy(models, 'm')).toBe('1');

    writeFileSync(path.join(root, 'm', 'config.json'), '{}');
    writeFileSync(path.join(root, 'm', '2', 'model.py'), '');
    await waitFor(() => models.index().length === 1 && models.index()[0]!.version === '2', 2_000, 'version 2 alone');
    expect(log).toEqual(['register m/1', 'register m/2', 'register m/2', 'close m/1']);
    await repo.close();
  });
});
