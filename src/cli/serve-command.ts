// `pyudf serve model.py`: serves the UDF over HTTP (src/serve) until SIGINT/SIGTERM.
import { type Command, InvalidArgumentError } from 'commander';
import { requireModule } from './module-arg.js';
import { addUdfFlags, declaredRegisterOptions, poolOptions, type UdfFlags } from './udf-options.js';

interface ServeFlags extends UdfFlags {
  readonly port: number;
  readonly host: string;
}

export function serveCommand(program: Command): Command {
  const command = program.command('serve')
    .summary('serve a UDF over HTTP')
    .description('Starts a pool, registers the UDF and serves it over HTTP until interrupted (SIGINT/SIGTERM drain in-flight requests first).')
    .argument('<module.py>', 'the Python file defining apply(state, batch) (and optionally init(conf))')
    .option('--name <name>', 'the model name in URLs (default: the file name without .py)')
    .option('--port <port>', 'TCP port (0 picks a free one)', parsePort, 8000)
    .option('--host <host>', 'interface to listen on (0.0.0.0 for every interface)', '127.0.0.1');
  addUdfFlags(command);
  return command.action(async (module: string, flags: ServeFlags): Promise<void> => {
    requireModule(module);
    // Loaded on use, so the other subcommands start without the HTTP server and the pool.
    const { createServer, installSignalHandlers } = await import('../serve/index.js');
    const server = createServer({
      model: await declaredRegisterOptions(module, flags),
      poolOptions: poolOptions(flags),
      port: flags.port,
      host: flags.host,
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
