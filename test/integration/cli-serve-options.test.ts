// `pyudf serve` serving knobs: --max-batch-rows/--max-delay-ms reach the micro-batcher, --timeout-ms
// the batches, --log-format writes an access log on stdout; bad numbers are usage errors (exit 2).
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir, waitFor } from '../helpers.js';
import { type CliResult, runCli, servingUrl } from '../fixtures/cli_run.js';

let model: string;

beforeAll(() => {
  model = path.join(tempDir('cli-serve-options-'), 'counter.py');
  writeFileSync(model, `"""y = 2x, and n: the rows of the batch the row was computed in. x < 0 sleeps 3 s; x = 13 raises."""
import time

import pyarrow as pa


def apply(state, batch):
    x = batch.column("x").to_pylist()
    if any(v < 0 for v in x):
        time.sleep(3)
    if 13 in x:
        raise ValueError("13 is a secret the client must not see")
    return {"y": pa.array([2 * v for v in x], pa.float64()), "n": pa.array([batch.num_rows] * batch.num_rows, pa.int64())}
`);
});

interface Serving {
  readonly url: string;
  /** Lines the server wrote to stdout so far. */
  readonly stdout: () => string[];
  /** SIGTERM, then the run's result. */
  stop(): Promise<CliResult>;
}

async function serve(flags: string[]): Promise<Serving> {
  let child: ChildProcess | undefined;
  let out = '';
  const run = runCli(['serve', model, '--name', 'counter', '--port', '0', '--workers', '1', ...flags], {
    started: (spawned) => {
      child = spawned;
      spawned.stdout!.on('data', (chunk: Buffer | string) => { out += String(chunk); });
    },
  });
  const url = await servingUrl(child!);
  return {
    url,
    stdout: () => out.split('\n').filter(Boolean),
    stop: async () => {
      child!.kill('SIGTERM');
      return run;
    },
  };
}

const infer = (url: string, x: number): Promise<Response> => fetch(`${url}/v2/models/counter/infer`, {
  method: 'POST',
  body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP64', shape: [1], data: [x] }] }),
});

const outputsOf = async (response: Response): Promise<Record<string, number>> => {
  const { outputs } = await response.json() as { outputs: { name: string; data: number[] }[] };
  return Object.fromEntries(outputs.map((o) => [o.name, o.data[0]!]));
};

describe('pyudf serve: serving knobs', () => {
  it('--max-batch-rows and --max-delay-ms shape the shared batches; --timeout-ms bounds a batch; --log-format json logs each request', async () => {
    const server = await serve(['--max-batch-rows', '3', '--max-delay-ms', '200', '--timeout-ms', '1500', '--log-format', 'json']);
    let result: CliResult | undefined;
    try {
      // 8 concurrent single-row requests wait up to 200 ms for each other, in batches of at most 3 rows.
      const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => infer(server.url, i).then(outputsOf)));
      expect(answers.map((a) => a['y'])).toEqual([0, 2, 4, 6, 8, 10, 12, 14]);
      const sizes = answers.map((a) => a['n']!);
      expect(Math.max(...sizes)).toBe(3);
      expect(sizes.every((n) => n <= 3)).toBe(true);

      // A batch past --timeout-ms: the worker is replaced and the request gets 504.
      const slow = await infer(server.url, -1);
      expect(slow.status).toBe(504);
      expect(await slow.text()).toContain('did not answer within 1500 ms');

      // Without --expose-errors a 500 names the exception's type, never its message.
      const failed = await infer(server.url, 13);
      expect(failed.status).toBe(500);
      const body = await failed.text();
      expect(body).toContain('raised ValueError');
      expect(body).not.toContain('secret');

      const ready = await fetch(`${server.url}/v2/health/ready`);
      const readyBody = await ready.arrayBuffer();

      await waitFor(() => server.stdout().length >= 11, 5000, '11 access-log lines');
      const lines = server.stdout().map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines).toHaveLength(11);
      for (const line of lines) {
        expect(Object.keys(line)).toEqual(['time', 'method', 'path', 'status', 'bytes', 'duration_ms', 'model']);
        expect(Date.now() - Date.parse(line['time'] as string)).toBeLessThan(60_000);
        expect(line['duration_ms']).toBeGreaterThanOrEqual(0);
      }
      const inferLines = lines.filter((line) => line['path'] === '/v2/models/counter/infer');
      expect(inferLines.map((line) => line['status']).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 500, 504]);
      expect(inferLines.every((line) => line['method'] === 'POST' && line['model'] === 'counter' && (line['bytes'] as number) > 0)).toBe(true);
      // The timed-out request took about the timeout.
      expect(inferLines.find((line) => line['status'] === 504)!['duration_ms']).toBeGreaterThanOrEqual(1400);
      expect(lines.at(-1)).toMatchObject({ method: 'GET', path: '/v2/health/ready', status: 200, bytes: readyBody.byteLength, model: null });
      expect(inferLines.find((line) => line['status'] === 500)!['bytes']).toBe(Buffer.byteLength(body));
    } finally {
      result = await server.stop();
    }
    expect(result.code, result.stderr).toBe(0);
  });

  it('--log-format common writes Apache\'s common log format; the default writes nothing on stdout', async () => {
    const server = await serve(['--log-format', 'common']);
    try {
      const answer = await infer(server.url, 1);
      const bytes = (await answer.arrayBuffer()).byteLength;
      await fetch(`${server.url}/v2/nope?x=1`);
      await waitFor(() => server.stdout().length >= 2, 5000, '2 access-log lines');
      const [first, second] = server.stdout();
      expect(first).toMatch(new RegExp(
        `^127\\.0\\.0\\.1 - - \\[\\d{2}/[A-Z][a-z]{2}/\\d{4}:\\d{2}:\\d{2}:\\d{2} [+-]\\d{4}\\] "POST /v2/models/counter/infer HTTP/1\\.1" 200 ${bytes}$`,
      ));
      expect(second).toMatch(/"GET \/v2\/nope\?x=1 HTTP\/1\.1" 404 \d+$/);
    } finally {
      await server.stop();
    }

    const quiet = await serve([]);
    try {
      expect((await infer(quiet.url, 1)).status).toBe(200);
    } finally {
      const result = await quiet.stop();
      expect(result.stdout).toBe('');
    }
  });
});

describe('pyudf serve --expose-errors', () => {
  it('puts the Python exception\'s type and message in a 500, never the traceback', async () => {
    const server = await serve(['--expose-errors']);
    try {
      const failed = await infer(server.url, 13);
      expect(failed.status).toBe(500);
      const { error } = await failed.json() as { error: string };
      expect(error).toMatch(/^model "counter" raised ValueError: .*secret/);
      expect(error).not.toContain('Traceback');
    } finally {
      await server.stop();
    }
  });
});

describe('pyudf serve: numbers are checked (exit 2)', () => {
  it.each([
    [['--max-batch-rows', '0'], /--max-batch-rows <n>' argument '0' is invalid. expected a whole number of 1 or more/],
    [['--max-batch-rows', '2.5'], /expected a whole number of 1 or more, got "2.5"/],
    [['--max-delay-ms', '-1'], /--max-delay-ms <ms>' argument '-1' is invalid. expected a whole number of 0 or more/],
    [['--timeout-ms', 'soon'], /--timeout-ms <ms>' argument 'soon' is invalid/],
    [['--workers', '0'], /--workers <n>' argument '0' is invalid/],
    [['--log-format', 'xml'], /argument 'xml' is invalid. Allowed choices are off, common, json/],
  ])('%j', async (flags, message) => {
    const result = await runCli(['serve', model, '--port', '0', ...flags]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
