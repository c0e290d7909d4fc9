// The `pyudf` command line: subcommands, help, and errors turned into exit codes.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { applyCommand } from './apply-command.js';
import { doctorCommand } from './doctor-command.js';
import { type CommandName, COMMAND_EXIT_CODES, describeError, exitCodeFor, exitCodesHelp } from './exit-codes.js';
import { helpWidth, helpWidthFor as width } from './help-text.js';
import { serveCommand } from './serve-command.js';
import { typesCommand } from './types-command.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('pyudf')
    .description('Run Python UDFs (Keras, PyTorch, scikit-learn, ONNX, any Python) over Arrow data on a pool of workers.')
    .version(version(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    // Settings given before the subcommands exist are inherited by every one of them.
    .exitOverride()
    .configureOutput({
      writeErr: (text) => process.stderr.write(text),
      writeOut: (text) => process.stdout.write(text),
      // Help is wrapped at 80 columns at most (narrower on a narrower terminal), never to a wide terminal's width.
      getOutHelpWidth: () => helpWidth(process.stdout),
      getErrHelpWidth: () => helpWidth(process.stderr),
    })
    .addHelpText('after', ({ error }) => `\n${exitCodesHelp(undefined, width(error))}\n\nRun "pyudf <command> --help" for a command's flags.`);
  applyCommand(program);
  serveCommand(program);
  typesCommand(program);
  doctorCommand(program);
  for (const command of program.commands) {
    const name = command.name() as CommandName;
    if (!(name in COMMAND_EXIT_CODES)) throw new Error(`pyudf ${name}: its exit codes are not listed in exit-codes.ts`);
    command.addHelpText('after', ({ error }) => `\n${exitCodesHelp(name, width(error))}`);
  }
  return program;
}

/** Runs the CLI and resolves with the process's exit code; never throws. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    // Commander has already printed its own message (and the help hint) for usage errors.
    if (!(error instanceof CommanderError)) process.stderr.write(`${describeError(error)}\n`);
    return exitCodeFor(error);
  }
}
