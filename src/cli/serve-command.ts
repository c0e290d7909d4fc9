// `pyudf serve model.py`: serves the UDF over HTTP (src/serve) until SIGINT/SIGTERM.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { LOG_FORMATS, type LogFormat } from './access-log.js';
import { afterHelp } from './help-text.js';
import { requireModule } from './module-arg.js';
import {
  addUdfFlags, declaredRegisterOptions, MODULE_ARGUMENT, parseNonNegativeInteger, parsePositiveInteger, poolOptions, type UdfFlags,
} from './udf-options.js';

interface ServeFlags extends UdfFlags {
  readonly port: number;
  readonly host: string;
  readonly maxBatchRows?: number;
  readonly maxDelayMs?: number;
  readonly logFormat: LogFormat;
  readonly exposeErrors: boolean;
}

export function serveCommand(program: Command): Command {
  const command = program.command('serve')
    .summary('serve a UDF over HTTP')
    .description('Starts a pool, registers the UDF and serves it over HTTP (the Open Inference Protocol, KServe v2) ' +
      'until SIGINT or SIGTERM, which let in-flight requests finish first.')
    .argument('<module.py>', MODULE_ARGUMENT)
    .option('--name <name>', 'the model name in URLs (default: the file name without .py)')
    .option('--port <port>', 'TCP port; 0 picks a free one', parsePort, 8000)
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

Requests are answered at /v2/models/NAME/infer, /v2/health/ready and /metrics. A 500 answer names the Python exception's type and the request's id (with --expose-errors, its message too); the traceback goes to the server's log on stderr, never to the client.

--log-format json writes one object per request: time, method, path, status, bytes (of the body), duration_ms and model (null for endpoints about no model). common writes Apache's common log format. Requests whose client leaves before the answer is complete are not logged.`));
  return command.action(async (module: string, flags: ServeFlags): Promise<void> => {
    requireModule(module);
    // Loaded on use, so the other subcommands start without the HTTP server and the pool.
    const [{ createServer, installSignalHandlers }, { accessLog }] = await Promise.all([
      import('../serve/index.js'), import('./access-log.js'),
    ]);
    const model = await declaredRegisterOptions(module, flags);
    const server = createServer({
      model: {
        ...model,
        ...(flags.maxBatchRows === undefined ? {} : { maxBatchRows: flags.maxBatchRows }),
        ...(flags.maxDelayMs === undefined ? {} : { maxDelayMs: flags.maxDelayMs }),
      },
      poolOptions: poolOptions(module, flags),
      port: flags.port,
      host: flags.host,
      exposeErrors: flags.exposeErrors,
      ...(flags.logFormat === 'off' ? {} : { onRequest: accessLog(flags.logFormat)! }),
    });
    // Before listen(): a Ctrl-C while the workers load must stop them too. The handlers drain
    // in-flight requests and exit 0, the normal end of a server.
    installSignalHandlers(server);
    const { url } = await server.listen();
    process.stderr.write(`pyudf: serving ${flags.name ?? module} at ${url} (Ctrl-C to stop)\n`);
  });
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535) throw new InvalidArgumentError(`expected a port from 0 to 65535, got "${text}"`);
  return port;
}
