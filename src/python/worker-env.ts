// The environment a worker starts with: unbuffered output, our package on PYTHONPATH, bounded threads.
import os from 'node:os';
import path from 'node:path';
import { PYTHON_PACKAGE_ROOT } from './package-paths.js';

/** Thread-pool variables of the numeric libraries a model may use (OpenMP, MKL, OpenBLAS, TF, …). */
export const THREAD_VARIABLES = [
  'OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'NUMEXPR_NUM_THREADS',
  'VECLIB_MAXIMUM_THREADS', 'TF_NUM_INTRAOP_THREADS',
] as const;

/** Threads per worker so that `workers` processes share the cores instead of oversubscribing them. */
export function defaultThreadsPerWorker(workers: number, cpus = os.availableParallelism()): number {
  return Math.max(1, Math.floor(cpus / workers));
}

export function workerEnv(
  threadsPerWorker: number | null,
  userEnv: Readonly<Record<string, string>>,
  base: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  if (threadsPerWorker !== null) {
    for (const name of THREAD_VARIABLES) env[name] = String(threadsPerWorker);
    env['TF_NUM_INTEROP_THREADS'] = '1';
  }
  env['PYTHONUNBUFFERED'] = '1';
  env['PYTHONPATH'] = [PYTHON_PACKAGE_ROOT, base['PYTHONPATH']].filter(Boolean).join(path.delimiter);
  return { ...env, ...userEnv };
}
