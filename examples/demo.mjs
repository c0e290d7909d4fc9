// npm run demo: a Keras digits classifier, trained in Python, used from Node three ways:
// a batch job over a file (the pyudf CLI), a stream, and a web API, all on one pool of 2 workers;
// then a model repository server that swaps in a new version under load.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { execa } from 'execa';
import { createPool, createServer, tensorOf } from '../dist/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const python = path.join(root, '.venv', 'bin', 'python');
const modelFile = path.join(root, 'examples', 'digits_model.py');
const workDir = path.join(os.tmpdir(), 'pyudf-demo');
const modelPath = path.join(workDir, 'digits.keras');

// 0. Train the model (about 20 s, first run only); this also writes the 1797 digits as an Arrow file.
await execa(python, [modelFile, modelPath], { stdio: 'inherit' });
const digits = tableFromIPC(readFileSync(path.join(workDir, 'digits.arrow')));
const input = digits.select(['pixels']);
const truth = digits.getChild('label').toArray();

let correct = 0;

// Two Python workers; each loads the model once, in init(conf).
const pool = await createPool({ workers: 2, python });
try {
  const udf = await pool.register({ module: modelFile, conf: { model_path: modelPath }, batchSize: 256 });

  // 1. A table: Table in, Table out (label, probs), rows in input order.
  await udf.apply(input); // warm-up: TensorFlow builds its predict graph on the first call
  const start = performance.now();
  const out = await udf.apply(input);
  const seconds = (performance.now() - start) / 1000;
  const predicted = out.getChild('label').toArray();
  // probs: a (rows, 10) tensor column; tensorOf gives its float32 values (no copy) and its shape.
  const probs = tensorOf(out.getChild('probs'));
  const classes = probs.shape[1];
  console.log('\n1. apply(): a table of all digits');
  console.log('row  true  predicted  confidence');
  for (let i = 0; i < 5; i++) {
    const confidence = Math.max(...probs.values.subarray(i * classes, (i + 1) * classes));
    console.log(`${String(i).padStart(3)}  ${String(truth[i]).padStart(4)}  ${String(predicted[i]).padStart(9)}  ${confidence.toFixed(3).padStart(10)}`);
  }
  correct = [...truth.keys()].filter((i) => predicted[i] === truth[i]).length;
  console.log(`accuracy: ${(correct / truth.length).toFixed(3)} on ${truth.length} digits`);
  console.log(`speed:    ${out.numRows} rows in ${(seconds * 1000).toFixed(0)} ms = ${Math.round(out.numRows / seconds)} rows/s`);

  // 2. A stream: batches of 100 digits go in, predictions come out in order, at most 4 in flight.
  async function* batchesOf100() {
    for (let offset = 0; offset < input.numRows; offset += 100) yield input.slice(offset, offset + 100);
  }
  let streamed = 0;
  let streamedCorrect = 0;
  for await (const batch of udf.stream(batchesOf100(), { maxInFlight: 4 })) {
    for (const label of batch.getChild('label')) streamedCorrect += label === truth[streamed++] ? 1 : 0;
  }
  console.log(`\n2. stream(): ${streamed} digits in batches of 100, ${streamedCorrect} correct (same as apply: ${streamedCorrect === correct})`);

  // 3. A web API (Open Inference Protocol) over the same UDF, called as any OIP client would.
  const server = createServer({ udf, port: 0 });
  const { url } = await server.listen();
  try {
    const pixels = Array.from(input.getChild('pixels').get(7).toArray());
    const response = await fetch(`${url}/v2/models/${udf.name}/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: pixels }] }),
    });
    const { outputs } = await response.json();
    const label = outputs.find((o) => o.name === 'label').data[0];
    console.log(`\n3. web API: POST ${url}/v2/models/${udf.name}/infer with digit 7 of the set -> label ${label} (true ${truth[7]})`);
  } finally {
    await server.close();
  }
} finally {
  await pool.close();
}

// 4. A batch job over a file: the pyudf CLI streams an Arrow file through its own pool into Parquet.
const pixelsFile = path.join(workDir, 'pixels.arrow');
const predictionsFile = path.join(workDir, 'predictions.arrow');
writeFileSync(pixelsFile, tableToIPC(input, 'file'));
console.log('\n4. the CLI: pyudf apply examples/digits_model.py -i pixels.arrow -o predictions.arrow');
await execa('node', [path.join(root, 'dist', 'cli', 'main.js'), 'apply', modelFile, '-i', pixelsFile, '-o', predictionsFile,
  '--conf', `model_path=${modelPath}`, '--workers', '2', '--python', python, '--no-progress'], { stdio: 'inherit' });
const fromFile = tableFromIPC(readFileSync(predictionsFile)).getChild('label').toArray();
const fileCorrect = [...truth.keys()].filter((i) => fromFile[i] === truth[i]).length;
console.log(`   ${fromFile.length} predictions in ${predictionsFile}, ${fileCorrect} correct (same as apply: ${fileCorrect === correct})`);

// 5. A model repository: saved models with no Python file, versioned, over REST and gRPC; a new
// version is loaded while 8 clients keep calling, and not one request fails.
const models = path.join(workDir, 'models');
const repo = path.join(workDir, 'repo');
await execa(python, [path.join(root, 'examples', 'saved-models', 'train.py'), models], { stdio: 'inherit' });
rmSync(repo, { recursive: true, force: true });
await execa('bash', [path.join(root, 'examples', 'repository', 'make-repo.sh'), models, repo]);
const server = createServer({ repository: repo, port: 0, grpcPort: 0, poolOptions: { workers: 2, python }, logger: () => {} });
const { url } = await server.listen();
try {
  const post = async (route, body) => (await fetch(`${url}${route}`, { method: 'POST', body: body && JSON.stringify(body) })).json();
  const index = async () => (await post('/v2/repository/index')).map((m) => `${m.name}/${m.version} ${m.state}`).join(', ');
  const pixels = Array.from(input.getChild('pixels').get(7).toArray());
  const inputs = [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: pixels }];
  const argmax = (values) => values.indexOf(Math.max(...values));
  console.log(`\n5. a model repository: pyudf serve --repository ${repo} (REST at ${url}, gRPC on port ${server.grpcPort})`);
  console.log(`   ${await index()}`);
  for (const model of ['digits', 'digits-sklearn']) {
    const { outputs } = await post(`/v2/models/${model}/infer`, { inputs });
    console.log(`   POST /v2/models/${model}/infer with digit 7 -> ${outputs[0].name} argmax ${argmax(outputs[0].data)}`);
  }
  let calling = true;
  const answers = { ok: 0, failed: 0, versions: new Set() };
  const clients = Array.from({ length: 8 }, async () => {
    while (calling) {
      const response = await fetch(`${url}/v2/models/digits/infer`, { method: 'POST', body: JSON.stringify({ inputs }) });
      const reply = await response.json();
      if (response.ok) { answers.ok++; answers.versions.add(reply.model_version); } else answers.failed++;
    }
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  mkdirSync(path.join(repo, 'digits', '2'));
  cpSync(path.join(models, 'digits.keras'), path.join(repo, 'digits', '2', 'model.keras'));
  await post('/v2/repository/models/digits/load');
  await new Promise((resolve) => setTimeout(resolve, 300));
  calling = false;
  await Promise.all(clients);
  console.log(`   version 2 loaded under load: ${answers.ok + answers.failed} requests by 8 clients, ${answers.failed} failed, answered by versions ${[...answers.versions].sort().join(' then ')}`);
  console.log(`   ${await index()}`);
} finally {
  await server.close();
}
