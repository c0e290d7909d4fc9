// What pool.register() takes: the options, their documented defaults, and their validation into a UdfSpec.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { type Schema, Table, tableToIPC, type TypeMap } from 'apache-arrow';
import type { UdfSpec } from '../backend/backend.js';
import { InvalidOptionError } from '../errors.js';
import { adoptSchema } from './adopt-arrow.js';
import { nonNegativeInteger, positiveInteger } from '../validate.js';
import { PYTHON_PACKAGE_ROOT } from '../python/package-paths.js';

export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** The saved-model formats the built-in loaders read (`pyudf.builtins`). */
export type ModelFormat = 'keras' | 'savedmodel' | 'sklearn' | 'xgboost' | 'onnx' | 'torchscript';
export const MODEL_FORMATS: readonly ModelFormat[] = ['keras', 'savedmodel', 'sklearn', 'xgboost', 'onnx', 'torchscript'];
/**
 * The format each file extension means to the built-in loaders, as python/pyudf/builtins/model_formats.py
 * reads it (test/integration/cli-serve-conflicts.test.ts holds the two equal); a directory holding
 * saved_model.pb is a SavedModel.
 */
export const FORMAT_OF_EXTENSION: Readonly<Record<string, ModelFormat>> = {
  '.keras': 'keras', '.h5': 'keras', '.hdf5': 'keras', '.joblib': 'sklearn', '.pkl': 'sklearn', '.pickle': 'sklearn',
  '.ubj': 'xgboost', '.onnx': 'onnx', '.pt': 'torchscript', '.pth': 'torchscript', '.torchscript': 'torchscript',
};
export const SAVED_MODEL_EXTENSIONS: readonly string[] = Object.keys(FORMAT_OF_EXTENSION);

export interface RegisterOptions<In extends TypeMap = TypeMap, Out extends TypeMap = TypeMap> {
  /** Path of the Python file holding the hooks, relative to the current directory. Give this, `code` or `model`. */
  readonly module?: string;
  /**
   * Path of a saved model served with no Python file by a built-in loader: Keras `.keras`/`.h5`, a TensorFlow
   * SavedModel directory, a scikit-learn or XGBoost estimator saved with joblib (`.joblib`/`.pkl`; trusted files
   * only: loading runs code), ONNX `.onnx`, PyTorch TorchScript `.pt`. Input columns map to the model's named
   * inputs (a single-input model takes the only column); the result has one column per model output.
   */
  readonly model?: string;
  /** The saved model's format, when its name does not say it. Default: recognised from the path. */
  readonly format?: ModelFormat;
  /** SavedModel: the signature to call. Default `'serving_default'`. */
  readonly signature?: string;
  /** scikit-learn / XGBoost: the estimator method to call, `'predict'` or `'predict_proba'`. Default `'predict'`. */
  readonly method?: 'predict' | 'predict_proba';
  /**
   * How many workers load this UDF, like Triton's instance groups: batches go only to those, and a worker
   * that dies is replaced so the count holds. Default: every worker of the pool.
   */
  readonly instances?: number;
  /** Python source holding the hooks, instead of a file. */
  readonly code?: string;
  /** Name used in errors and logs. Default: the module's file name, or `udf<N>` for inline code. */
  readonly name?: string;
  /** Hook called once per worker as `init(conf)`; its return value is the state. Default `'init'` (optional in the module); `null`: none. */
  readonly init?: string | null;
  /** Hook called per batch as `apply(state, batch)`. Default `'apply'`. */
  readonly apply?: string;
  /** Passed to `init`; must be JSON-serialisable. Default `null`. */
  readonly conf?: JsonValue;
  /**
   * Files or directories the UDF reads (weights, a vocabulary), by name: `init` finds the path of each in
   * `conf.artifacts[name]` (`conf` is then an object: the one given, or `{}`). Paths are relative to the
   * current directory. Local workers get the path itself, made absolute; Ray actors get a copy on their
   * node, sent through the object store once per registration and shared by the actors of a node.
   */
  readonly artifacts?: Readonly<Record<string, string>>;
  /** Declared input schema: checked before anything is sent. */
  readonly input?: Schema<In>;
  /** Declared output schema: every result is checked against it. */
  readonly output?: Schema<Out>;
  /** Most rows per batch sent to a worker. Default 65 536. */
  readonly batchSize?: number;
  /** Most (estimated) bytes per batch sent to a worker. Default 64 MiB. */
  readonly maxBatchBytes?: number;
  /** Per-batch time limit in ms; the worker is restarted when it expires. Default: none. */
  readonly timeoutMs?: number;
  /** Re-sends of a batch whose worker died. Default: the pool's `retries` (1). */
  readonly retries?: number;
  /**
   * A worker whose resident memory passes this many MiB while it runs this UDF's `init` or one of its
   * batches is killed and replaced; the batch fails with a WorkerCrashedError naming the limit (after its
   * retries). Default: none beyond the pool's `memoryLimitMb`.
   */
  readonly memoryLimitMb?: number;
  /** `call()`/`callTable()`: flush a shared batch once this many rows wait. Default 1024. */
  readonly maxBatchRows?: number;
  /** `call()`/`callTable()`: flush a shared batch this long after its first row arrived. Default 2 ms. */
  readonly maxDelayMs?: number;
  /**
   * `apply` gets dictionary-encoded input columns as they are, instead of decoded to their values.
   * Default false: plain types at the boundary, as Spark's Arrow UDFs give them (apache-arrow's
   * `tableFromArrays` encodes strings as dictionaries, which pandas would see as Categoricals).
   */
  readonly keepDictionaries?: boolean;
}

