// `pyudf apply` interrupted: one SIGINT or SIGTERM, whenever it comes (reading the module's schemas,
// starting the pool, mid-file, with stdout or stdin stalled), exits 130 within seconds, leaving no output
// file, no partial file, no worker process and no temp directory; a second one exits at once.
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fixture, PYTHON, tempDir, waitFor } from '../helpers.js';
import { CLI } from '../fixtures/cli_run.js';

const ROWS = 1_000_000;
/** 100 batches at 0.1 s each on 2 workers: about 5 s of work, so every signal lands mid-run. */
const SLOW = ['--workers', '2', '--batch-size', '10000', '--conf', 'seconds=0.1'];
/** A batch takes 30 s: the workers are still computing when the run is interrupted. */
const STUCK = ['--workers', '2', '--batch-size', '10000', '--conf', 'seconds=30'];
/** From the signal to the process's exit, at most. */
const PROMPT_MS = 5_000;
/** A run still going this long after the signal hangs: it is killed and the test fails. */
const HUNG_MS = 10_000;
const SHARED_MEMORY = '/dev/shm';

let dir: string;
const file = (name: string): string => path.join(dir, name);

beforeAll(() => {
  dir = tempDir('cli-interrupt-');
  execFileSync(PYTHON, [fixture('cli_tables.py'), 'make', String(ROWS), ...['in.parquet', 'in.arrow', 'in.arrows', 'in.csv'].map(file)]);
});

const started: Apply[] = [];
afterEach(() => {
  for (const run of started.splice(0)) run.kill();
});

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** When the process exited (Date.now()). */
  readonly at: number;
  /** Worker processes that still existed (running, or dead but not reaped by the CLI) as it exited. */
  readonly workersLeft: number[];
}

/** A `pyudf apply` process, with its worker processes watched (as children of the CLI, from /proc). */
class Apply {
  readonly child: ChildProcessWithoutNullStreams;
  readonly workers = new Set<number>();
  readonly schemaReaders = new Set<number>();
  readonly exited: Promise<Exit>;
  /** The CLI's own temp directory (TMPDIR): its socket and schema directories go here, not in the shared /tmp. */
  readonly tmp: string;
  stderr = '';
  private done = false;

