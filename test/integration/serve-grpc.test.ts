// createServer({ repository, grpcPort }) and `pyudf serve --repository --grpc-port`: the gRPC service of a real server, driven by tritonclient.grpc.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { createServer } from '../../src/index.js';
import { fixture, PYTHON, ROOT, tempDir } from '../helpers.js';

const CLIENT = fixture('grpc/triton_client.py');
const x = [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }];

/** test/fixtures/grpc/models.py as a repository: one model per hook, its tensors and conf in config.json. */
const CONFIGS: Record<string, object> = {
  identity: { apply: 'identity', input: x, output: x },
  double: { apply: 'double', input: [{ name: 'n', datatype: 'INT64', shape: [-1] }], output: [{ name: 'doubled', datatype: 'INT64', shape: [-1] }, { name: 'n', datatype: 'INT64', shape: [-1] }] },
  upper: { apply: 'upper', input: [{ name: 's', datatype: 'BYTES', shape: [-1] }], output: [{ name: 'upper', datatype: 'BYTES', shape: [-1] }] },
  fail: { apply: 'fail', input: x, output: x },
  slow: { apply: 'slow', conf: { seconds: 3 }, input: x, output: x },
};

let repository: string;

beforeAll(() => {
  repository = tempDir('grpc-repo-');
  for (const [name, config] of Object.entries(CONFIGS)) {
    mkdirSync(path.join(repository, name, '1'), { recursive: true });
    copyFileSync(fixture('grpc/models.py'), path.join(repository, name, '1', 'model.py'));
    writeFileSync(path.join(repository, name, 'config.json'), JSON.stringify(config));
  }
});

describe('the gRPC service of createServer()', () => {
  it('serves every model of a repository to tritonclient.grpc: exact FP32, INT64 and BYTES, errors as status codes', async () => {
    const server = createServer({
      repository, grpcPort: 0, port: 0, maxRequestRows: 1000, maxBodyBytes: 1024 * 1024, poolOptions: { workers: 2 }, logger: () => undefined,
    });
    try {
      await server.listen();
      expect(server.grpcPort).toBeGreaterThan(0);
      const run = await execa(PYTHON, [CLIENT, `127.0.0.1:${server.grpcPort}`, 'checks'], { reject: false });
      expect(run.stderr).toBe('');
      expect(run.exitCode).toBe(0);
      const report = JSON.parse(run.stdout) as Record<string, Record<string, unknown>>;
      expect(report['health']).toMatchObject({ live: true, ready: true, model_ready: true, model_ready_v9: false });
      expect(report['infer']).toMatchObject({ bytes: ['HELLO', 'HÉLLO WÖRLD', '', 'ÑANDÚ', 'ЖУК'], versioned: '1' });
      const codes = Object.values(report['errors']!).map((e) => (e as { status: string }).status);
      expect(codes).toContain('StatusCode.INTERNAL');
      // gRPC calls count in the server's metrics, by model and version, with the gRPC code as status.
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toMatch(/^pyudf_requests_total\{model="double",version="1",protocol="grpc",code="OK"\} [1-9]/m);
      expect(metrics).toMatch(/^pyudf_requests_total\{model="fail",version="1",protocol="grpc",code="INTERNAL"\} 1$/m);
    } finally {
      await server.close();
    }
  });

  it('pyudf serve --repository DIR --grpc-port 0 prints the gRPC port and answers on it until SIGTERM', async () => {
    const child = execa('node', [path.join(ROOT, 'dist', 'cli', 'main.js'), 'serve', '--repository', repository, '--port', '0', '--grpc-port', '0', '--workers', '1'], { reject: false });
    try {
      const port = await new Promise<string>((resolve, reject) => {
        let text = '';
        child.stderr!.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          const match = /and gRPC on port (\d+)/.exec(text);
          if (match) resolve(match[1]!);
        });
        void child.then(() => reject(new Error(`pyudf serve exited: ${text}`)));
      });
      const script = [
        'import sys, numpy as np, tritonclient.grpc as g',
        'c = g.InferenceServerClient(sys.argv[1])',
        'i = g.InferInput("n", [2], "INT64"); i.set_data_from_numpy(np.array([21, -4], dtype=np.int64))',
        'print(c.is_server_ready(), c.infer("double", [i]).as_numpy("doubled").tolist())',
      ].join('\n');
      const { stdout } = await execa(PYTHON, ['-c', script, `127.0.0.1:${port}`]);
      expect(stdout.trim()).toBe('True [42, -8]');
    } finally {
      child.kill('SIGTERM');
      const exit = await child;
      expect(exit.exitCode).toBe(0);
    }
  });
});
