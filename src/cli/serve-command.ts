// `pyudf serve model.py|m.keras|--repository dir`: serves a UDF, a saved model or a model repository over HTTP (and gRPC) until SIGINT/SIGTERM.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { InvalidOptionError } from '../errors.js';
import type { ServeOptions } from '../serve/options.js';
import { parseVersionPolicyFlag, type VersionPolicy } from '../serve/repository/version-policy.js';
import { MODEL_FORMATS, type ModelFormat, type RegisterOptions } from '../udf/register-options.js';
import { LOG_FORMATS, type LogFormat } from './access-log.js';
import { afterHelp } from './help-text.js';
import { requireModule, requireSavedModel } from './module-arg.js';
import {
  addUdfFlags, declaredRegisterOptions, parseNonNegativeInteger, parsePositiveInteger, poolOptions, pythonFor, type UdfFlags,
} from './udf-options.js';

interface ServeFlags extends UdfFlags {
  readonly port: number;
  readonly host: string;
  readonly grpcPort?: number;
  readonly maxBatchRows?: number;
  readonly maxDelayMs?: number;
  readonly logFormat: LogFormat;
  readonly exposeErrors: boolean;
  readonly repository?: string;
  readonly versionPolicy?: VersionPolicy;
  readonly pollMs?: number;
  readonly format?: ModelFormat;
  readonly signature?: string;
  readonly method?: 'predict' | 'predict_proba';
  readonly instances?: number;
}

export function serveCommand(program: Command): Command {
  const command = program.command('serve')
    .summary('serve a UDF, a saved model or a model repository over HTTP and gRPC')
    .description('Starts a pool, registers the UDF, saved model or every model of a repository and serves them over HTTP ' +
      '(the Open Inference Protocol, KServe v2), and gRPC with --grpc-port, until SIGINT or SIGTERM, which let in-flight requests finish first.')
    .argument('[model]', 'a Python file (.py) defining apply(state, batch) and optionally init(conf), or a saved model ' +
      '(.keras, .h5, a SavedModel directory, .joblib, .onnx, .pt); omit it with --repository')
    .option('--repository <dir>', 'serve every model of a repository: DIR/NAME/VERSION/ holding a model.py or a saved model, config.json beside the versions')
    .addOption(new Option('--version-policy <policy>', 'with --repository: which versions load, latest:N, all or specific:V1,V2 (default: latest:1; a model\'s config.json may say otherwise)')
      .argParser(parseVersionPolicyFlag))
    .addOption(new Option('--poll-ms <ms>', 'with --repository: look for new and removed versions this often and load or unload them (default: 0, only at start and on a load request)')
      .argParser(parseNonNegativeInteger))
    .addOption(new Option('--name <name>', 'the model name in URLs (default: the file name without its extension)').argParser(parseModelName))
    .addOption(new Option('--format <format>', 'the saved model\'s format, when its name does not say it').choices(MODEL_FORMATS))
    .option('--signature <name>', 'a SavedModel\'s signature (default: serving_default)')
    .addOption(new Option('--method <method>', 'a scikit-learn or XGBoost estimator\'s method (default: predict)').choices(['predict', 'predict_proba']))
    .addOption(new Option('--instances <n>', 'workers that load the model (default: every worker)').argParser(parsePositiveInteger))
    .option('--port <port>', 'TCP port; 0 picks a free one', parsePort, 8000)
    .option('--grpc-port <port>', 'also serve the KServe v2 gRPC inference service on this port; 0 picks a free one (default: no gRPC)', parsePort)
    .option('--host <host>', 'interface to listen on; 0.0.0.0 for every interface', '127.0.0.1')
    .addOption(new Option('--max-batch-rows <n>', 'concurrent requests share a batch until it holds this many rows (default: 1024)')
      .argParser(parsePositiveInteger))
    .addOption(new Option('--max-delay-ms <ms>', 'longest a request waits for others to share its batch; 0 sends at once (default: 2)')
      .argParser(parseNonNegativeInteger))
    .addOption(new Option('--log-format <format>', 'an access-log line on stdout per request: off, common (Apache\'s) or json')
      .choices(LOG_FORMATS).default('off'))
    .option('--expose-errors', 'put the Python exception\'s type and message in 500 answers (default: the type only)', false);
  addUdfFlags(command);
  command.addHelpText('after', afterHelp(`
Examples:
  pyudf serve model.py --port 8080 --workers 4 --conf threshold=0.5
  pyudf serve model.py --max-batch-rows 256 --max-delay-ms 5 --log-format json
  pyudf serve digits.keras --grpc-port 8001
  pyudf serve --repository models --version-policy latest:2 --poll-ms 2000

Requests are answered at /v2/models/NAME/infer, /v2/health/ready and /metrics. A 500 answer names the Python exception's type and the request's id (with --expose-errors, its message too); the traceback goes to the server's log on stderr, never to the client.

--log-format json writes one object per request: time, method, path, status, bytes (of the body), duration_ms and model (null for endpoints about no model). common writes Apache's common log format. Requests whose client leaves before the answer is complete are not logged.`));
  return command.action(async (model: string | undefined, flags: ServeFlags): Promise<void> => {
    const served = whatToServe(model, flags);
    // Loaded on use, so the other subcommands start without the HTTP server and the pool.
    const [{ createServer, installSignalHandlers }, { accessLog }] = await Promise.all([
      import('../serve/index.js'), import('./access-log.js'),
    ]);
    const server = createServer({
      ...await served(),
      port: flags.port,
      host: flags.host,
      ...(flags.grpcPort === undefined ? {} : { grpcPort: flags.grpcPort }),
      exposeErrors: flags.exposeErrors,
      ...(flags.logFormat === 'off' ? {} : { onRequest: accessLog(flags.logFormat)! }),
    });
    // Before listen(): a Ctrl-C while the workers load must stop them too. The handlers drain
    // in-flight requests and exit 0, the normal end of a server.
    installSignalHandlers(server);
    const { url } = await server.listen();
    const grpc = server.grpcPort === undefined ? '' : ` and gRPC on port ${server.grpcPort}`;
    process.stderr.write(`pyudf: serving ${flags.repository ?? flags.name ?? model} at ${url}${grpc} (Ctrl-C to stop)\n`);
  });
}

