// Physical floors of the identity workload: a JSON line over a stdio pipe (baselines/pipe_echo.py echoes
// it), and the IPC bytes copied once in memory with Buffer.copy.
import { baselinePath } from './config.mjs';
import { startPython, stop, waitForLine } from './procs.mjs';

export class PipeEcho {
  constructor(child) {
    this.child = child;
    this.waiting = [];
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      partial += chunk;
      for (let end = partial.indexOf('\n'); end >= 0; end = partial.indexOf('\n')) {
        this.waiting.shift()?.(partial.slice(0, end));
        partial = partial.slice(end + 1);
      }
    });
    child.stdout.resume(); // waitForLine's readline paused it when it closed
  }

  static async start() {
    const child = startPython([baselinePath('pipe_echo.py')]);
    await waitForLine(child, (line) => line === 'ready');
    return new PipeEcho(child);
  }

  /** Sends `value` as one JSON line and resolves with the echo, parsed. */
  roundTrip(value) {
    return new Promise((resolve) => {
      this.waiting.push((line) => resolve(JSON.parse(line)));
      this.child.stdin.write(`${JSON.stringify(value)}\n`);
    });
  }

  close() {
    return stop(this.child);
  }
}

/** A call that copies `bytes` once into a buffer of its own (Buffer.copy: one memcpy). */
export function copyOnce(bytes) {
  const source = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const target = Buffer.allocUnsafe(bytes.byteLength);
  return async () => source.copy(target);
}
