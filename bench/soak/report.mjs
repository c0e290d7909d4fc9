// The soak's leak rules and its printed summary.
import { duration, mib, rate, textTable } from '../lib/format.mjs';
import { FIGURES, extremes } from './resources.mjs';
import { KINDS } from './clients.mjs';

const MiB = 2 ** 20;

/**
 * Warm-up: the first minute, or the first third of a run shorter than 3 minutes. The baseline is the
 * median of the samples over the next 10% of the run (at least 3 samples), the end the median of the
 * samples over the last 10% under load: both under the same load, so only growth counts, not the
 * load's own working set.
 */
export function warmupSeconds(runSeconds) {
  return Math.min(60, runSeconds / 3);
}

/** Samples every ~10 s in a long soak, more often in a short one (so that a 30 s run still has ~30). */
export function sampleIntervalSeconds(runSeconds) {
  return Math.min(10, Math.max(1, runSeconds / 30));
}

/** Samples in the baseline and in the end window: 10% of the run, at least 3. */
export function windowSamples(runSeconds) {
  return Math.max(3, Math.round((0.1 * runSeconds) / sampleIntervalSeconds(runSeconds)));
}

/**
 * Each rule: `figure` at the end may exceed its baseline by `relative` (a fraction) plus `absolute`.
 * Worker figures are per worker (the mean RSS, the most fds and threads of any worker), since killed
 * workers are replaced by fresh ones, and use only samples in which every worker was ready.
 */
export const LEAK_RULES = [
  { figure: 'node.rss', relative: 0.25, absolute: 32 * MiB, unit: 'bytes', label: 'Node RSS' },
  { figure: 'node.fds', relative: 0, absolute: 8, unit: 'count', label: 'Node open fds' },
  { figure: 'node.threads', relative: 0, absolute: 4, unit: 'count', label: 'Node threads' },
  { figure: 'workers.meanRss', relative: 0.25, absolute: 32 * MiB, unit: 'bytes', label: 'worker RSS (mean per worker)' },
  { figure: 'workers.maxFds', relative: 0, absolute: 4, unit: 'count', label: 'worker open fds (most of any worker)' },
  { figure: 'workers.maxThreads', relative: 0, absolute: 2, unit: 'count', label: 'worker threads (most of any worker)' },
];

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const show = (value, unit) => (value === null || value === undefined || Number.isNaN(value) ? 'n/a'
  : unit === 'bytes' ? mib(value) : String(Math.round(value * 10) / 10));

export const ruleText = (rule) => `${rule.label}: end ≤ baseline${rule.relative ? ` × ${1 + rule.relative}` : ''} + ${show(rule.absolute, rule.unit)}`;

/**
 * Baseline (median of the first `window` samples after the warm-up) and end (median of the last
 * `window`) of one figure under load. Worker figures only use samples in which all `workers` were ready.
 */
export function baselineAndEnd(loadSamples, figure, { warmupS, workers, window }) {
  const get = FIGURES[figure];
  const usable = loadSamples.filter((s) => !figure.startsWith('workers.')
    || (s.workersTotal.count === workers && s.workers.every((w) => w.state === 'ready')));
  const after = usable.filter((s) => s.t >= warmupS && Number.isFinite(get(s)));
  const base = after.slice(0, window);
  const end = after.slice(-window);
  if (base.length === 0) return undefined;
  return {
    baseline: median(base.map(get)), end: median(end.map(get)),
    baselineAtS: base.map((s) => s.t), endAtS: end.map((s) => s.t), overlap: after.length < 2 * window,
  };
}

/** Evaluates every rule on the samples taken under load; `workers` is the pool's size. */
export function evaluateLeaks(loadSamples, options) {
  return LEAK_RULES.map((rule) => {
    const result = { rule: ruleText(rule), figure: rule.figure, unit: rule.unit };
    const w = baselineAndEnd(loadSamples, rule.figure, options);
    if (!w) return { ...result, ok: true, evaluated: false, note: 'no usable sample after the warm-up (run too short)' };
    const limit = w.baseline * (1 + rule.relative) + rule.absolute;
    return {
      ...result, ok: w.end <= limit, evaluated: true, baseline: w.baseline, end: w.end, limit,
      baselineAtS: w.baselineAtS, endAtS: w.endAtS,
      ...(w.overlap ? { note: 'baseline and end windows overlap (short run)' } : {}),
    };
  });
}

/** The per-operation table. */
export function operationTable(tally, seconds) {
  const rows = KINDS.map((kind) => {
    const op = tally.ops[kind];
    const h = op.latency;
    return [
      kind, String(op.count), rate(op.count / seconds), rate(op.rows), rate(op.rows / seconds),
      h.count ? duration(h.quantile(0.5)) : '', h.count ? duration(h.quantile(0.99)) : '', h.count ? duration(h.max) : '',
      String(op.errors), String(op.wrong), String(op.untyped),
    ];
  });
  return textTable(['operation', 'count', 'ops/s', 'rows', 'rows/s', 'p50', 'p99', 'max', 'errors', 'wrong', 'untyped'], rows, 1);
}

const RESOURCE_ROWS = [
  ['Node RSS', 'node.rss', 'bytes'],
  ['Node heap used', 'node.heapUsed', 'bytes'],
  ['Node open fds', 'node.fds', 'count'],
  ['Node threads', 'node.threads', 'count'],
  ['workers RSS (sum)', 'workers.rss', 'bytes'],
  ['workers RSS (mean)', 'workers.meanRss', 'bytes'],
  ['workers fds (sum)', 'workers.fds', 'count'],
  ['workers fds (max)', 'workers.maxFds', 'count'],
  ['workers threads (sum)', 'workers.threads', 'count'],
  ['workers threads (max)', 'workers.maxThreads', 'count'],
  ['/dev/shm result files', 'shm.files', 'count'],
  ['/dev/shm spare files', 'shm.spares', 'count'],
];

/** Start, baseline, end under load, after the drain, and min/max over the run, per figure. */
export function resourceTable({ start, loadSamples, idle, windowOptions }) {
  const all = [start, ...loadSamples, ...(idle ? [idle] : [])].filter(Boolean);
  const range = extremes(all);
  const rows = RESOURCE_ROWS.map(([label, figure, unit]) => {
    const get = FIGURES[figure];
    const w = baselineAndEnd(loadSamples, figure, windowOptions);
    return [
      label,
      start ? show(get(start), unit) : 'n/a',
      w ? show(w.baseline, unit) : 'n/a',
      w ? show(w.end, unit) : 'n/a',
      idle ? show(get(idle), unit) : 'n/a',
      range[figure] ? show(range[figure].min, unit) : 'n/a',
      range[figure] ? show(range[figure].max, unit) : 'n/a',
    ];
  });
  return textTable(['figure', 'start', 'baseline', 'end (load)', 'after drain', 'min', 'max'], rows, 1);
}

/** One line per current worker, and their sum. */
export function workerLines(sample) {
  if (!sample) return [];
  const lines = sample.workers.map((w) => (w.pid === null
    ? `  ${w.id}: ${w.state}, no process yet`
    : `  ${w.id} (pid ${w.pid}, ${w.state}): RSS ${show(w.rss, 'bytes')}, ${show(w.fds)} fds, ${show(w.threads)} threads`));
  const t = sample.workersTotal;
  lines.push(`  sum of ${t.count}: RSS ${show(t.rss, 'bytes')}, ${t.fds} fds, ${t.threads} threads`);
  return lines;
}
