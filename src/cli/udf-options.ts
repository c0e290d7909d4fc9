// The flags apply and serve share (--conf, --workers, --python, --init, --apply, --batch-size,
// --timeout-ms), and how they become createPool() and register() options.
import path from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { InvalidOptionError } from '../errors.js';
import type { PoolOptions, RayPoolOptions } from '../pool/options.js';
import { findPython } from '../python/find-python.js';
import type { JsonValue, RegisterOptions } from '../udf/register-options.js';

/** What commander parses the shared flags into. */
export interface UdfFlags {
  readonly conf: Readonly<Record<string, JsonValue>>;
  readonly workers?: number;
  readonly python?: string;
  readonly init?: string;
  readonly apply?: string;
  readonly batchSize?: number;
  readonly timeoutMs?: number;
  readonly name?: string;
  /** --ray [address]: true (no address) starts a local Ray. */
  readonly ray?: string | true;
  readonly actors?: number;
}

/** The <module.py> argument's help. */
export const MODULE_ARGUMENT = 'the Python file (.py) defining apply(state, batch), and optionally init(conf)';

/** The --python flag's help, for every command. */
export const PYTHON_FLAG = 'the Python interpreter (default: $PYUDF_PYTHON, else the nearest .venv above the current ' +
  'directory, then the nearest above the module, else python3 on PATH)';

/** The interpreter for `module`: --python, $PYUDF_PYTHON, the nearest .venv above the current directory, then above the module's. */
export function pythonFor(module: string | undefined, python: string | undefined): ReturnType<typeof findPython> {
  return findPython(python, module === undefined ? {} : { moduleDir: path.dirname(path.resolve(module)) });
}

/** `key=value`; the value is JSON when it parses as JSON (`3`, `true`, `[1,2]`, `"x"`), else the text. */
export function parseConf(text: string, previous: Record<string, JsonValue> = {}): Record<string, JsonValue> {
  const equals = text.indexOf('=');
  if (equals <= 0) throw new InvalidArgumentError(`expected key=value, got "${text}"`);
  const key = text.slice(0, equals);
  const raw = text.slice(equals + 1);
  let value: JsonValue;
  try {
    value = JSON.parse(raw) as JsonValue;
  } catch {
    value = raw;
  }
  return { ...previous, [key]: value };
}

export function parsePositiveInteger(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError(`expected a whole number of 1 or more, got "${text}"`);
  }
  return value;
}

export function parseNonNegativeInteger(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value)) {
    throw new InvalidArgumentError(`expected a whole number of 0 or more, got "${text}"`);
  }
  return value;
}

/** Adds the shared flags to `command`. */
export function addUdfFlags(command: Command): Command {
  return command
    .addOption(new Option('--conf <key=value>', 'a key of the JSON object passed to init(conf); repeatable; the value is parsed as JSON if it parses, else kept as text')
      .argParser(parseConf).default({}, '{}'))
    .addOption(new Option('--workers <n>', 'Python worker processes (default: number of cores)').argParser(parsePositiveInteger))
    .option('--python <path>', PYTHON_FLAG)
    .option('--init <name>', 'name of the init hook (default: init, optional in the module)')
    .option('--apply <name>', 'name of the apply hook (default: apply)')
    .addOption(new Option('--batch-size <rows>', 'most rows per batch sent to a worker (default: 65536)').argParser(parsePositiveInteger))
    .addOption(new Option('--timeout-ms <ms>', 'time limit per batch; a worker past it is killed and replaced, and the batch fails (default: none)')
      .argParser(parsePositiveInteger))
    .option('--ray [address]', 'run the UDF on Ray actors: the cluster at ADDRESS (host:port of its head, or ray://host:10001), or without one a local Ray the command starts and stops')
    .addOption(new Option('--actors <n>', 'with --ray: how many actors (default: the cluster\'s CPUs, one each)').argParser(parsePositiveInteger));
}

/** createPool() options, local workers or Ray actors; the interpreter is looked for near the module too (pythonFor). */
export function poolOptions(module: string, flags: UdfFlags): PoolOptions | RayPoolOptions {
  const python = pythonFor(module, flags.python).python;
  if (flags.ray === undefined) {
    if (flags.actors !== undefined) throw new InvalidOptionError('--actors', 'applies with --ray only; local workers are --workers');
    return { ...(flags.workers === undefined ? {} : { workers: flags.workers }), python };
  }
  if (flags.workers !== undefined) throw new InvalidOptionError('--workers', 'with --ray, give the number of actors as --actors');
  return {
    python,
    backend: {
      type: 'ray',
      ...(flags.ray === true ? {} : { address: flags.ray }),
      ...(flags.actors === undefined ? {} : { actors: flags.actors }),
    },
  };
}

export function registerOptions(module: string, flags: UdfFlags): RegisterOptions & { name: string } {
  return {
    module,
    name: flags.name ?? path.basename(module, '.py'),
    conf: flags.conf,
    ...(flags.init === undefined ? {} : { init: flags.init }),
    ...(flags.apply === undefined ? {} : { apply: flags.apply }),
    ...(flags.batchSize === undefined ? {} : { batchSize: flags.batchSize }),
    ...(flags.timeoutMs === undefined ? {} : { timeoutMs: flags.timeoutMs }),
  };
}

/**
 * register() options plus the schemas the module declares (module-level INPUT/OUTPUT or the
 * @schemas.udf decorator), so the input is checked, the output verified and the server's metadata true.
 */
export async function declaredRegisterOptions(module: string, flags: UdfFlags): Promise<RegisterOptions & { name: string }> {
  const { readDeclaredSchemas } = await import('../types-gen/read-schemas.js');
  const { python } = pythonFor(module, flags.python);
  const { input, output } = await readDeclaredSchemas(python, module, flags.apply ?? 'apply');
  return {
    ...registerOptions(module, flags),
    ...(input === undefined ? {} : { input }),
    ...(output === undefined ? {} : { output }),
  };
}