/** @internal settings of a registered UDF, with defaults applied. */
export interface UdfSettings {
  readonly name: string;
  readonly input: Schema | undefined;
  readonly output: Schema | undefined;
  readonly batchSize: number;
  readonly maxBatchBytes: number;
  readonly timeoutMs: number | undefined;
  readonly retries: number;
  readonly maxBatchRows: number;
  readonly maxDelayMs: number;
  readonly keepDictionaries: boolean;
}

export const DEFAULT_BATCH_SIZE = 65_536;
export const DEFAULT_MAX_BATCH_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_BATCH_ROWS = 1024;
export const DEFAULT_MAX_DELAY_MS = 2;

let inlineCounter = 0;

/** The UDF module every saved model runs through: `init(conf)` loads it with `pyudf.builtins`, `apply` predicts. */
export const BUILTIN_UDF_MODULE = path.join(PYTHON_PACKAGE_ROOT, 'pyudf', 'builtins', 'udf.py');

const SAVED_MODEL_KEYS = ['format', 'signature', 'method'] as const;

/** The `conf` the built-in loader's `init` gets (python/pyudf/builtins/udf.py). */
export interface SavedModelConf {
  readonly path: string;
  readonly format: ModelFormat | null;
  readonly signature: string | null;
  readonly method: 'predict' | 'predict_proba' | null;
  readonly [key: string]: JsonValue;
}

function savedModel(options: RegisterOptions<TypeMap, TypeMap>): SavedModelConf {
  const { model, format, signature, method } = options;
  if (typeof model !== 'string' || model === '') throw new InvalidOptionError('model', 'must be the path of a saved model file or directory');
  const modelPath = path.resolve(model);
  if (!existsSync(modelPath)) {
    throw new InvalidOptionError('model', `no such file or directory: ${modelPath} (paths are relative to the current directory ${process.cwd()})`);
  }
  if (format !== undefined && !MODEL_FORMATS.includes(format)) {
    throw new InvalidOptionError('format', `must be one of ${MODEL_FORMATS.map((f) => `'${f}'`).join(', ')}, got ${JSON.stringify(format)}`);
  }
  if (signature !== undefined && (typeof signature !== 'string' || signature === '')) throw new InvalidOptionError('signature', 'must be a SavedModel signature name');
  if (method !== undefined && method !== 'predict' && method !== 'predict_proba') {
    throw new InvalidOptionError('method', `must be 'predict' or 'predict_proba', got ${JSON.stringify(method)}`);
  }
  return { path: modelPath, format: format ?? null, signature: signature ?? null, method: method ?? null };
}

