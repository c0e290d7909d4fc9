// `pyudf types`: the generated module types register() fully (checked by tsc, wrong uses included),
// and its schemas equal what pyarrow produces at run time.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type Float64, type Schema, tableFromArrays } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDeclaredSchemas } from '../../src/types-gen/read-schemas.js';
import { checkSchema } from '../../src/udf/schema-check.js';
import { fixture, PYTHON, ROOT, startPool } from '../helpers.js';
import { runCli } from '../fixtures/cli_run.js';

let dir: string;
const file = (name: string): string => path.join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pyudf-cli-types-'));
  // The generated module imports 'apache-arrow'; resolving it to this checkout's copy keeps one set of classes.
  symlinkSync(path.join(ROOT, 'node_modules'), file('node_modules'), 'dir');
  writeFileSync(file('package.json'), '{ "type": "module" }');
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Compiles the consumer files with the project's strict settings; 'pyudf' is this checkout's build. */
async function tsc(files: string[]): Promise<{ code: number; output: string }> {
  writeFileSync(file('tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', lib: ['ES2022', 'ESNext.Disposable'], module: 'NodeNext', moduleResolution: 'NodeNext',
      strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, noEmit: true, skipLibCheck: true,
      // The built declarations: checking them is quicker than checking the whole of src/ again.
      types: ['node'], paths: { pyudf: [path.join(ROOT, 'dist', 'index.d.ts')] },
    },
    files,
  }));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', file('tsconfig.json')]);
    return { code: 0, output: stdout };
  } catch (error) {
    const failure = error as { code: number; stdout: string };
    return { code: failure.code, output: failure.stdout };
  }
}

describe('pyudf types', () => {
  it('generates modules that type register(), apply() and the result columns', async () => {
    const typed = await runCli(['types', fixture('cli_typed_model.py'), '--out', file('typed.types.ts')]);
    expect(typed.code, typed.stderr).toBe(0);
    // What the module prints on import goes to stderr, never into the generated code.
    expect(typed.stderr).toContain('importing cli_typed_model prints');
    const decorated = await runCli(['types', fixture('cli_decorated_model.py')]);
    expect(decorated.code, decorated.stderr).toBe(0);
    writeFileSync(file('decorated.types.ts'), decorated.stdout);
    expect(decorated.stdout).toContain('export type Input = {\n  x: Float64;\n  y: Float64;\n};');

    writeFileSync(file('good.ts'), `
import { createPool, type Udf } from 'pyudf';
import { type Float64, Int32, type Table, tableFromArrays, type Utf8 } from 'apache-arrow';
import { inputSchema, outputSchema, type Input, type Output } from './decorated.types.js';
import * as typed from './typed.types.js';

const pool = await createPool();
// No generics written: In and Out are inferred from the generated schemas.
const udf = await pool.register({ module: 'cli_decorated_model.py', input: inputSchema, output: outputSchema });
const exact: Udf<Input, Output> = udf;
const result: Table<{ total: Float64 }> = await udf.apply(tableFromArrays({ x: new Float64Array(1), y: new Float64Array(1) }));
result.getChild('total')?.get(0)?.toFixed(2);
// @ts-expect-error: the output has no column "nope"
result.getChild('nope');
// @ts-expect-error: the output's "total" is a Float64, not a Utf8
const wrongOut: Table<{ total: Utf8 }> = result;
// @ts-expect-error: the input needs x and y as Float64
await udf.apply(tableFromArrays({ x: new Int32Array(1) }));

const many = await pool.register({ module: 'cli_typed_model.py', input: typed.inputSchema, output: typed.outputSchema });
const inputType: typed.Input['i32'] = new Int32();
const label: Table<{ score: Float64; label: Utf8 }> = await many.apply(null as unknown as Table<typed.Input>);
// @ts-expect-error: "with space" is an Int32, not a Utf8
const wrongIn: Utf8 = null as unknown as typed.Input['with space'];
void [exact, wrongOut, inputType, label, wrongIn];
`);
    const { code, output } = await tsc(['good.ts']);
    // An unused @ts-expect-error fails too: generated types that were too loose (any) would fail here.
    expect(output).toBe('');
    expect(code).toBe(0);
  });

  it('tsc rejects a wrong use of the generated types (the check above has teeth)', async () => {
    writeFileSync(file('bad.ts'), `
import type { Table, Utf8 } from 'apache-arrow';
import type { Output } from './decorated.types.js';
export const wrong: Table<{ total: Utf8 }> = null as unknown as Table<Output>;
`);
    const { code, output } = await tsc(['bad.ts']);
    expect(code).not.toBe(0);
    expect(output).toMatch(/bad\.ts\(4,14\): error TS2322/);
  });

  it("the generated schemas equal pyarrow's, type for type, and work in register() at run time", async () => {
    type Generated = { inputSchema: Schema; outputSchema: Schema };
    const typed = await import(file('typed.types.ts')) as Generated;
    const declared = await readDeclaredSchemas(PYTHON, fixture('cli_typed_model.py'), 'apply');
    // The same comparison register() makes on every batch: names, order and types, nested ones included.
    checkSchema(typed.inputSchema, declared.input!, 'input', 'cli_typed_model');
    checkSchema(typed.outputSchema, declared.output!, 'output', 'cli_typed_model');
    expect(typed.inputSchema.fields.map((f) => f.nullable)).toEqual(declared.input!.fields.map((f) => f.nullable));
    expect(typed.inputSchema.fields.map((f) => String(f.type))).toEqual(declared.input!.fields.map((f) => String(f.type)));

    const decorated = await import(file('decorated.types.ts')) as {
      inputSchema: Schema<{ x: Float64; y: Float64 }>;
      outputSchema: Schema<{ total: Float64 }>;
    };
    const pool = await startPool({ workers: 1 });
    const udf = await pool.register({ module: fixture('cli_decorated_model.py'), input: decorated.inputSchema, output: decorated.outputSchema });
    const result = await udf.apply(tableFromArrays({ x: new Float64Array([1, 2]), y: new Float64Array([10, 20]) }));
    expect([...result.getChild('total')!]).toEqual([11, 22]);
  });

  it('exits 1 with the traceback when the module raises on import, and 2 when it declares no schemas', async () => {
    writeFileSync(file('broken.py'), 'import pyarrow as pa\nINPUT = pa.schema([("x", pa.float64())])\nraise ImportError("no model here")\n');
    const broken = await runCli(['types', file('broken.py')]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('pyudf: ImportError: no model here');
    expect(broken.stderr).toContain('broken.py", line 3, in <module>');
    const none = await runCli(['types', fixture('identity.py')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('declares no schemas: define module-level INPUT and OUTPUT');
    expect(readFileSync(file('typed.types.ts'), 'utf8')).toMatch(/^\/\/ Generated by `pyudf types cli_typed_model.py`/);
  });

  it('examples/cli/model.types.ts is what the command generates from examples/cli/model.py', async () => {
    const result = await runCli(['types', 'model.py'], { cwd: path.join(ROOT, 'examples', 'cli') });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(readFileSync(path.join(ROOT, 'examples', 'cli', 'model.types.ts'), 'utf8'));
  });
});