  constructor(name: string, args: readonly string[]) {
    started.push(this);
    this.tmp = file(`tmp-${name}`);
    mkdirSync(this.tmp);
    this.child = spawn(process.execPath, [CLI, 'apply', fixture('sleepy.py'), ...args], {
      cwd: dir,
      env: { ...process.env, PYUDF_PYTHON: PYTHON, TMPDIR: this.tmp },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => { this.stderr += chunk; });
    const timer = setInterval(() => this.watch(), 10);
    this.exited = new Promise((resolve, reject) => {
      this.child.on('error', reject);
      this.child.on('exit', (code, signal) => {
        // At once: a worker the CLI did not wait for is still there (running, or a zombie until init reaps it).
        const workersLeft = [...this.workers].filter((pid) => existsSync(`/proc/${pid}`));
        clearInterval(timer);
        this.done = true;
        resolve({ code, signal, at: Date.now(), workersLeft });
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  partialFile(output: string): string {
    return file(`.${output}.${this.pid}.partial`);
  }

  /** Waits for `condition`, failing at once (with the CLI's stderr) if the CLI exits first. */
  async until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    await waitFor(() => {
      if (this.done) throw new Error(`pyudf exited before ${what}:\n${this.stderr}`);
      return condition();
    }, timeoutMs, what);
  }

  /** Sends `signal`; resolves with the exit and the milliseconds it took, or fails (killing the CLI) if it hangs. */
  async interrupt(signal: NodeJS.Signals = 'SIGINT'): Promise<Exit & { readonly ms: number }> {
    const sent = Date.now();
    this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.kill();
        reject(new Error(`pyudf was still running ${HUNG_MS} ms after ${signal}:\n${this.stderr}`));
      }, HUNG_MS);
    });
    try {
      const exit = await Promise.race([this.exited, hung]);
      return { ...exit, ms: exit.at - sent };
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILLs the CLI if it is still running, and its workers (a failed test must not leave them). */
  kill(): void {
    if (this.done) return;
    for (const pid of [this.pid, ...this.workers]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch { /* gone */ }
    }
  }

  private watch(): void {
    for (const pid of childrenOf(this.pid)) {
      if (this.workers.has(pid) || this.schemaReaders.has(pid)) continue;
      const command = commandLine(pid);
      if (command.includes('pyudf.worker')) this.workers.add(pid);
      else if (command.includes('pyudf.schemas')) this.schemaReaders.add(pid);
    }
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((task) => readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8')
      .split(/\s+/).filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** True while `pid` exists and is not a zombie. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function fileSize(name: string): number {
  try {
    return statSync(name).size;
  } catch {
    return 0;
  }
}

/** What every interrupted run must leave: exit 130 soon after the signal, the message, and nothing behind. */
function expectCleanInterrupt(run: Apply, exit: Exit & { ms: number }, output?: string): void {
  expect({ code: exit.code, signal: exit.signal }, run.stderr).toEqual({ code: 130, signal: null });
  expect(exit.ms, 'milliseconds from the signal to the exit').toBeLessThan(PROMPT_MS);
  expect(run.stderr).toContain('pyudf: interrupted');
  expect(exit.workersLeft, 'worker processes left when pyudf exited').toEqual([]);
  if (output) expect(existsSync(file(output)), `${output} exists`).toBe(false);
  expect(readdirSync(dir).filter((name) => name.includes('.partial')), 'partial files').toEqual([]);
  expect(readdirSync(run.tmp), 'pyudf temp directories left in TMPDIR').toEqual([]);
  expect(readdirSync(SHARED_MEMORY).filter((name) => name.startsWith(`pyudf-${run.pid}-`)), 'shared-memory directories left').toEqual([]);
}

describe('pyudf apply: one SIGINT mid-run, with part of the output written', () => {
  it.each([
    ['Parquet', 'in.parquet', 'out.parquet'],
    ['CSV', 'in.csv', 'out.csv'],
    ['Arrow', 'in.arrow', 'out.arrow'],
  ])('%s output: exits 130 at once, with no file and no worker left', async (_, input, output) => {
    const run = new Apply(output, [...SLOW, '-i', input, '-o', output]);
    run.child.stdin.end();
    run.child.stdout.resume();
    await run.until(() => fileSize(run.partialFile(output)) > 0, `${output}'s partial file to hold bytes`);
    expect(run.workers.size).toBe(2);
    expectCleanInterrupt(run, await run.interrupt(), output);
  });

  it('stdout: exits 130 at once though the reader of stdout stopped reading', async () => {
    const run = new Apply('stdout', [...SLOW, '-i', 'in.parquet', '-o', '-']);
    run.child.stdin.end();
    await new Promise((resolve) => run.child.stdout.once('data', resolve));
    // The pipe fills, and the CLI waits for it to drain.
    run.child.stdout.pause();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expectCleanInterrupt(run, await run.interrupt());
    run.child.stdout.destroy();
  });

  it('stdin: exits 130 at once though the writer of stdin stalled', async () => {
    const run = new Apply('stdin', [...SLOW, '-i', '-', '-o', 'from-stdin.arrow']);
    run.child.stdout.resume();
    // The schema and the first 65,536-row batches, then nothing: stdin stays open.
    run.child.stdin.write(readFileSync(file('in.arrows')).subarray(0, 4 << 20));
    await run.until(() => existsSync(run.partialFile('from-stdin.arrow')), 'the output to be opened');
    // The batches read are computed meanwhile; then the reader waits for more.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expectCleanInterrupt(run, await run.interrupt(), 'from-stdin.arrow');
    run.child.stdin.destroy();
  });
});

describe('pyudf apply: SIGTERM, and a second signal', () => {
  it('one SIGTERM while every worker is inside a 30 s batch: the workers are killed, exit 130', async () => {
    const run = new Apply('sigterm', [...STUCK, '-i', 'in.csv', '-o', 'term.arrow']);
    run.child.stdin.end();
    run.child.stdout.resume();
    await run.until(() => existsSync(run.partialFile('term.arrow')), 'the output to be opened');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expectCleanInterrupt(run, await run.interrupt('SIGTERM'), 'term.arrow');
  });

  it('a second SIGINT exits at once, killing the workers and leaving no partial file', async () => {
    const run = new Apply('twice', [...STUCK, '-i', 'in.parquet', '-o', 'twice.parquet']);
    run.child.stdin.end();
    run.child.stdout.resume();
    await run.until(() => existsSync(run.partialFile('twice.parquet')), 'the output to be opened');
    await new Promise((resolve) => setTimeout(resolve, 500));
    run.child.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const exit = await run.interrupt('SIGINT');
    expect(exit.code, run.stderr).toBe(130);
    expect(exit.ms).toBeLessThan(1_000);
    expect(run.stderr).toContain('exiting now');
    expect(existsSync(file('twice.parquet'))).toBe(false);
    expect(readdirSync(dir).filter((name) => name.includes('.partial'))).toEqual([]);
    // Killed, not waited for: at most zombies until init reaps them.
    await waitFor(() => [...run.workers].every((pid) => !running(pid)), 1_000, 'the workers to be killed');
    // Its socket directory is in run.tmp (removed with `dir`); the next pool would sweep the shared-memory one.
    for (const name of readdirSync(SHARED_MEMORY)) {
      if (name.startsWith(`pyudf-${run.pid}-`)) rmSync(path.join(SHARED_MEMORY, name), { recursive: true, force: true });
    }
  });
});

describe('pyudf apply: SIGINT before any batch is sent', () => {
  it('while the pool is starting (workers launched, not yet registered): the pool is stopped, exit 130', async () => {
    const run = new Apply('starting', [...SLOW, '-i', 'in.parquet', '-o', 'starting.parquet']);
    run.child.stdin.end();
    run.child.stdout.resume();
    await run.until(() => run.workers.size > 0, 'a worker to be launched');
    const exit = await run.interrupt();
    expect(existsSync(run.partialFile('starting.parquet')), 'the output was opened').toBe(false);
    expectCleanInterrupt(run, exit, 'starting.parquet');
  });

  it('while the module\'s schemas are read (before the pool): exit 130, the schema reader\'s directory removed', async () => {
    const run = new Apply('schemas', [...SLOW, '-i', 'in.parquet', '-o', 'schemas.parquet']);
    run.child.stdin.end();
    run.child.stdout.resume();
    await run.until(() => run.schemaReaders.size > 0, 'the schema reader to start');
    const exit = await run.interrupt();
    expect(run.workers.size, 'workers launched').toBe(0);
    expectCleanInterrupt(run, exit, 'schemas.parquet');
  });
});
