// Errors as values: options-object constructors, immutable fields, and recognition across installed copies.
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { isPyUdfError, PythonError, RowCountError, WorkerCrashedError } from '../src/errors.js';
import { ROOT } from './helpers.js';

describe('errors', () => {
  it('gives a copy with another batchIndex, leaving the original as it was', () => {
    const original = new PythonError({
      pythonType: 'ValueError', pythonMessage: 'bad', traceback: 'tb', frames: [{ file: 'm.py', line: 3, function: 'apply' }],
      phase: 'apply', udf: 'm', batchIndex: 0,
    });
    const copy = original.withBatchIndex(7);
    expect(copy).toBeInstanceOf(PythonError);
    expect(copy).not.toBe(original);
    expect(copy.batchIndex).toBe(7);
    expect(original.batchIndex).toBe(0);
    expect([copy.message, copy.stack, copy.pythonType, copy.frames]).toEqual([original.message, original.stack, original.pythonType, original.frames]);
    expect(() => { (copy as { batchIndex: number | undefined }).batchIndex = 1; }).toThrow(TypeError);
  });

  it('builds every error from an options object whose fields it keeps', () => {
    expect(new WorkerCrashedError({ workerId: 'w3', exitCode: undefined, signal: 'SIGKILL', stderrTail: ['x'], attempts: 2 }))
      .toMatchObject({ workerId: 'w3', signal: 'SIGKILL', attempts: 2, message: expect.stringMatching(/^Python worker w3 was killed by SIGKILL \(after 2 attempts\)/) });
    expect(new RowCountError({ udf: 'u', batchIndex: 4, expected: 3, actual: 2 })).toMatchObject({ batchIndex: 4, expected: 3, actual: 2 });
  });

  it('recognises an error thrown by another installed copy of pyudf, where instanceof cannot', async () => {
    // Two URLs of one file load as two module instances: two copies of every class, as two installs would.
    const url = pathToFileURL(path.join(ROOT, 'dist', 'errors.js')).href;
    const script = `
      const a = await import(${JSON.stringify(`${url}?copy=a`)});
      const b = await import(${JSON.stringify(`${url}?copy=b`)});
      const error = new b.PoolClosedError('closed');
      console.log(JSON.stringify([error instanceof a.PyUdfError, a.isPyUdfError(error), a.isPyUdfError(new Error('x'))]));`;
    const { stdout } = await execa(process.execPath, ['--input-type=module', '-e', script]);
    expect(JSON.parse(stdout)).toEqual([false, true, false]);
    expect(isPyUdfError({ code: 'ERR_PYTHON' })).toBe(false);
  });
});
