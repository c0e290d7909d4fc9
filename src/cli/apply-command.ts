// `pyudf apply model.py --input FILE --output FILE`: streams a table file through the pool in bounded memory.
import { type Command, Option } from 'commander';
import { TABLE_FORMATS } from '../files/format.js';
import type { ApplyFlags } from './apply-run.js';
import { afterHelp } from './help-text.js';
import { parseKeep } from './keep-flags.js';
import { addUdfFlags, MODULE_ARGUMENT, parsePositiveInteger } from './udf-options.js';

export function applyCommand(program: Command): Command {
  const command = program.command('apply')
    .summary('run a UDF over a Parquet, CSV or Arrow file')
    .description('Streams a table file through the UDF on a pool of Python workers and writes the results, in input order.\n\n' +
      'Memory stays bounded whatever the file size: batches are read, computed and written a few at a time.')
    .argument('<module.py>', MODULE_ARGUMENT)
    .requiredOption('-i, --input <file>', 'table to read: .parquet, .csv, .arrow or .feather (Arrow IPC file or stream); - reads an Arrow IPC stream from stdin')
    .requiredOption('-o, --output <file>', 'where to write: .parquet, .csv, .arrow (Arrow IPC file), .arrows (Arrow IPC stream); - writes an Arrow IPC stream to stdout')
    .addOption(new Option('--input-format <format>', 'override the format the extension implies').choices(TABLE_FORMATS))
    .addOption(new Option('--output-format <format>', 'override the format the extension implies').choices(TABLE_FORMATS))
    .addOption(new Option('--keep <columns>', 'copy these input columns (comma-separated; repeatable) into the output, before the UDF\'s columns')
      .argParser(parseKeep))
    .addOption(new Option('--keep-all', 'copy every input column into the output, before the UDF\'s columns').conflicts('keep'))
    .addOption(new Option('--max-in-flight <n>', 'batches being computed or waiting to be written at once (default: 2 per worker)').argParser(parsePositiveInteger))
    .option('--no-progress', 'no progress bar or progress lines on stderr');
  addUdfFlags(command);
  command.addHelpText('after', afterHelp(`
Examples:
  pyudf apply model.py -i data.parquet -o scored.parquet --conf threshold=0.5
  pyudf apply model.py -i data.csv -o scored.csv --workers 4 --batch-size 10000
  pyudf apply model.py -i data.csv -o scored.csv --keep id,ts
  producer | pyudf apply model.py -i - -o - | consumer    (Arrow IPC streams)

Input is read as it is needed: Parquet and CSV --batch-size rows at a time, Arrow batch by batch. CSV column types are inferred from the first --batch-size rows: true/false, integers (int64), numbers (float64), anything else text; an empty field is null. Output files are written beside the target and renamed into place when complete.

--keep id,ts puts the input's id and ts columns in the output, row for row beside what the UDF returns for that row; --keep-all puts every input column there. Kept columns come first, in the order named (--keep) or of the input (--keep-all), then the UDF's columns. A kept name the input lacks, or one the UDF also returns, is a usage error. A module that declares INPUT is then given only its declared columns, so columns it does not declare can be carried past it.

Ctrl-C (SIGINT) or SIGTERM stops the run: the partial output is removed, batches still computing get a second to finish before their workers are killed, and pyudf exits 130. A second Ctrl-C exits at once.`));
  return command.action(async (module: string, flags: ApplyFlags): Promise<void> => {
    // Loaded on use, so `--help` and the other subcommands start without apache-arrow and the pool.
    const { runApply } = await import('./apply-run.js');
    process.exitCode = await runApply(module, flags);
  });
}