/** The default name of a saved model: its file name without the extension (`digits.keras` → `digits`). */
export function savedModelName(modelPath: string): string {
  const base = path.basename(modelPath);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

/** `conf` with `conf.artifacts` set to the absolute path of each artifact (protocol.md §9.4). */
function withArtifacts(conf: JsonValue | undefined, artifacts: RegisterOptions['artifacts']): JsonValue {
  if (artifacts === undefined) return conf ?? null;
  if (typeof artifacts !== 'object' || artifacts === null || Array.isArray(artifacts)) {
    throw new InvalidOptionError('artifacts', 'must be an object of names to file or directory paths');
  }
  if (conf !== undefined && conf !== null && (typeof conf !== 'object' || Array.isArray(conf))) {
    throw new InvalidOptionError('conf', 'must be an object (or absent) when "artifacts" is given: init finds them in conf.artifacts');
  }
  const base = (conf ?? {}) as { readonly [key: string]: JsonValue };
  if ('artifacts' in base) throw new InvalidOptionError('conf', 'must not have an "artifacts" key of its own when the "artifacts" option is given');
  const paths: Record<string, string> = {};
  for (const [name, given] of Object.entries(artifacts)) {
    if (name === '' || typeof given !== 'string' || given === '') throw new InvalidOptionError(`artifacts.${name}`, 'must be a non-empty path');
    const resolved = path.resolve(given);
    if (!existsSync(resolved)) {
      throw new InvalidOptionError(`artifacts.${name}`, `no such file or directory: ${resolved} (paths are relative to the current directory ${process.cwd()})`);
    }
    paths[name] = resolved;
  }
  return { ...base, artifacts: paths };
}

/** @internal validates register() options and builds the REGISTER message. */
export function resolveUdfSpec(options: RegisterOptions<TypeMap, TypeMap>, poolRetries: number): { spec: UdfSpec; settings: UdfSettings } {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('register', 'expects an options object');
  const { module, code, model } = options;
  if ([module, code, model].filter((v) => v !== undefined).length !== 1) {
    throw new InvalidOptionError('module', 'give exactly one of "module" (a .py file path), "code" (Python source) and "model" (a saved model)');
  }
  let modulePath: string | null = null;
  if (module !== undefined) {
    if (typeof module !== 'string' || module === '') throw new InvalidOptionError('module', 'must be a path to a .py file');
    modulePath = path.resolve(module);
    if (!existsSync(modulePath) || !statSync(modulePath).isFile()) {
      throw new InvalidOptionError('module', `no such file: ${modulePath} (paths are relative to the current directory ${process.cwd()})`);
    }
  } else if (code !== undefined && (typeof code !== 'string' || code.trim() === '')) {
    throw new InvalidOptionError('code', 'must be non-empty Python source');
  }
  const saved = model === undefined ? undefined : savedModel(options);
  if (saved) modulePath = BUILTIN_UDF_MODULE;
  else for (const key of SAVED_MODEL_KEYS) if (options[key] !== undefined) throw new InvalidOptionError(key, 'applies only with "model" (a saved model)');
  const name = options.name ?? (saved ? savedModelName(saved.path) : modulePath ? path.basename(modulePath, '.py') : `udf${++inlineCounter}`);
  if (saved) for (const key of ['init', 'apply', 'conf', 'artifacts'] as const) {
    if (options[key] !== undefined) throw new InvalidOptionError(key, 'does not apply to a saved "model": its built-in loader has its own hooks');
  }
  const init = options.init === undefined ? 'init' : options.init;
  const apply = options.apply ?? 'apply';
  if (typeof name !== 'string' || name === '') throw new InvalidOptionError('name', 'must be a non-empty string');
  if (init !== null && (typeof init !== 'string' || init === '')) throw new InvalidOptionError('init', 'must be a function name or null');
  if (typeof apply !== 'string' || apply === '') throw new InvalidOptionError('apply', 'must be a function name');
  const conf = saved ?? withArtifacts(options.conf, options.artifacts);
  let confJson: string;
  try {
    confJson = JSON.stringify(conf);
  } catch (cause) {
    throw new InvalidOptionError('conf', `must be JSON-serialisable: ${String(cause)}`);
  }
  const settings: UdfSettings = {
    name,
    // Schemas built with another copy of apache-arrow (require() in CommonJS) are rebuilt with ours.
    input: options.input && adoptSchema(options.input),
    output: options.output && adoptSchema(options.output),
    batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE,
    maxBatchBytes: options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES,
    timeoutMs: options.timeoutMs,
    retries: options.retries ?? poolRetries,
    maxBatchRows: options.maxBatchRows ?? DEFAULT_MAX_BATCH_ROWS,
    maxDelayMs: options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS,
    keepDictionaries: options.keepDictionaries ?? false,
  };
  if (typeof settings.keepDictionaries !== 'boolean') throw new InvalidOptionError('keepDictionaries', 'must be true or false');
  positiveInteger('maxBatchRows', settings.maxBatchRows);
  nonNegativeInteger('maxDelayMs', settings.maxDelayMs);
  positiveInteger('batchSize', settings.batchSize);
  positiveInteger('maxBatchBytes', settings.maxBatchBytes);
  nonNegativeInteger('retries', settings.retries);
  if (settings.timeoutMs !== undefined) positiveInteger('timeoutMs', settings.timeoutMs);
  if (options.memoryLimitMb !== undefined) positiveInteger('memoryLimitMb', options.memoryLimitMb);
  if (options.instances !== undefined) positiveInteger('instances', options.instances);
  const spec: UdfSpec = {
    name, module: modulePath, code: code ?? null, init, apply, conf: JSON.parse(confJson) as unknown,
    // The worker casts result columns that differ from it only losslessly (int32 where int64 is declared).
    output: settings.output ? Buffer.from(tableToIPC(new Table(settings.output), 'stream')).toString('base64') : null,
    memoryLimitMb: options.memoryLimitMb ?? null,
    instances: options.instances ?? null,
    keep_dictionaries: settings.keepDictionaries,
  };
  return { spec, settings };
}
