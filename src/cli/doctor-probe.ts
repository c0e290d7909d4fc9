// Asks a Python interpreter what it is and which packages it can import, each import in its own process.
import { execFile } from 'node:child_process';

export interface InterpreterInfo {
  readonly executable: string;
  readonly version: string;
  readonly versionOk: boolean;
  readonly hasPip: boolean;
  readonly hasEnsurepip: boolean;
}

export interface ImportResult {
  readonly module: string;
  /** `found`: present but not imported (probeInstalled). */
  readonly state: 'imported' | 'found' | 'missing';
  /** The package's version when present; why not (the import error's last line) when missing. */
  readonly detail: string;
}

/** Oldest Python the worker supports. */
export const MIN_PYTHON: readonly [number, number] = [3, 9];

const INFO_SCRIPT = `
import importlib.util, json, sys
print(json.dumps({
  "executable": sys.executable,
  "version": ".".join(map(str, sys.version_info[:3])),
  "versionOk": sys.version_info[:2] >= (${MIN_PYTHON.join(', ')}),
  "hasPip": importlib.util.find_spec("pip") is not None,
  "hasEnsurepip": importlib.util.find_spec("ensurepip") is not None,
}))`;

// A real import, not a look-up: a package that is present but broken (ABI mismatch, missing .so)
// fails the worker just the same.
const IMPORT_SCRIPT = `
import importlib, sys
module = importlib.import_module(sys.argv[1])
print(getattr(module, "__version__", None) or "unknown version")`;

// Finds a module without importing it (TensorFlow alone takes seconds to import) and reads the
// version of the distribution that provides it.
const FIND_SCRIPT = `
import importlib.metadata as md, importlib.util, json, sys
owners = md.packages_distributions() if hasattr(md, "packages_distributions") else {}
found = {}
for name in sys.argv[1:]:
    if importlib.util.find_spec(name) is None:
        found[name] = None
        continue
    version = "installed, version unknown"
    for dist in owners.get(name, [name]):
        try:
            version = md.version(dist)
            break
        except md.PackageNotFoundError:
            pass
    found[name] = version
print(json.dumps(found))`;

/** Resolves with the interpreter's facts, or rejects with the spawn error (ENOENT: no such interpreter). */
export async function probeInterpreter(python: string): Promise<InterpreterInfo> {
  const { stdout } = await exec(python, ['-c', INFO_SCRIPT], 30_000);
  return JSON.parse(stdout) as InterpreterInfo;
}

/** Imports every module in parallel, each in a fresh process so a crashing import cannot hide the others. */
export function probeImports(python: string, modules: readonly string[], timeoutMs: number): Promise<ImportResult[]> {
  return Promise.all(modules.map(async (module): Promise<ImportResult> => {
    try {
      const { stdout } = await exec(python, ['-c', IMPORT_SCRIPT, module], timeoutMs);
      return { module, state: 'imported', detail: stdout.trim() };
    } catch (error) {
      const failure = error as { stderr?: string; killed?: boolean; signal?: string | null };
      if (failure.killed) return { module, state: 'missing', detail: `import did not finish within ${timeoutMs / 1000} s` };
      const last = failure.stderr?.trim().split('\n').at(-1);
      return { module, state: 'missing', detail: last || (failure.signal ? `import killed the interpreter (${failure.signal})` : String(error)) };
    }
  }));
}

/** Looks modules up without importing them, all in one fast process. */
export async function probeInstalled(python: string, modules: readonly string[]): Promise<ImportResult[]> {
  const { stdout } = await exec(python, ['-c', FIND_SCRIPT, ...modules], 30_000);
  const found = JSON.parse(stdout) as Record<string, string | null>;
  return modules.map((module) => {
    const version = found[module];
    return typeof version === 'string'
      ? { module, state: 'found', detail: `${version} (not imported; --import-all imports it)` }
      : { module, state: 'missing', detail: 'not installed' };
  });
}

function exec(file: string, args: string[], timeout: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout, encoding: 'utf8', env: { ...process.env, PYTHONWARNINGS: 'ignore', TF_CPP_MIN_LOG_LEVEL: '3' } },
      (error, stdout, stderr) => (error ? reject(Object.assign(error, { stderr })) : resolve({ stdout, stderr })));
  });
}
