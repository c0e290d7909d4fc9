// serve.mjs: model.py behind an Open Inference Protocol (KServe v2) endpoint, called with fetch.
import { createServer } from 'pyudf';

const server = createServer({ model: { module: new URL('./model.py', import.meta.url).pathname, conf: { weights: [0.5, 2] } }, port: 0 });
const { url } = await server.listen();
try {
  const response = await fetch(`${url}/v2/models/model/infer`, {
    method: 'POST',
    body: JSON.stringify({
      inputs: [
        { name: 'a', datatype: 'FP64', shape: [2], data: [1, 2] },
        { name: 'b', datatype: 'FP64', shape: [2], data: [10, 20] },
      ],
    }),
  });
  const { outputs } = await response.json();
  console.log(outputs[0].name, outputs[0].data); // score [ 20.5, 41 ]
} finally {
  await server.close(); // drains in-flight requests, then stops the workers
}
