// `pyudf serve`: flags reach createServer(); the model answers over HTTP; SIGTERM drains and exits 0.
import type { ChildProcess } from 'node:child_process';
import { tableFromArrays, tableFromIPC, tableToIPC } from 'apache-arrow';
import { expect, it } from 'vitest';
import { fixture } from '../helpers.js';
import { runCli, servingUrl } from '../fixtures/cli_run.js';

it('serves the module under --name on port 0, with --init/--apply hooks and --conf, until SIGTERM', async () => {
  let child: ChildProcess | undefined;
  const run = runCli(['serve', fixture('scale.py'), '--name', 'scaler', '--port', '0', '--workers', '1',
    '--init', 'load', '--apply', 'predict', '--conf', 'k=3'], {
    started: (spawned) => { child = spawned; },
  });
  const url = await servingUrl(child!);
  try {
    expect((await fetch(`${url}/v2/models/scaler/ready`)).status).toBe(200);
    const response = await fetch(`${url}/v2/models/scaler/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.apache.arrow.stream', accept: 'application/vnd.apache.arrow.stream' },
      body: tableToIPC(tableFromArrays({ x: new Float64Array([1, 2]) }), 'stream'),
    });
    expect(response.status).toBe(200);
    const result = tableFromIPC(new Uint8Array(await response.arrayBuffer()));
    expect([...result.getChild('y')!]).toEqual([3, 6]);
  } finally {
    child!.kill('SIGTERM');
  }
  const result = await run;
  expect(result.code, result.stderr).toBe(0);
});
