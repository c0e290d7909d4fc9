// Number formats for the table: latencies in µs/ms/s, rates with k/M suffixes, ratios with ×.

export function duration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '';
  if (ms < 0.001) return `${(ms * 1e6).toFixed(0)} ns`;
  if (ms < 1) return `${(ms * 1000).toFixed(ms < 0.01 ? 2 : ms < 0.1 ? 1 : 0)} µs`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : ms < 100 ? 1 : 0)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

export function rate(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return '';
  const units = [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [scale, unit] of units) {
    if (x >= scale) {
      const v = x / scale;
      return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)}${unit}`;
    }
  }
  return x.toFixed(x < 10 ? 1 : 0);
}

export function ratio(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return 'n/a';
  if (x < 0.01) return `${x.toExponential(0)}×`;
  return `${x.toFixed(x < 10 ? 2 : x < 100 ? 1 : 0)}×`;
}

export const count = (n) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1024 && n % 1024 === 0 ? `${n / 1024}k` : String(n));

export const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** A plain-text table with a header rule; columns right-aligned except the first `leftColumns`. */
export function textTable(header, rows, leftColumns = 2) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i < leftColumns ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
