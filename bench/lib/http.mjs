// HTTP JSON baselines: Tornado or FastAPI processes sharing one port, and a keep-alive JSON client.
import http from 'node:http';
import { baselinePath } from './config.mjs';
import { startPython, stop, waitForLine } from './procs.mjs';

/** Starts `procs` Tornado processes serving `module` on one port (SO_REUSEPORT). */
export const startTornado = (options) => startService('tornado_udf.py', options);

/** Starts `procs` FastAPI-on-uvicorn processes serving `module` on one port (SO_REUSEPORT). */
export const startFastApi = (options) => startService('fastapi_udf.py', options);

async function startService(script, { module, conf, procs = 2 }) {
  const base = [baselinePath(script), '--module', module, '--reuse-port',
    ...(conf === undefined ? [] : ['--conf', JSON.stringify(conf)])];
  const first = startPython([...base, '--port', '0']);
  const port = Number((await waitForLine(first, (l) => l.startsWith('PORT '))).slice(5));
  const children = [first];
  for (let i = 1; i < procs; i++) {
    const child = startPython([...base, '--port', String(port)]);
    children.push(child);
    await waitForLine(child, (l) => l.startsWith('PORT '));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    pids: children.map((c) => c.pid),
    close: () => Promise.all(children.map((child) => stop(child))),
  };
}

/** POSTs JSON bodies to one URL over a keep-alive agent; resolves with the parsed answer. */
export function jsonClient(url, maxSockets = 64) {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const { hostname, port, pathname } = new URL(url);
  const post = (body) => new Promise((resolve, reject) => {
    const request = http.request({
      agent, hostname, port, path: pathname, method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (response.statusCode === 200) resolve(JSON.parse(text));
        else reject(new Error(`HTTP ${response.statusCode} from ${url}: ${text.slice(0, 300)}`));
      });
    });
    request.on('error', reject);
    request.end(body);
  });
  return { post, close: () => agent.destroy() };
}
