// `pyudf types model.py [--out FILE]`: a TypeScript module of the UDF's row types, from its declared schemas.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { InvalidInputError } from '../errors.js';
import { afterHelp } from './help-text.js';
import { requireModule } from './module-arg.js';
import { PYTHON_FLAG, pythonFor } from './udf-options.js';

interface TypesFlags {
  readonly out?: string;
  readonly python?: string;
  readonly apply?: string;
}

export function typesCommand(program: Command): Command {
  return program.command('types')
    .summary('print TypeScript row types for a UDF, from the schemas its Python file declares')
    .description('Imports the Python file (without calling init) and turns its declared schemas into a TypeScript module ' +
      'exporting Input/Output row types and inputSchema/outputSchema, so that register() is typed without hand-written generics.')
    .argument('<module.py>', 'the Python file (.py) declaring the schemas')
    .option('--out <file.ts>', 'write the module to this file instead of stdout')
    .option('--python <path>', PYTHON_FLAG)
    .option('--apply <name>', 'name of the apply hook the decorator is looked for on', 'apply')
    .addHelpText('after', afterHelp(`
Declare the schemas in the Python file in either way:

  import pyarrow as pa
  INPUT = pa.schema([("x", pa.float64()), ("label", pa.string())])
  OUTPUT = pa.schema([("score", pa.float64())])

or with the optional decorator (pyudf is on the workers' path, so this import works there too):

  from pyudf import schemas
  @schemas.udf(input=pa.schema([...]), output=pa.schema([...]))
  def apply(state, batch): ...

Then, in TypeScript:

  import { inputSchema, outputSchema } from './model.types.js';
  const udf = await pool.register({
    module: 'model.py', input: inputSchema, output: outputSchema,
  });
  const result = await udf.apply(table); // Table<Output>`))
    .action(async (module: string, flags: TypesFlags): Promise<void> => {
      requireModule(module);
      // Loaded on use: apache-arrow is needed only here.
      const [{ generateTypes }, { readDeclaredSchemas }] = await Promise.all([
        import('../types-gen/generate.js'), import('../types-gen/read-schemas.js'),
      ]);
      const { python } = pythonFor(module, flags.python);
      const schemas = await readDeclaredSchemas(python, module, flags.apply ?? 'apply');
      if (!schemas.input && !schemas.output) {
        throw new InvalidInputError(`${module} declares no schemas: define module-level INPUT and OUTPUT pyarrow schemas ` +
          '(INPUT = pa.schema([("x", pa.float64())])), or decorate apply with @schemas.udf(input=..., output=...) from pyudf');
      }
      const source = generateTypes(schemas, path.basename(module));
      for (const [side, schema] of [['INPUT', schemas.input], ['OUTPUT', schemas.output]] as const) {
        if (!schema) process.stderr.write(`pyudf: ${module} declares no ${side} schema; the module leaves that side out\n`);
      }
      if (flags.out) {
        await writeFile(flags.out, source);
        process.stderr.write(`pyudf: wrote ${flags.out}\n`);
      } else {
        process.stdout.write(source);
      }
    });
}
