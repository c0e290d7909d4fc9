// Memory: a ~1 GB table (10 float64 columns × 13.4M rows; 4M rows with --quick) through an identity
// UDF. Node's peak RSS against the table's size (input and result both live), and each worker's
// peak RSS above its idle RSS against maxBatchBytes.
import { tableFromArrays } from 'apache-arrow';
import { createPool, DEFAULT_MAX_BATCH_BYTES } from '../../dist/index.js';
import { PYTHON, quietLogger, udfPath } from '../lib/config.mjs';
import { verify } from '../lib/check.mjs';
import { expectedChecksum, identityColumns, tableChecksum } from '../lib/data.mjs';
import { procStatus, resetPeak, rssSampler } from '../lib/memory.mjs';

const WORKERS = 2;

export async function run(s, log) {
  const rows = s.memoryRows;
  const pool = await createPool({ workers: WORKERS, python: PYTHON, logger: quietLogger });
  try {
    const udf = await pool.register({ module: udfPath('identity.py') });
    await udf.apply(tableFromArrays(identityColumns(1000))); // first call done before measuring
    const pids = pool.stats().workers.map((w) => w.pid);
    const workerIdle = pids.map((pid) => procStatus(pid, 'VmRSS'));
    for (const pid of pids) resetPeak(pid);
    const nodeBefore = process.memoryUsage().rss;
    const sampler = rssSampler(50);

    const table = tableFromArrays(identityColumns(rows));
    const tableBytes = table.batches.reduce((n, b) => n + b.data.byteLength, 0);
    const start = performance.now();
    const out = await udf.apply(table);
    const ms = performance.now() - start;
    const nodePeak = Math.max(sampler.stop(), procStatus(process.pid, 'VmHWM'));
    const workerPeak = pids.map((pid) => procStatus(pid, 'VmHWM'));
    const check = verify({ rows, checksum: expectedChecksum(rows) }, { rows: out.numRows, checksum: tableChecksum(out) });
    const memory = {
      tableBytes,
      nodeRssBefore: nodeBefore,
      nodePeakRss: nodePeak,
      nodePeakOverTable: nodePeak / tableBytes,
      maxBatchBytes: DEFAULT_MAX_BATCH_BYTES,
      workers: pids.map((pid, i) => ({
        idleRss: workerIdle[i], peakRss: workerPeak[i], aboveIdle: workerPeak[i] - workerIdle[i],
        aboveIdleOverMaxBatchBytes: (workerPeak[i] - workerIdle[i]) / DEFAULT_MAX_BATCH_BYTES,
      })),
    };
    const mib = (b) => `${(b / 2 ** 20).toFixed(0)} MiB`;
    log(`table ${mib(tableBytes)}, Node peak RSS ${mib(nodePeak)} (${memory.nodePeakOverTable.toFixed(2)}×), workers above idle: ${memory.workers.map((w) => mib(w.aboveIdle)).join(', ')}`);
    return {
      reference: 'pyudf',
      rows: [{
        system: 'pyudf', rowsPerCall: rows, medianLatencyMs: ms, p99LatencyMs: null, rowsPerSec: (rows / ms) * 1000,
        raw: { ms }, check, memory,
      }],
    };
  } finally {
    await pool.close();
  }
}
