// HTTP load generator, run as its own process so it never shares an event loop with a server it
// measures: `node http-load.mjs '<json config>'` loads each URL in turn (concurrentRounds) and prints
// one JSON line: per URL, the latencies, the rounds and the check of one answer.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { oipChecksum } from './data.mjs';
import { jsonClient } from './http.mjs';
import { concurrentRounds } from './timing.mjs';

/** Runs the generator in a child process against `config.urls`; resolves with one result per URL. */
export function httpLoad(config) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => { out += chunk; });
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`http-load exited ${code}`))));
  });
}

async function main({ urls, body, callers, settings }) {
  const clients = urls.map((url) => jsonClient(url, callers));
  try {
    const checks = [];
    for (const client of clients) checks.push(oipChecksum(await client.post(body)));
    const measured = await concurrentRounds(clients.map((client) => () => client.post(body)), callers, settings);
    process.stdout.write(`${JSON.stringify(measured.map((m, i) => ({ ...m, check: checks[i] })))}\n`);
  } finally {
    for (const client of clients) client.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(JSON.parse(process.argv[2]));
