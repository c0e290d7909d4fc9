// Python exceptions, init failures and bad input become typed errors; the workers keep serving.
import { Field, Float64, Schema, Int32, tableFromArrays } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import {
  InvalidInputError, InvalidOptionError, PyUdfError, PythonError, RowCountError, SchemaError,
} from '../../src/index.js';
import * as api from '../../src/index.js';
import { fixture, startPool, workerPids } from '../helpers.js';

const xs = (...values: number[]) => tableFromArrays({ x: Float64Array.from(values) });

describe('errors', () => {
  it('exports every error as a PyUdfError subclass with its own stable code', () => {
    const instances: PyUdfError[] = [
      new api.PythonError({ pythonType: 'ValueError', pythonMessage: 'm', traceback: '', frames: [], phase: 'apply', udf: 'u', batchIndex: 0 }),
      new api.WorkerCrashedError({ workerId: 'w0', exitCode: 1, signal: undefined, stderrTail: [] }),
      new api.UdfTimeoutError({ udf: 'u', timeoutMs: 1 }), new api.ProtocolError('m'),
      new api.SchemaError({ side: 'input', column: 'c', expected: 'Int32', actual: 'Utf8', udf: 'u' }),
      new api.RowCountError({ udf: 'u', batchIndex: 0, expected: 1, actual: 2 }), new api.PoolClosedError('m'),
      new api.PythonEnvError({ python: 'python3', problem: 'p', fix: 'f' }),
      new api.InvalidOptionError('o', 'm'), new api.InvalidInputError('m'), new api.AbortError(),
      new api.RayUnavailableError({ address: null, problem: 'p' }),
    ];
    // Closing errors share ERR_POOL_CLOSED (a stable code) and tell what was closed by class and `closed`.
    const closing = [new api.UdfClosedError('m'), new api.ServerClosedError('m'), new api.UdfUnregisteredError('m')];
    const exported = Object.values(api).filter((v) => typeof v === 'function' && v.prototype instanceof PyUdfError);
    expect(new Set([...instances, ...closing].map((e) => e.constructor))).toEqual(new Set(exported));
    for (const error of [...instances, ...closing]) {
      expect(error).toBeInstanceOf(Error);
      expect(api.isPyUdfError(error)).toBe(true);
      expect(error.name).toBe(error.constructor.name);
      expect(error.code).toMatch(/^ERR_[A-Z_]+$/);
    }
    expect(new Set(instances.map((e) => e.code)).size).toBe(instances.length);
    expect(closing.map((e) => [e.code, e.closed, e instanceof api.PoolClosedError]))
      .toEqual([['ERR_POOL_CLOSED', 'udf', true], ['ERR_POOL_CLOSED', 'server', true], ['ERR_POOL_CLOSED', 'registration', true]]);
    expect(new api.PoolClosedError('m').closed).toBe('pool');
    expect(api.isPyUdfError(new Error('m'))).toBe(false);
  });

  it('turns a Python exception into PythonError with type, message and the user\'s file and line, and keeps serving', async () => {
    const pool = await startPool({ workers: 1 });
    const udf = await pool.register({ module: fixture('failing.py') });
    const error = await udf.apply(xs(1, -2, 3)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PythonError);
    expect(error).toBeInstanceOf(PyUdfError);
    const pe = error as PythonError;
    expect(pe.code).toBe('ERR_PYTHON');
    expect(pe.pythonType).toBe('ValueError');
    expect(pe.pythonMessage).toBe('negative input -2.0');
    expect(pe.phase).toBe('apply');
    expect(pe.udf).toBe('failing');
    expect(pe.batchIndex).toBe(0);
    expect(pe.frames.at(-1)).toEqual({ file: fixture('failing.py'), line: 12, function: 'check' });
    expect(pe.frames.at(-2)).toMatchObject({ file: fixture('failing.py'), line: 6, function: 'apply' });
    expect(pe.traceback).toContain('raise ValueError(f"negative input {value}")');
    expect(pe.traceback).not.toMatch(/pyudf\/(host|message_loop|loader)\.py/);
    // The same worker answers the next call.
    const pids = workerPids(pool);
    expect((await udf.apply(xs(4, 5))).numRows).toBe(2);
    expect(workerPids(pool)).toEqual(pids);
  });

  it('reports the failing batch index when one of many batches raises', async () => {
    const pool = await startPool({ workers: 2 });
    const udf = await pool.register({ module: fixture('failing.py'), batchSize: 10 });
    const values = Array.from({ length: 100 }, (_, i) => (i === 57 ? -1 : i));
    const error = await udf.apply(xs(...values)).catch((e: unknown) => e);
    expect((error as PythonError).batchIndex).toBe(5);
  });

  it('fails register() with the PythonError of init, phase "init", and leaves nothing registered', async () => {
    const pool = await startPool({ workers: 2 });
    const error = await pool.register({ module: fixture('failing_init.py'), conf: { path: '/models/m.keras' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PythonError);
    const pe = error as PythonError;
    expect(pe.phase).toBe('init');
    expect(pe.pythonType).toBe('RuntimeError');
    expect(pe.pythonMessage).toBe('model file is corrupt: /models/m.keras');
    expect(pe.frames.at(-1)).toMatchObject({ file: fixture('failing_init.py'), line: 5, function: 'init' });
    // The pool still works.
    const ok = await pool.register({ module: fixture('identity.py') });
    expect((await ok.apply(xs(1))).numRows).toBe(1);
  });

  it('reports load errors: syntax errors with their line, and missing hooks by name', async () => {
    const pool = await startPool({ workers: 1 });
    const syntax = await pool.register({ code: 'def apply(state, batch):\n    return batch +\n', name: 'broken' }).catch((e: unknown) => e);
    expect(syntax).toBeInstanceOf(PythonError);
    expect((syntax as PythonError).phase).toBe('load');
    expect((syntax as PythonError).pythonType).toBe('SyntaxError');
    expect((syntax as PythonError).frames.at(-1)).toMatchObject({ file: '<pyudf:broken>', line: 2 });
    const missing = await pool.register({ module: fixture('identity.py'), apply: 'predict' }).catch((e: unknown) => e);
    expect((missing as PythonError).phase).toBe('load');
    expect((missing as PythonError).message).toMatch(/predict/);
  });

  it('checks a declared input schema before sending, naming the column and both types', async () => {
    const pool = await startPool({ workers: 1 });
    const input = new Schema([new Field('x', new Int32(), true)]);
    const udf = await pool.register({ module: fixture('identity.py'), input });
    const error = await udf.apply(xs(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaError);
    expect(error).toMatchObject({ code: 'ERR_SCHEMA', side: 'input', column: 'x', expected: 'Int32', actual: 'Float64' });
  });

  it('checks the worker\'s output against a declared output schema', async () => {
    const pool = await startPool({ workers: 1 });
    const output = new Schema([new Field('y', new Int32(), true), new Field('s', new Float64(), true)]);
    const udf = await pool.register({ module: fixture('returns.py'), conf: { kind: 'dict' }, output });
    const error = await udf.apply(xs(1)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_SCHEMA', side: 'output', column: 'y', expected: 'Int32', actual: 'Float64' });
  });

  it.each([
    ['column order', 'return {"b": batch.column(0), "a": batch.column(0)} if first else {"a": batch.column(0), "b": batch.column(0)}', /column 0 to be "b"/],
    ['nullability', 'return pa.table({"a": batch.column(0)}, schema=pa.schema([pa.field("a", batch.column(0).type, nullable=first)]))', /nullable/],
  ])('rejects results whose batches differ in %s with SchemaError, not a raw TypeError', async (_, body, message) => {
    const pool = await startPool({ workers: 1 });
    const code = `import pyarrow as pa\ndef apply(state, batch):\n    first = batch.column(0)[0].as_py() == 0\n    ${body}\n`;
    const udf = await pool.register({ code, batchSize: 2 });
    const error = await udf.apply(xs(0, 1, 2, 3)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaError);
    expect((error as SchemaError).message).toMatch(message);
  });

  it('rejects a result whose row count differs from the input', async () => {
    const pool = await startPool({ workers: 1 });
    const udf = await pool.register({ module: fixture('returns.py'), conf: { kind: 'rows-mismatch' } });
    const error = await udf.apply(xs(1, 2, 3)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RowCountError);
    expect(error).toMatchObject({ code: 'ERR_ROW_COUNT', expected: 3, actual: 2 });
  });

  it('rejects bad arguments with typed errors naming what to fix', async () => {
    const pool = await startPool({ workers: 1 });
    await expect(pool.register({ module: 'no/such/model.py' })).rejects.toThrow(InvalidOptionError);
    await expect(pool.register({ module: 'no/such/model.py' })).rejects.toThrow(/no such file: .*no\/such\/model\.py/);
    await expect(pool.register({})).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'module' });
    await expect(pool.register({ code: 'x', batchSize: 0 })).rejects.toMatchObject({ option: 'batchSize' });
    await expect(pool.register({ code: 'x', conf: { n: 1n } as never })).rejects.toMatchObject({ option: 'conf' });
    const udf = await pool.register({ module: fixture('identity.py') });
    await expect(udf.apply([{ x: 1 }] as never)).rejects.toThrow(InvalidInputError);
    await expect(startPool({ workers: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'workers' });
  });
});
