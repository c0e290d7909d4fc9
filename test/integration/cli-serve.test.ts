// `pyudf serve`: flags reach createServer(); the model answers over HTTP; SIGTERM drains and exits 0.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { tableFromArrays, tableFromIPC, tableToIPC } from 'apache-arrow';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { fixture, PYTHON, tempDir } from '../helpers.js';
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

it('serves a saved model with no Python file (pyudf serve m.joblib), answering as the estimator itself does', async () => {
  const dir = tempDir('cli-serve-saved-');
  const train = [
    'import sys, json, joblib, numpy as np',
    'from sklearn.datasets import load_iris',
    'from sklearn.linear_model import LogisticRegression',
    'x, y = load_iris(return_X_y=True)',
    'model = LogisticRegression(max_iter=500).fit(x, y)',
    'joblib.dump(model, sys.argv[1])',
    'print(json.dumps({"x": x[::30].tolist(), "predict": model.predict(x[::30]).tolist()}))',
  ].join('\n');
  const { stdout } = await execa(PYTHON, ['-c', train, path.join(dir, 'iris.joblib')]);
  const expected = JSON.parse(stdout) as { x: number[][]; predict: number[] };
  let child: ChildProcess | undefined;
  const run = runCli(['serve', path.join(dir, 'iris.joblib'), '--port', '0', '--workers', '1'], { started: (spawned) => { child = spawned; } });
  const url = await servingUrl(child!);
  try {
    const response = await fetch(`${url}/v2/models/iris/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP64', shape: [expected.x.length, 4], data: expected.x.flat() }] }),
    });
    const body = await response.json() as { outputs: { name: string; data: number[] }[] };
    expect(response.status, JSON.stringify(body)).toBe(200);
    expect(body.outputs.map((o) => o.name)).toEqual(['predict']);
    expect(body.outputs[0]!.data).toEqual(expected.predict);
  } finally {
    child!.kill('SIGTERM');
  }
  expect((await run).code).toBe(0);
});
