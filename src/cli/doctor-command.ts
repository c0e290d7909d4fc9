// `pyudf doctor`: which Python pyudf would use, its version, and which packages import, with the fix for each gap.
import { type Command, Option } from 'commander';
import { PYTHON_PACKAGE_ROOT, REQUIREMENTS_FILE } from '../python/package-paths.js';
import {
  MIN_PYTHON, type ImportResult, type InterpreterInfo, probeImports, probeInstalled, probeInterpreter,
} from './doctor-probe.js';
import { describeError, EXIT, type ExitCode, exitCodeFor } from './exit-codes.js';
import { requireModule } from './module-arg.js';
import { parsePositiveInteger, PYTHON_FLAG, pythonFor } from './udf-options.js';

/** Import name → pip package name. */
const REQUIRED: Readonly<Record<string, string>> = { pyarrow: 'pyarrow', zmq: 'pyzmq', numpy: 'numpy' };
const OPTIONAL: Readonly<Record<string, string>> = {
  pandas: 'pandas', sklearn: 'scikit-learn', tensorflow: 'tensorflow', torch: 'torch', onnxruntime: 'onnxruntime',
};

interface DoctorFlags {
  readonly python?: string;
  readonly timeout: number;
  readonly importAll?: boolean;
}

export function doctorCommand(program: Command): Command {
  return program.command('doctor')
    .summary('check the Python environment pyudf would use')
    .description('Reports the Python interpreter pyudf would use, its version, and whether the required packages ' +
      `(${Object.values(REQUIRED).join(', ')}) and the optional frameworks (${Object.values(OPTIONAL).join(', ')}) import, ` +
      'with the command that fixes each gap.\n\n' +
      'Given a module, it checks the interpreter that apply, serve and types would use for that module: ' +
      'a .venv above the module\'s directory counts too.')
    .argument('[module.py]', 'the UDF module (.py) whose interpreter to check (default: none, so only the current directory\'s .venv counts)')
    .option('--python <path>', PYTHON_FLAG)
    .option('--import-all', 'import the optional frameworks too, to catch broken installs (slower: TensorFlow alone takes seconds)')
    .addOption(new Option('--timeout <seconds>', 'longest a single import may take').argParser(parsePositiveInteger).default(120))
    .action(async (module: string | undefined, flags: DoctorFlags): Promise<void> => {
      if (module !== undefined) requireModule(module);
      try {
        process.exitCode = await runDoctor(flags, module);
      } catch (error) {
        // Whatever else fails while probing the interpreter is a problem of the environment, not of a UDF.
        if (exitCodeFor(error) === EXIT.USAGE) throw error;
        process.stdout.write(`${describeError(error)}\nNOT READY: the interpreter could not be probed\n`);
        process.exitCode = EXIT.PYTHON_ENV;
      }
    });
}

export async function runDoctor(flags: DoctorFlags, module?: string): Promise<ExitCode> {
  const choice = pythonFor(module, flags.python);
  const out = (line = ''): void => { process.stdout.write(`${line}\n`); };
  const from = { option: '--python', PYUDF_PYTHON: '$PYUDF_PYTHON', '.venv': 'the nearest .venv', PATH: 'python3 on PATH' }[choice.source];
  out(`python      ${choice.python}  (chosen from ${from})`);
  let info: InterpreterInfo;
  try {
    info = await probeInterpreter(choice.python);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message.split('\n')[0];
    out(`  MISSING   cannot run it (${reason})`);
    out(`  fix:      install Python ${MIN_PYTHON.join('.')} or newer, or pass --python PATH / set PYUDF_PYTHON`);
    return EXIT.PYTHON_ENV;
  }
  out(`executable  ${info.executable}`);
  out(`version     ${info.version}${info.versionOk ? '' : `  TOO OLD: pyudf needs Python ${MIN_PYTHON.join('.')} or newer`}`);
  out(`pyudf       ${PYTHON_PACKAGE_ROOT} (put on PYTHONPATH for the workers)`);
  const timeoutMs = flags.timeout * 1000;
  const optional = Object.keys(OPTIONAL);
  const results = (await Promise.all([
    probeImports(choice.python, Object.keys(REQUIRED), timeoutMs),
    flags.importAll ? probeImports(choice.python, optional, timeoutMs) : probeInstalled(choice.python, optional).catch((error: unknown) =>
      optional.map((name): ImportResult => ({ module: name, state: 'missing', detail: `could not be looked up: ${lastLine(error)}` }))),
  ])).flat();
  const byModule = new Map(results.map((r) => [r.module, r]));
  const pip = (packages: string): string => installFix(choice.python, info, packages);

  out();
  out('required');
  const missing = Object.entries(REQUIRED).filter(([module, pkg]) => !report(out, byModule.get(module)!, pkg, pip(pkg), true));
  out();
  out('optional (only what your model imports matters)');
  for (const [module, pkg] of Object.entries(OPTIONAL)) report(out, byModule.get(module)!, pkg, pip(pkg), false);
  out();
  if (missing.length || !info.versionOk) {
    if (missing.length) out(`NOT READY: fix all required packages at once with:\n  ${pip(`-r ${REQUIREMENTS_FILE}`)}`);
    return EXIT.PYTHON_ENV;
  }
  out('ready: pyudf can start workers with this interpreter');
  return EXIT.OK;
}

function lastLine(error: unknown): string {
  const stderr = (error as { stderr?: string }).stderr?.trim();
  return stderr?.split('\n').at(-1) || (error instanceof Error ? error.message.split('\n')[0]! : String(error));
}

function report(out: (line?: string) => void, result: ImportResult, pkg: string, fix: string, required: boolean): boolean {
  const status = { imported: 'ok', found: 'found', missing: required ? 'MISSING' : 'absent' }[result.state];
  out(`  ${status.padEnd(9)} ${pkg.padEnd(13)}${result.detail}`);
  if (result.state === 'missing') out(`            fix: ${fix}`);
  return result.state !== 'missing';
}

/** The pip command for `packages`, preceded by what installs pip itself when the interpreter has none. */
function installFix(python: string, info: InterpreterInfo, packages: string): string {
  const install = `${python} -m pip install ${packages}`;
  if (info.hasPip) return install;
  if (info.hasEnsurepip) return `${python} -m ensurepip --upgrade && ${install}`;
  return `(this Python has no pip: install it, e.g. apt install python3-pip, or recreate the venv with pip) ${install}`;
}
