// The pool against a real peer that breaks the wire format: typed ProtocolError, never a crash or a hang.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ProtocolError, WorkerCrashedError } from '../../src/index.js';
import { type CapturedLog, fixture, startPool, tempDir } from '../helpers.js';

// Replacing PYTHONPATH makes `python -m pyudf.worker` start the rogue worker instead of ours.
// outside-file names this file as its result: the pool must refuse it, and must not delete it.
const OUTSIDE = path.join(tempDir('rogue'), 'r1');
const rogue = (mode: string) => ({
  workers: 1, retries: 0, env: { PYTHONPATH: fixture('rogue'), ROGUE_MODE: mode, ROGUE_FILE: OUTSIDE },
});
const rows = tableFromArrays({ x: new Float64Array([1, 2]) });
writeFileSync(OUTSIDE, 'not the pool\'s to delete');

describe('protocol violations by a worker', () => {
  it('fails pool start-up with ProtocolError when the worker speaks another version', async () => {
    const error = await startPool(rogue('version')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).message).toMatch(/peer speaks version 3, this side speaks 2/);
  });

  it('sends nothing to a peer whose READY lacks the pool\'s token, and logs it', async () => {
    const logs: CapturedLog[] = [];
    const error = await startPool({ ...rogue('no-token'), startTimeoutMs: 1_500 }, logs).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect((error as Error).message).toMatch(/did not connect within startTimeoutMs=1500/);
    expect(logs.map((l) => l.line)).toContainEqual(expect.stringMatching(/a peer without this pool's token connected as w0; nothing is sent to it/));
    expect(existsSync(`${OUTSIDE}.received`)).toBe(false);
  });

  it.each([
    ['garbage-result', /RESULT body of UDF "identity" is not an Arrow IPC stream/],
    ['short-header', /header frame must be 16 bytes, got 5/],
    ['outside-file', /RESULT of UDF "identity" names no file of the pool's shared-memory directory/],
    // Opened without blocking (a FIFO would wait for a writer forever) and without following links.
    ['fifo-file', /RESULT file of UDF "identity" cannot be read: .*is not a regular file/],
    ['symlink-file', /RESULT file of UDF "identity" cannot be read: .*ELOOP/],
  ])('fails the call with ProtocolError and replaces the worker when it sends %s', async (mode, message) => {
    const pool = await startPool(rogue(mode));
    const udf = await pool.register({ module: fixture('identity.py') });
    const error = await udf.apply(rows).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).message).toMatch(message);
    await expect.poll(() => pool.restarts, { timeout: 10_000 }).toBe(1);
    expect(existsSync(OUTSIDE)).toBe(true);
  });
});
