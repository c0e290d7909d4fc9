// `pyudf apply` streams: its peak memory on a 512 MB Arrow file stays far below the file's size.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fixture, PYTHON } from '../helpers.js';
import { runCli } from '../fixtures/cli_run.js';

/** 8 float64 columns × 8M rows = 512 MB of data. */
const ROWS = 8_000_000;
const MB = 1024 * 1024;
/** Node, apache-arrow and the pool take about 80 MB before any data; batches in flight add tens of MB. */
const PEAK_LIMIT = 300 * MB;

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pyudf-cli-memory-'));
  execFileSync(PYTHON, [fixture('cli_tables.py'), 'make', String(ROWS), '--wide', path.join(dir, 'big.arrow')]);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('applies an identity UDF to a 512 MB Arrow file with a peak RSS under 300 MB', async () => {
  const input = path.join(dir, 'big.arrow');
  const output = path.join(dir, 'big-out.arrows');
  const result = await runCli(['apply', fixture('identity.py'), '--workers', '2', '--no-progress', '-i', input, '-o', output]);
  expect(result.code, result.stderr).toBe(0);
  expect(result.stderr).toContain(`wrote ${ROWS} rows`);
  // The output holds every byte of the input (plus framing), so nothing was dropped to save memory.
  expect(statSync(output).size).toBeGreaterThan(statSync(input).size - MB);
  console.log(`pyudf apply, 512 MB Arrow file: CLI peak RSS ${Math.round(result.peakRss / MB)} MB`);
  expect(result.peakRss).toBeGreaterThan(0);
  expect(result.peakRss).toBeLessThan(PEAK_LIMIT);
});
