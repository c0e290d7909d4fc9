// Alternating rounds (A B, B A, A B …) of two or more systems in one process, and the per-round ratios
// a target is judged on: a busy spell on a shared machine then lands on every side alike.
import { median, quantile } from './stats.mjs';

const now = () => performance.now();

/** The spread (half the interquartile range of the per-round ratios, over their median) that earns a warning. */
export const SPREAD_WARNING = 0.15;

/**
 * Times each of `systems` (`{ name, call, repeat? }`; a call of sub-microsecond work is timed `repeat`
 * times together, so that millions of latencies do not burden the heap every system shares) for `minMs` of back-to-back calls (at least one) per round,
 * for `rounds` rounds, the order rotating each round. A warm-up of `warmupMs` per system comes first.
 * Returns, per system name, every call's latency and each round's `{ rows, ms, medianMs }`, where
 * `rows` counts `rowsPerCall` per call.
 */
export async function alternatingRounds(systems, { rounds, minMs, warmupMs = 0, rowsPerCall }) {
  for (const { call } of systems) for (const start = now(); now() - start < warmupMs;) await call();
  const out = new Map(systems.map(({ name }) => [name, { latenciesMs: [], repeats: [] }]));
  for (let round = 0; round < rounds; round++) {
    const order = systems.map((_, i) => systems[(i + round) % systems.length]);
    for (const { name, call, repeat = 1 } of order) {
      const latencies = [];
      const start = now();
      while (latencies.length === 0 || now() - start < minMs) {
        const t = now();
        for (let i = 0; i < repeat; i++) await call();
        latencies.push((now() - t) / repeat);
      }
      const result = out.get(name);
      for (const ms of latencies) result.latenciesMs.push(ms);
      result.repeats.push({ rows: latencies.length * repeat * rowsPerCall, ms: now() - start, medianMs: median(latencies) });
    }
  }
  return out;
}

/**
 * `a` over `b` round by round: of rows/s (`by: 'rate'`, > 1 when a is faster) or of median latency
 * (`by: 'latency'`, > 1 when a is slower). Both must come from the same `alternatingRounds` run.
 */
export function roundRatios(a, b, by = 'rate') {
  const perRound = a.repeats.map((ra, i) => {
    const rb = b.repeats[i];
    return by === 'latency' ? ra.medianMs / rb.medianMs : (ra.rows / ra.ms) / (rb.rows / rb.ms);
  });
  const m = median(perRound);
  const q1 = quantile(perRound, 0.25);
  const q3 = quantile(perRound, 0.75);
  return {
    by, median: m, q1, q3, min: Math.min(...perRound), max: Math.max(...perRound), rounds: perRound.length,
    spread: (q3 - q1) / 2 / m, perRound,
  };
}

/** Per round, the better (more rows/s) of several systems measured in the same rounds: "the best of the baselines". */
export function bestPerRound(...results) {
  return {
    repeats: results[0].repeats.map((_, i) => results.map((r) => r.repeats[i]).reduce((a, b) => (b.rows / b.ms > a.rows / a.ms ? b : a))),
  };
}

/** `0.62× (IQR 0.60–0.65, ±4%, 9 rounds)`; `fmt` formats one ratio. */
export function describeRatio(r, fmt) {
  return `${fmt(r.median)} (IQR ${fmt(r.q1)}–${fmt(r.q3)}, ±${(r.spread * 100).toFixed(0)}%, range ${fmt(r.min)}–${fmt(r.max)}, ${r.rounds} rounds)`;
}
