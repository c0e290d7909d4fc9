// A repository model's config.json: what register() gets for each of its versions, checked key by key.
import { readFileSync } from 'node:fs';
import { Field, Schema } from 'apache-arrow';
import { InvalidOptionError } from '../../errors.js';
import type { JsonValue, ModelFormat, RegisterOptions } from '../../udf/register-options.js';
import { defaultArrowType, isOipDatatype } from '../datatypes.js';
import { parseVersionPolicy, type VersionPolicy } from './version-policy.js';

/** config.json, as read (every key optional). */
export interface ModelConfig {
  /** The saved model's file or directory inside each version directory. Default: `model.py` if there, else the one saved model found. */
  readonly model?: string;
  readonly format?: ModelFormat;
  readonly signature?: string;
  readonly method?: 'predict' | 'predict_proba';
  /** For a `model.py`: its hooks and the `conf` its init gets. */
  readonly init?: string | null;
  readonly apply?: string;
  readonly conf?: JsonValue;
  readonly instances?: number;
  /** How concurrent requests share batches: `{ "maxBatchRows": 1024, "maxDelayMs": 2 }`. */
  readonly batching?: { readonly maxBatchRows?: number; readonly maxDelayMs?: number };
  readonly batchSize?: number;
  readonly timeoutMs?: number;
  readonly retries?: number;
  readonly memoryLimitMb?: number;
  readonly keepDictionaries?: boolean;
  /** Declared tensors, as the model metadata lists them: `[{ "name": "x", "datatype": "FP32", "shape": [-1, 64] }]`. */
  readonly input?: readonly TensorConfig[];
  readonly output?: readonly TensorConfig[];
  /** Which versions load; overrides the server's policy for this model. */
  readonly versionPolicy?: VersionPolicy;
}

export interface TensorConfig {
  readonly name: string;
  readonly datatype: string;
  /** The first dimension is the rows: -1. */
  readonly shape: readonly number[];
}

const KEYS = [
  'model', 'format', 'signature', 'method', 'init', 'apply', 'conf', 'instances', 'batching', 'batchSize', 'timeoutMs',
  'retries', 'memoryLimitMb', 'keepDictionaries', 'input', 'output', 'versionPolicy',
] as const;

/** Reads and checks `file`; an absent file is an empty config. Throws InvalidOptionError naming the file and key. */
export function readModelConfig(file: string): ModelConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new InvalidOptionError(file, `is not valid JSON: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InvalidOptionError(file, 'must hold a JSON object');
  const unknown = Object.keys(json).filter((key) => !(KEYS as readonly string[]).includes(key));
  if (unknown.length > 0) throw new InvalidOptionError(file, `has unknown key(s) ${unknown.map((k) => `"${k}"`).join(', ')}; known keys: ${KEYS.join(', ')}`);
  const config = json as ModelConfig;
  if (config.versionPolicy !== undefined) parseVersionPolicy(config.versionPolicy, `${file}: versionPolicy`);
  if (config.model !== undefined && (typeof config.model !== 'string' || config.model === '' || config.model.includes('..'))) {
    throw new InvalidOptionError(`${file}: model`, 'must be a file or directory name inside the version directory');
  }
  const batching = config.batching;
  if (batching !== undefined && (typeof batching !== 'object' || batching === null || Object.keys(batching).some((k) => k !== 'maxBatchRows' && k !== 'maxDelayMs'))) {
    throw new InvalidOptionError(`${file}: batching`, 'must be an object with "maxBatchRows" and/or "maxDelayMs"');
  }
  return config;
}

/** register() options for one version: `source` is its `model.py` or saved model; register() checks the values. */
export function registerOptions(config: ModelConfig, source: { module: string } | { model: string }, name: string, file: string): RegisterOptions {
  const { input, output, batching, versionPolicy: _policy, model: _model, format, signature, method, init, apply, conf, ...rest } = config;
  // A model's versions may differ in kind (version 1 a model.py, version 2 a saved model): each takes the keys that fit it.
  const hooks = 'module' in source ? { init, apply, conf } : { format, signature, method };
  return {
    ...rest,
    ...Object.fromEntries(Object.entries(hooks).filter(([, value]) => value !== undefined)),
    ...source,
    name,
    ...(batching?.maxBatchRows !== undefined ? { maxBatchRows: batching.maxBatchRows } : {}),
    ...(batching?.maxDelayMs !== undefined ? { maxDelayMs: batching.maxDelayMs } : {}),
    ...(input ? { input: tensorSchema(input, `${file}: input`) } : {}),
    ...(output ? { output: tensorSchema(output, `${file}: output`) } : {}),
  };
}

/** Declared tensors to the Arrow schema register() takes: [-1, d1, …] becomes fixed-size lists of d1, …. */
export function tensorSchema(tensors: readonly TensorConfig[], where: string): Schema {
  if (!Array.isArray(tensors)) throw new InvalidOptionError(where, 'must be an array of {"name", "datatype", "shape"}');
  return new Schema(tensors.map((tensor, i) => {
    const { name, datatype, shape } = tensor ?? {};
    if (typeof name !== 'string' || name === '') throw new InvalidOptionError(`${where}[${i}].name`, 'must be a non-empty string');
    if (!isOipDatatype(datatype)) throw new InvalidOptionError(`${where}[${i}].datatype`, `must be an Open Inference Protocol datatype (FP32, INT64, BYTES, …), got ${JSON.stringify(datatype)}`);
    if (!Array.isArray(shape) || shape.length === 0 || shape[0] !== -1 || !shape.slice(1).every((d) => Number.isInteger(d) && d > 0)) {
      throw new InvalidOptionError(`${where}[${i}].shape`, `must be [-1, d1, …] with positive d (the first dimension is the rows), got ${JSON.stringify(shape)}`);
    }
    return new Field(name, defaultArrowType(datatype, shape.slice(1)), true);
  }));
}
