// saved models served end to end under hostile inputs: damaged files, string outputs of zero rows,
// and a client's wrong columns.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool, type PoolStats, PythonError } from '../../src/index.js';
import { createServer, type ModelServer } from '../../src/serve/index.js';
import { PYTHON, tempDir } from '../helpers.js';

/** strings.onnx: a LinearClassifier with string labels, outputs label (N,) strings and probs (N, 2). */
const MAKE_MODELS = `
import sys
import onnx
from onnx import TensorProto, helper

node = helper.make_node("LinearClassifier", ["X"], ["label", "probs"], domain="ai.onnx.ml",
                        coefficients=[1.0, -1.0, 0.5, 0.5], intercepts=[0.0, 0.1], classlabels_strings=["cat", "dog"])
graph = helper.make_graph([node], "strings", [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 2])],
                          [helper.make_tensor_value_info("label", TensorProto.STRING, ["N"]),
                           helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 2])])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 1)], ir_version=8)
onnx.save(model, sys.argv[1] + "/strings.onnx")
`;

let dir: string;
let pool: Pool<PoolStats>;
let server: ModelServer;
const logs: string[] = [];

beforeAll(async () => {
  dir = tempDir('builtins-hostile-');
  await execa(PYTHON, ['-c', MAKE_MODELS, dir]);
  // 300 bytes that are no pickle, and an empty file: what a failed copy leaves.
  writeFileSync(path.join(dir, 'damaged.joblib'), Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37 + 11) % 256)));
  writeFileSync(path.join(dir, 'empty.joblib'), '');
  pool = await createPool({ python: PYTHON, workers: 1, logger: () => undefined });
  server = createServer({ model: { model: path.join(dir, 'strings.onnx') }, pool, port: 0, logger: (line) => logs.push(line) });
  await server.listen();
});

afterAll(async () => {
  await server?.close();
  await pool?.close();
});

const infer = async (inputs: unknown[]): Promise<{ status: number; body: Record<string, unknown> }> => {
  const response = await fetch(`${server.url}/v2/models/strings/infer`, { method: 'POST', body: JSON.stringify({ inputs }) });
  return { status: response.status, body: await response.json() as Record<string, unknown> };
};

describe('saved models under hostile inputs', () => {
  it('answers zero rows of a model with a string output (it was Arrow\'s null type, a 500)', async () => {
    expect(await infer([{ name: 'X', datatype: 'FP32', shape: [0, 2], data: [] }])).toEqual({
      status: 200,
      body: {
        model_name: 'strings', model_version: '1',
        outputs: [{ name: 'label', datatype: 'BYTES', shape: [0], data: [] }, { name: 'probs', datatype: 'FP32', shape: [0, 2], data: [] }],
      },
    });
    expect((await infer([{ name: 'X', datatype: 'FP32', shape: [1, 2], data: [1, 1] }])).body['outputs']).toMatchObject([{ name: 'label', data: ['dog'] }, { name: 'probs', shape: [1, 2] }]);
  });

  it('refuses a damaged or empty file with a SavedModelError naming it and its format (it was KeyError: 249, or EOFError with no message)', async () => {
    for (const file of ['damaged.joblib', 'empty.joblib']) {
      const error = await pool.register({ model: path.join(dir, file) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PythonError);
      expect((error as PythonError).pythonType).toBe('pyudf.builtins.model_errors.SavedModelError');
      expect((error as PythonError).pythonMessage).toMatch(new RegExp(`^cannot load ${path.join(dir, file)} as format 'sklearn': (KeyError|EOFError|UnpicklingError): `));
    }
  });

  // A ModelInputError says what the client's columns lack, and is safe to show: a 400 with the reason, not a
  // 500 naming the type only and logged as the server's fault.
  it('answers columns that do not fit the model with 400 and the reason', async () => {
    const answer = await infer([{ name: 'a', datatype: 'FP32', shape: [1], data: [1] }, { name: 'b', datatype: 'BYTES', shape: [1], data: ['x'] }]);
    expect(answer.status).toBe(400);
    expect(answer.body['error']).toContain('columns stack into X only when all are plain numbers, and b is string');
  });
});
