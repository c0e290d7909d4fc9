// Paths, command-line flags and the quick/full settings shared by the driver and every workload.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = path.dirname(BENCH_DIR);
export const PYTHON = process.env.PYUDF_PYTHON
  ?? (existsSync(path.join(ROOT, '.venv', 'bin', 'python')) ? path.join(ROOT, '.venv', 'bin', 'python') : 'python3');
/** Survives between runs: the trained Keras model and the digits. */
export const CACHE_DIR = path.join(os.tmpdir(), 'pyudf-bench');

export const udfPath = (name) => path.join(BENCH_DIR, 'udfs', name);
export const baselinePath = (name) => path.join(BENCH_DIR, 'baselines', name);

/** `--quick`, `--only a,b`, `--out FILE`, `--chart FILE` from argv. */
export function parseArgs(argv = process.argv.slice(2)) {
  const args = { quick: false, only: undefined, out: undefined, chart: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') args.quick = true;
    else if (arg === '--only') args.only = argv[++i]?.split(',');
    else if (arg === '--out') args.out = argv[++i];
    else if (arg === '--chart') args.chart = argv[++i];
    else if (arg === '--help' || arg === '-h') args.help = true;
    else throw new Error(`unknown argument ${arg} (try --help)`);
  }
  return args;
}

/** How long to measure: --quick trades precision for a run of about a minute. */
export function settings(quick) {
  return quick
    ? {
      quick, repeats: 3, minMs: 120, warmupMs: 100, warmupCalls: 2, jitWarmupMs: 1500,
      concurrentMs: 600, concurrentWarmupMs: 1000, concurrentRepeats: 7,
      largeRows: 1_000_000, memoryRows: 4_000_000, cpuRows: 1024, cpuIterations: 2000, kerasRows: 10_000, kerasOneWorker: false,
      rounds: 7, roundMs: 300,
    }
    : {
      quick, repeats: 5, minMs: 400, warmupMs: 300, warmupCalls: 3, jitWarmupMs: 2000,
      concurrentMs: 2000, concurrentWarmupMs: 2000, concurrentRepeats: 7,
      largeRows: 1_000_000, memoryRows: 13_400_000, cpuRows: 4096, cpuIterations: 2000, kerasRows: 10_000, kerasOneWorker: true,
      rounds: 9, roundMs: 1000,
    };
}

/** A pool logger that keeps worker chatter (TensorFlow's start-up lines) out of the table. */
export const quietLogger = () => {};
