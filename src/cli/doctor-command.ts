// `pyudf doctor`: which Python pyudf would use, its version, and which packages import, with the fix for each gap.
import type { Command } from 'commander';
import { PYTHON_PACKAGE_ROOT, REQUIREMENTS_FILE } from '../python/package-paths.js';
import { findPython } from '../python/find-python.js';
import {
  MIN_PYTHON, type ImportResult, type InterpreterInfo, probeImports, probeInstalled, probeInterpreter,
} from './doctor-probe.js';
import { EXIT, type ExitCode } from './exit-codes.js';

/** Import name → pip package name. */
const REQUIRED: Readonly<Record<string, string>> = { pyarrow: 'pyarrow', zmq: 'pyzmq', numpy: 'numpy' };
const OPTIONAL: Readonly<Record<string, string>> = {
  pandas: 'pandas', sklearn: 'scikit-learn', tensorflow: 'tensorflow', torch: 'torch', onnxruntime: 'onnxruntime',
};

interface DoctorFlags {
  readonly python?: string;
  readonly timeout: string;
  readonly importAll?: boolean;
}

export function doctorCommand(program: Command): Command {
  return program.command('doctor')
    .summary('check the Python environment pyudf would use')
    .description('Reports the Python interpreter pyudf would use, its version, and whether the required packages\n' +
      `(${Object.values(REQUIRED).join(', ')}) and optional frameworks (${Object.values(OPTIONAL).join(', ')}) import,\n` +
      'with the command that fixes each gap. Exits 0 when the required ones import, 3 otherwise.')
    .option('--python <path>', 'check this interpreter instead (default: $PYUDF_PYTHON, else ./.venv/bin/python, else python3)')
    .option('--import-all', 'import the optional frameworks too, to catch broken installs (slower: TensorFlow alone takes seconds)')
    .option('--timeout <seconds>', 'longest a single import may take', '120')
    .action(async (flags: DoctorFlags): Promise<void> => {
      process.exitCode = await runDoctor(flags);
    });
}

export async function runDoctor(flags: DoctorFlags): Promise<ExitCode> {
  const choice = findPython(flags.python);
  const out = (line = ''): void => { process.stdout.write(`${line}\n`); };
  const from = { option: '--python', PYUDF_PYTHON: '$PYUDF_PYTHON', '.venv': './.venv', PATH: 'python3 on PATH' }[choice.source];
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
  const timeoutMs = Math.max(1, Number(flags.timeout) || 120) * 1000;
  const optional = Object.keys(OPTIONAL);
  const results = (await Promise.all([
    probeImports(choice.python, Object.keys(REQUIRED), timeoutMs),
    flags.importAll ? probeImports(choice.python, optional, timeoutMs) : probeInstalled(choice.python, optional),
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
