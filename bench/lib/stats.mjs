// Medians, percentiles and the summary every measurement is reported as.

export function quantile(values, q) {
  if (!values.length) return NaN;
  const sorted = Float64Array.from(values).sort();
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export const median = (values) => quantile(values, 0.5);

/** Keeps raw latencies in the JSON without letting a 1-row run write megabytes: every k-th value. */
export function thin(values, max = 2000) {
  if (values.length <= max) return values.map(round3);
  const step = values.length / max;
  return Array.from({ length: max }, (_, i) => round3(values[Math.floor(i * step)]));
}

const round3 = (x) => Math.round(x * 1000) / 1000;

/**
 * The record of one system on one workload: median latency per call, rows/s as the median over
 * repeats of (rows done / time taken), p99, and the raw numbers behind them.
 */
export function summarise({ system, rowsPerCall, latenciesMs, repeats, extra = {} }) {
  const rates = repeats.map((r) => (r.rows / r.ms) * 1000);
  return {
    system,
    rowsPerCall,
    medianLatencyMs: median(latenciesMs),
    p99LatencyMs: quantile(latenciesMs, 0.99),
    rowsPerSec: median(rates),
    calls: latenciesMs.length,
    raw: { repeatRowsPerSec: rates, repeats, latenciesMs: thin(latenciesMs) },
    ...extra,
  };
}
