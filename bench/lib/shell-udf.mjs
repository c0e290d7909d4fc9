// python-shell baseline, Node side: JSON lines over stdio to baselines/shell_udf.py, answers matched by id.
import { PythonShell } from 'python-shell';
import { baselinePath, PYTHON } from './config.mjs';
import { adopt, stop } from './procs.mjs';

export class ShellUdf {
  constructor(shell) {
    this.shell = shell;
    this.pending = new Map();
    this.nextId = 0;
    shell.on('message', (message) => {
      const resolve = this.pending.get(message.id);
      this.pending.delete(message.id);
      resolve?.(message.columns);
    });
  }

  static async start(module, conf) {
    const args = ['--module', module, ...(conf === undefined ? [] : ['--conf', JSON.stringify(conf)])];
    const shell = new PythonShell(baselinePath('shell_udf.py'), {
      mode: 'json', pythonPath: PYTHON, args, env: { ...process.env, PYTHONUNBUFFERED: '1' },
    });
    adopt(shell.childProcess);
    await new Promise((resolve, reject) => {
      shell.once('message', resolve);
      shell.once('error', reject);
      shell.once('pythonError', reject);
    });
    return new ShellUdf(shell);
  }

  /** Sends `{ id, columns }` as one JSON line; resolves with the answer's columns. */
  request(columns) {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.shell.send({ id, columns });
    });
  }

  async close() {
    await stop(this.shell.childProcess); // closes stdin (the script ends at end of input), then SIGTERM
  }
}
