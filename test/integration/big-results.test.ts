// Results over the 2 GiB a RESULT may be fail before anything is sent, with the size, the limit and the fix.
import { tableFromArrays } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { PythonError } from '../../src/index.js';
import { startPool } from '../helpers.js';

// One row per input row, each holding (2 GiB + 1 MiB) / rows of zero bytes: numpy's zeros are pages never
// touched, so the result costs no memory unless something reads or copies it.
const HUGE = `
import numpy as np
import pyarrow as pa

def apply(state, batch):
    n = batch.num_rows
    each = (2**31 + 2**20) // n
    offsets = np.arange(n + 1, dtype=np.int64) * each
    blob = pa.LargeBinaryArray.from_buffers(pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(np.zeros(each * n, np.uint8))])
    return pa.record_batch([blob], names=["blob"])
`;

describe('big results', () => {
  for (const sharedMemoryMinBytes of [1024, null]) {
    it(`fails a result over 2 GiB with a PythonError naming size, limit and batchSize (sharedMemoryMinBytes: ${sharedMemoryMinBytes})`, async () => {
      const pool = await startPool({ workers: 1, sharedMemoryMinBytes });
      const udf = await pool.register({ code: HUGE });
      const error = await udf.apply(tableFromArrays({ x: Float64Array.of(1, 2, 3) })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PythonError);
      const python = error as PythonError;
      expect(python.pythonType).toBe('pyudf.protocol.ResultTooLargeError');
      expect(python.message).toMatch(/the result of this batch is 2,148,\d{3},\d{3} bytes \(2\.00 GiB, 3 rows\)/);
      expect(python.message).toContain('over the 2,147,483,647 bytes one result may be');
      expect(python.message).toContain('smaller batchSize');
      expect(python.batchIndex).toBe(0);
      // An answer, not a crash: the worker keeps serving.
      expect(pool.restarts).toBe(0);
      expect(pool.stats().sharedMemory.resultsReceived).toBe(0);
    });
  }
});
