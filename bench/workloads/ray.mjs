// Local workers against Ray actors (a Ray the pool starts on this machine), 2 of each, in alternating
// rounds in this process: one apply of a 1M-row identity table, and the Keras digits model on 10k rows.
import { createPool } from '../../dist/index.js';
import { PYTHON, quietLogger, udfPath } from '../lib/config.mjs';
import { verify } from '../lib/check.mjs';
import { expectedChecksum, identityTable, tableChecksum } from '../lib/data.mjs';
import { BATCH_ROWS, DIGITS_CONF, DIGITS_MODULE, digitsTable, QUIET_TF, trainDigits } from '../lib/digits.mjs';
import { alternatingRounds, roundRatios } from '../lib/rounds.mjs';
import { summarise } from '../lib/stats.mjs';

const WORKERS = 2;
const LOCAL = `pyudf ${WORKERS} local workers`;
const RAY = `pyudf ${WORKERS} Ray actors`;

export async function run(s, log) {
  await trainDigits();
  const local = await createPool({ workers: WORKERS, python: PYTHON, logger: quietLogger, env: QUIET_TF });
  const ray = await createPool({ python: PYTHON, logger: quietLogger, env: QUIET_TF, backend: { type: 'ray', actors: WORKERS } });
  const rows = [];
  const comparisons = [];
  try {
    const cases = [
      { what: `${s.largeRows / 1e6}M-row identity`, register: { module: udfPath('identity.py') }, table: identityTable(s.largeRows) },
      { what: `Keras digits, ${s.kerasRows / 1000}k rows`, register: { module: DIGITS_MODULE, conf: DIGITS_CONF, batchSize: BATCH_ROWS }, table: digitsTable(s.kerasRows) },
    ];
    for (const { what, register, table } of cases) {
      const [onLocal, onRay] = await Promise.all([local.register(register), ray.register(register)]);
      // The local answer is checked against the input (identity) or taken as the truth (Keras), and Ray's against it.
      const reference = await onLocal.apply(table);
      const expected = register.conf ? { rows: reference.numRows, checksum: tableChecksum(reference) } : { rows: table.numRows, checksum: expectedChecksum(table.numRows) };
      const checks = new Map([[LOCAL, verify(expected, { rows: reference.numRows, checksum: tableChecksum(reference) })]]);
      const rayOut = await onRay.apply(table);
      checks.set(RAY, verify(expected, { rows: rayOut.numRows, checksum: tableChecksum(rayOut) }, 1e-6));
      const timed = await alternatingRounds([
        { name: LOCAL, call: () => onLocal.apply(table) },
        { name: RAY, call: () => onRay.apply(table) },
      ], { rounds: s.rounds, minMs: s.roundMs, warmupMs: s.warmupMs, rowsPerCall: table.numRows });
      for (const system of [LOCAL, RAY]) {
        const row = summarise({ system, rowsPerCall: table.numRows, ...timed.get(system), extra: { check: checks.get(system), case: what } });
        log(`${what}, ${system}: ${row.medianLatencyMs.toFixed(1)} ms per call, ${Math.round(row.rowsPerSec)} rows/s`);
        rows.push(row);
      }
      const ratio = roundRatios(timed.get(RAY), timed.get(LOCAL));
      comparisons.push({
        id: '12', what: `Ray: ${what} on ${WORKERS} Ray actors, rows/s ÷ ${WORKERS} local workers'`, ratio, target: { op: '>=', value: 0.7 },
        ok: checks.get(LOCAL).ok && checks.get(RAY).ok,
      });
      await Promise.all([onLocal.close(), onRay.close()]);
    }
  } finally {
    await Promise.all([local.close(), ray.close()]);
  }
  return { reference: LOCAL, rows, comparisons };
}
