// Latency histograms of fixed size: a soak makes millions of calls, and keeping every latency would
// itself grow Node's memory (and look like the leak the soak looks for).

const MIN_MS = 0.001; // 1 µs
const FACTOR = 1.02; // each bucket 2% wider than the one before: quantiles within ±1%
const BUCKETS = Math.ceil(Math.log(1e7 / MIN_MS) / Math.log(FACTOR)); // up to 10^4 s

export class Histogram {
  constructor() {
    this.counts = new Float64Array(BUCKETS + 1);
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = 0;
  }

  record(ms) {
    const index = ms <= MIN_MS ? 0 : Math.min(BUCKETS, Math.floor(Math.log(ms / MIN_MS) / Math.log(FACTOR)) + 1);
    this.counts[index]++;
    this.count++;
    this.sum += ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }

  /** The q-quantile, as the geometric middle of its bucket (clamped to the exact min and max). */
  quantile(q) {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= rank) {
        const mid = i === 0 ? MIN_MS : MIN_MS * FACTOR ** (i - 0.5);
        return Math.min(this.max, Math.max(this.min, mid));
      }
    }
    return this.max;
  }

  toJSON() {
    return {
      count: this.count,
      meanMs: this.count ? this.sum / this.count : null,
      minMs: this.count ? this.min : null,
      p50Ms: this.count ? this.quantile(0.5) : null,
      p90Ms: this.count ? this.quantile(0.9) : null,
      p99Ms: this.count ? this.quantile(0.99) : null,
      p999Ms: this.count ? this.quantile(0.999) : null,
      maxMs: this.count ? this.max : null,
    };
  }
}
