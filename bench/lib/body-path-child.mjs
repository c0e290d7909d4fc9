// One variant of the body-path workload in a fresh process: `node body-path-child.mjs SYSTEM [--quick]`.
// Prints, as JSON, the sequential latencies and rounds of a 64k-row and a 1M-row identity apply.
import { tableFromArrays } from 'apache-arrow';
import { createPool } from '../../dist/index.js';
import { VARIANTS } from '../workloads/body-path.mjs';
import { PYTHON, parseArgs, quietLogger, settings, udfPath } from './config.mjs';
import { verify } from './check.mjs';
import { expectedChecksum, identityColumns, tableChecksum } from './data.mjs';
import { sequential, warmUp } from './timing.mjs';

const [system, ...rest] = process.argv.slice(2);
const s = settings(parseArgs(rest).quick);
const options = VARIANTS[system];
if (!options) throw new Error(`unknown variant ${system}; one of ${Object.keys(VARIANTS).join(', ')}`);

const pool = await createPool({ workers: 2, python: PYTHON, logger: quietLogger, ...options });
const out = [];
try {
  const udf = await pool.register({ module: udfPath('identity.py') });
  for (const rows of [65_536, s.largeRows]) {
    const table = tableFromArrays(identityColumns(rows));
    const call = () => udf.apply(table);
    if (rows === 65_536) await warmUp(call, s.jitWarmupMs);
    const result = await call();
    const check = verify({ rows, checksum: expectedChecksum(rows) }, { rows: result.numRows, checksum: tableChecksum(result) });
    const timed = await sequential(call, rows, rows === 65_536 ? s : { ...s, warmupCalls: 1, warmupMs: 0 });
    out.push({ rowsPerCall: rows, ...timed, check, sharedMemory: pool.stats().sharedMemory });
  }
} finally {
  await pool.close();
}
process.stdout.write(JSON.stringify(out));
