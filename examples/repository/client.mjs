// client.mjs URL MODELS REPO: what a repository server serves, a call by version, and a new version swapped in.
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import { tableFromIPC } from 'apache-arrow';

const [url = 'http://127.0.0.1:8000', models = 'models', repo = 'repo'] = process.argv.slice(2);
const post = async (path, body) => (await fetch(`${url}${path}`, { method: 'POST', body: body && JSON.stringify(body) })).json();
const states = async () => (await post('/v2/repository/index')).map((m) => `${m.name}/${m.version} ${m.state}`).join(', ');

// Digit 7 of scikit-learn's set, as an FP32 tensor of shape [1, 64].
const pixels = Array.from(tableFromIPC(readFileSync(`${models}/digits.arrow`)).getChild('pixels').get(7).toArray());
const inputs = [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: pixels }];
const argmax = (values) => values.indexOf(Math.max(...values));

console.log(await states()); // digits/1 READY, digits-sklearn/1 READY
const keras = await post('/v2/models/digits/versions/1/infer', { inputs });
const sklearn = await post('/v2/models/digits-sklearn/infer', { inputs });
console.log(keras.outputs[0].name, argmax(keras.outputs[0].data), sklearn.outputs[0].name, argmax(sklearn.outputs[0].data)); // probs 7 predict_proba 7

// A new version: copy it in, then load it. Version 2 takes requests once ready; version 1 drains, then unloads.
mkdirSync(`${repo}/digits/2`);
cpSync(`${models}/digits.keras`, `${repo}/digits/2/model.keras`);
await post('/v2/repository/models/digits/load');
console.log(await states()); // digits/2 READY, digits-sklearn/1 READY
console.log((await post('/v2/models/digits/infer', { inputs })).model_version); // 2
