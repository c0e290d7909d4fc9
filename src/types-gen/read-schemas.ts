// Runs `python -m pyudf.schemas` on a UDF file (importing it, never calling init) and decodes its schemas.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Schema, tableFromIPC } from 'apache-arrow';
import { PythonEnvError, PythonError } from '../errors.js';
import { decodeErrorPayload } from '../protocol/wire.js';
import { installAdvice } from '../python/install-advice.js';
import { workerEnv } from '../python/worker-env.js';
import type { DeclaredSchemas } from './generate.js';

/** Exit statuses of python/pyudf/schemas.py. */
const EXIT_LOAD_ERROR = 1;
const EXIT_ENV = 3;

interface SchemasJson {
  input: string | null;
  output: string | null;
  sources: { input?: string; output?: string };
}

export async function readDeclaredSchemas(python: string, module: string, applyName: string): Promise<DeclaredSchemas> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'pyudf-types-'));
  const out = path.join(directory, 'schemas.json');
  try {
    const { code, stderr, spawnError } = await run(python, ['-m', 'pyudf.schemas', path.resolve(module), '--out', out, '--apply', applyName]);
    if (spawnError) {
      throw new PythonEnvError({
        python, problem: `cannot run the Python interpreter (${spawnError.code ?? spawnError.message})`,
        fix: 'install Python 3.9 or newer, or pass --python / set $PYUDF_PYTHON', cause: spawnError,
      });
    }
    if (code === EXIT_ENV) {
      const line = stderr.trim().split('\n').at(-1) ?? '';
      throw new PythonEnvError({ python, problem: `cannot import ${line.replace(/^pyudf-env-error: /, '')}`, fix: installAdvice(python) });
    }
    if (code === EXIT_LOAD_ERROR) throw loadError(await readFile(out), path.basename(module, '.py'));
    if (code !== 0) throw new Error(`python -m pyudf.schemas exited with status ${code}:\n${stderr.trim()}`);
    const json = JSON.parse(await readFile(out, 'utf8')) as SchemasJson;
    return { input: decode(json.input), output: decode(json.output), sources: json.sources };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

function decode(base64: string | null): Schema | undefined {
  return base64 === null ? undefined : tableFromIPC(Buffer.from(base64, 'base64')).schema;
}

function run(python: string, args: string[]): Promise<{ code: number | null; stderr: string; spawnError?: NodeJS.ErrnoException }> {
  return new Promise((resolve) => {
    // The module's own prints go to our stderr: stdout may be the generated file (`pyudf types m.py > t.ts`).
    const child = spawn(python, args, { env: workerEnv(null, {}), stdio: ['ignore', process.stderr, 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    child.on('error', (spawnError: NodeJS.ErrnoException) => resolve({ code: null, stderr, spawnError }));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** The module raised while being imported: a PythonError in the "load" phase, from the ErrorPayload the script wrote. */
function loadError(body: Buffer, udf: string): PythonError {
  const payload = decodeErrorPayload(body);
  return new PythonError({
    pythonType: payload.type, pythonMessage: payload.message, traceback: payload.traceback, frames: payload.frames ?? [], phase: 'load', udf,
  });
}