/** Flags that only a Python module (not a saved model or a repository) takes. */
const MODULE_ONLY = ['init', 'apply'] as const;
const SAVED_MODEL_ONLY = ['format', 'signature', 'method'] as const;
const REPOSITORY_ONLY = ['versionPolicy', 'pollMs'] as const;

type Served = Pick<ServeOptions, 'model' | 'repository' | 'poolOptions'>;

/** Checks the argument and flags at once (a usage error exits 2), and returns how to build the server's model options. */
function whatToServe(model: string | undefined, flags: ServeFlags): () => Promise<Served> {
  const flagName = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const refuse = (keys: readonly string[], why: string): void => {
    for (const key of keys) if ((flags as unknown as Record<string, unknown>)[key] !== undefined) throw new InvalidOptionError(flagName(key), why);
  };
  // One port cannot take both: the gRPC listen would fail after the HTTP one, with grpc-js's own wording.
  if (flags.grpcPort !== undefined && flags.grpcPort === flags.port && flags.port !== 0) {
    throw new InvalidOptionError('--grpc-port', `must differ from --port (both are ${flags.port}): HTTP and gRPC each listen on a port of their own`);
  }
  const workers = flags.workers === undefined ? {} : { workers: flags.workers };
  if (flags.repository !== undefined) {
    if (model !== undefined) throw new InvalidOptionError('--repository', `serves every model of the repository: give it or a model (${model}), not both`);
    refuse([...MODULE_ONLY, ...SAVED_MODEL_ONLY, 'name', 'instances', 'batchSize', 'timeoutMs', 'maxBatchRows', 'maxDelayMs'], 'applies to one model; with --repository, set it in the model\'s config.json');
    if (Object.keys(flags.conf).length > 0) throw new InvalidOptionError('--conf', 'applies to one model; with --repository, set "conf" in the model\'s config.json');
    const repository = path.resolve(flags.repository);
    if (!existsSync(repository)) throw new InvalidOptionError('--repository', `no such directory: ${repository}`);
    const options: Served = {
      repository: {
        path: repository,
        ...(flags.versionPolicy === undefined ? {} : { versionPolicy: flags.versionPolicy }),
        ...(flags.pollMs === undefined ? {} : { pollMs: flags.pollMs }),
      },
      poolOptions: { ...workers, python: pythonFor(path.join(repository, 'model.py'), flags.python).python },
    };
    return () => Promise.resolve(options);
  }
  if (model === undefined) throw new InvalidOptionError('[model]', 'give a Python file or a saved model to serve, or --repository DIR');
  refuse(REPOSITORY_ONLY, 'applies with --repository only');
  const batching = {
    ...(flags.maxBatchRows === undefined ? {} : { maxBatchRows: flags.maxBatchRows }),
    ...(flags.maxDelayMs === undefined ? {} : { maxDelayMs: flags.maxDelayMs }),
    ...(flags.instances === undefined ? {} : { instances: flags.instances }),
  };
  if (path.extname(model) === '.py') {
    refuse(SAVED_MODEL_ONLY, 'applies to a saved model, not a Python file');
    requireModule(model);
    return async () => ({ model: { ...await declaredRegisterOptions(model, flags), ...batching }, poolOptions: poolOptions(model, flags) });
  }
  refuse(MODULE_ONLY, 'applies to a Python file; a saved model\'s built-in loader has its own hooks');
  if (Object.keys(flags.conf).length > 0) throw new InvalidOptionError('--conf', 'applies to a Python file; a saved model\'s built-in loader takes none');
  const saved = requireSavedModel(model, flags.format);
  // The loader would refuse these only once a worker runs it (exit 1, after the pool started): say so now.
  if (flags.signature !== undefined && saved.format !== 'savedmodel') {
    throw new InvalidOptionError('--signature', `applies to a TensorFlow SavedModel; ${model} is ${saved.format}`);
  }
  if (flags.method !== undefined && saved.format !== 'sklearn' && saved.format !== 'xgboost') {
    throw new InvalidOptionError('--method', `applies to a scikit-learn or XGBoost model; ${model} is ${saved.format}`);
  }
  const options: RegisterOptions = {
    model: saved.path,
    ...(flags.name === undefined ? {} : { name: flags.name }),
    ...(flags.format === undefined ? {} : { format: flags.format }),
    ...(flags.signature === undefined ? {} : { signature: flags.signature }),
    ...(flags.method === undefined ? {} : { method: flags.method }),
    ...(flags.batchSize === undefined ? {} : { batchSize: flags.batchSize }),
    ...(flags.timeoutMs === undefined ? {} : { timeoutMs: flags.timeoutMs }),
    ...batching,
  };
  return () => Promise.resolve({ model: options, poolOptions: poolOptions(model, flags) });
}

/** A model name as createServer() takes it (model.name): it goes into URLs unescaped. */
function parseModelName(text: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(text)) throw new InvalidArgumentError(`expected a URL-safe name (letters, digits, _ . -), got "${text}"`);
  return text;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535) throw new InvalidArgumentError(`expected a port from 0 to 65535, got "${text}"`);
  return port;
}
