// Runs one workload in this process: `node run-workload.mjs NAME [--quick] --out FILE`. The driver
// starts one such process per workload, so no workload's processes or garbage outlive it.
import { writeFile } from 'node:fs/promises';
import { parseArgs, settings } from './config.mjs';
import { killAll } from './procs.mjs';

const [name, ...rest] = process.argv.slice(2);
const args = parseArgs(rest);
const log = (line) => process.stderr.write(`  [${name}] ${line}\n`);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}
try {
  const workload = await import(`../workloads/${name}.mjs`);
  const started = performance.now();
  const result = await workload.run(settings(args.quick), log);
  const rows = result.rows.map((row) => ({ workload: name, ...row }));
  await writeFile(args.out, JSON.stringify({ ...result, workload: name, rows, seconds: (performance.now() - started) / 1000 }));
} catch (error) {
  killAll();
  throw error;
}
