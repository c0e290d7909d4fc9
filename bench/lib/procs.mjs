// Child processes the bench starts: spawn, wait for a line, and stop each one by its pid.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { PYTHON } from './config.mjs';

const live = new Map(); // pid -> ChildProcess

/**
 * Starts `python script args…` with stdin a pipe (the scripts exit when it closes, so a crash of
 * this process leaves nothing behind), stdout read line by line, stderr passed through.
 */
export function startPython(args, { env = {}, stdio = ['pipe', 'pipe', 'inherit'] } = {}) {
  const child = spawn(PYTHON, args, { stdio, env: { ...process.env, PYTHONUNBUFFERED: '1', ...env } });
  if (child.pid === undefined) throw new Error(`cannot start ${PYTHON} ${args.join(' ')}`);
  live.set(child.pid, child);
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    live.delete(child.pid);
    resolve({ code, signal });
  }));
  return child;
}

/** Resolves with the first stdout line that `match` accepts; rejects if the process ends first. */
export function waitForLine(child, match, timeoutMs = 120_000) {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => done(new Error(`no expected line from pid ${child.pid} within ${timeoutMs} ms`)), timeoutMs);
    const done = (error, line) => {
      clearTimeout(timer);
      lines.close();
      if (error) reject(error); else resolve(line);
    };
    lines.on('line', (line) => { if (match(line)) done(undefined, line); });
    void child.exited.then(({ code, signal }) => done(new Error(`pid ${child.pid} exited (${code ?? signal}) before it was ready`)));
  });
}

/** Collects a child's whole stdout (for scripts that print one JSON answer and exit). */
export function runPython(args, options) {
  return collectStdout(startPython(args, options), args[0]);
}

/** Runs `node script args…` (a helper that prints one JSON answer) and collects its stdout. */
export function runNode(args) {
  return collectStdout(adopt(spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] })), args[0]);
}

async function collectStdout(child, what) {
  child.stdin.end();
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => { out += chunk; });
  const { code, signal } = await child.exited;
  if (code !== 0) throw new Error(`${what} failed (${code ?? signal})`);
  return out;
}

/** Ends one process: SIGTERM by pid, then SIGKILL after `graceMs`. */
export async function stop(child, graceMs = 3000) {
  if (!live.has(child.pid)) return;
  child.stdin?.end();
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => { if (live.has(child.pid)) process.kill(child.pid, 'SIGKILL'); }, graceMs);
  await child.exited;
  clearTimeout(timer);
}

/** Last resort when a workload dies: SIGKILL whatever it started, each by its pid. */
export function killAll() {
  for (const pid of live.keys()) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
}

process.once('exit', killAll);

/** Tracks a child started by someone else (python-shell), so stop() and killAll() cover it too. */
export function adopt(child) {
  live.set(child.pid, child);
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    live.delete(child.pid);
    resolve({ code, signal });
  }));
  return child;
}
