// The one table of medians and ratios, and the targets as PASS/MISS lines.
import { count, duration, mib, rate, ratio, textTable } from './format.mjs';
import { describeRatio, SPREAD_WARNING } from './rounds.mjs';

/** Table rows: each system against its workload's reference at the same rows per call. */
export function resultTable(workloads) {
  const lines = [];
  for (const w of workloads) {
    for (const row of w.rows) {
      const ref = w.rows.find((r) => r.system === w.reference && r.rowsPerCall === row.rowsPerCall);
      const vs = row.system === w.reference ? 'ref' : ref ? ratio(ref.rowsPerSec / row.rowsPerSec) : '';
      lines.push([
        w.workload, row.system, count(row.rowsPerCall), duration(row.medianLatencyMs), duration(row.p99LatencyMs),
        rate(row.rowsPerSec), vs, row.check?.ok === false ? 'CHECK FAILED' : 'ok',
      ]);
    }
  }
  return textTable(['workload', 'system', 'rows/call', 'median latency', 'p99', 'rows/s', 'pyudf ÷ this', 'check'], lines);
}

const find = (workloads, workload, system, rowsPerCall) => {
  const row = workloads.find((w) => w.workload === workload)?.rows
    .find((r) => r.system === system && (rowsPerCall === undefined || r.rowsPerCall === rowsPerCall));
  return row && row.check?.ok !== false ? row : undefined;
};

/**
 * The targets of issues 4, 12 and 13, each `{ id, pass (true, false, or null when not measured), text }`.
 * Ratios are of rows/s unless the target is about time.
 */
export function evaluateTargets(workloads, { quick }) {
  const targets = [];
  const add = (id, pass, text) => targets.push({ id, pass, text });
  const speedup = (a, b) => (a && b ? a.rowsPerSec / b.rowsPerSec : undefined);
  const need = (...rows) => rows.every(Boolean);

  // Issue 4's transport targets (64k rows ≥ 0.5× the echo, 1 row ≤ 1.5×) are issue 13's, tightened and judged on alternating rounds.
  for (const w of workloads) {
    for (const c of w.comparisons ?? []) {
      const pass = !c.ok || !c.target ? null : c.target.op === '<=' ? c.ratio.median <= c.target.value : c.ratio.median >= c.target.value;
      const goal = c.target ? `target ${c.target.op === '<=' ? '≤' : '≥'} ${c.target.value.toFixed(2)}×` : 'reported, no target';
      add(c.id, pass, `${c.what} = ${describeRatio(c.ratio, ratio)} (${goal})${c.ok ? '' : ' CHECK FAILED'}${spreadNote(c.ratio)}`);
    }
  }
  for (const other of ['python-shell', 'Tornado JSON']) {
    const p = find(workloads, 'identity', 'pyudf', 65536);
    const o = find(workloads, 'identity', other, 65536);
    add('3', need(p, o) ? speedup(p, o) >= 10 : null, `64k rows/call: pyudf ${ratio(speedup(p, o))} the rows/s of ${other} (target ≥ 10×)`);
  }
  for (const [other, sizes] of [['python-shell', [64, 1024, 65536]], ['Tornado JSON', [1, 64, 1024, 65536]]]) {
    const ratios = sizes.map((n) => speedup(find(workloads, 'identity', 'pyudf', n), find(workloads, 'identity', other, n)));
    const measured = ratios.every((r) => r !== undefined);
    add('3', measured ? ratios.every((r) => r > 1) : null,
      `ahead of ${other} at ${sizes.map(count).join(', ')} rows/call: ${ratios.map(ratio).join(', ')} (target > 1× each)`);
  }
  {
    const p = find(workloads, 'identity', 'pyudf', 1);
    const o = find(workloads, 'identity', 'python-shell', 1);
    add('3', null, `info: sequential 1-row calls: pyudf ${ratio(speedup(p, o))} the rows/s of python-shell (a pipe round trip is shorter than ZeroMQ's; reported, no target)`);
  }
  for (const other of ['python-shell', 'Tornado JSON ×2']) {
    const p = find(workloads, 'concurrent-calls', 'pyudf call()');
    const o = find(workloads, 'concurrent-calls', other);
    add('3', need(p, o) ? speedup(p, o) > 1 : null,
      `64 concurrent single-row callers: pyudf call() ${ratio(speedup(p, o))} the rows/s of ${other} (p50 ${duration(p?.medianLatencyMs)} vs ${duration(o?.medianLatencyMs)}, p99 ${duration(p?.p99LatencyMs)} vs ${duration(o?.p99LatencyMs)}; target > 1×)`);
  }
  {
    const p = find(workloads, 'serve', 'pyudf serve');
    const o = find(workloads, 'serve', 'Tornado JSON ×2');
    add('3', need(p, o) ? speedup(p, o) > 1 : null,
      `64 concurrent HTTP clients, 1-row JSON: pyudf serve ${ratio(speedup(p, o))} the requests/s of Tornado (p50 ${duration(p?.medianLatencyMs)} vs ${duration(o?.medianLatencyMs)}; target > 1×)`);
  }
  {
    const p = find(workloads, 'keras', 'pyudf 2 workers');
    const p1 = find(workloads, 'keras', 'pyudf 1 worker');
    const f = find(workloads, 'keras', 'compute floor (in-Python)');
    const r = p && f ? p.medianLatencyMs / f.medianLatencyMs : undefined;
    const one = p1 && f ? `; 1 worker: ${ratio(p1.medianLatencyMs / f.medianLatencyMs)}` : '';
    if (!need(p, f)) add('4', null, `Keras digits: not measured${quick ? ' (--quick skips it; --quick --only keras runs it)' : ''}`);
    else add('4', r <= 1.15, `Keras digits, 10k rows: end to end ${duration(p?.medianLatencyMs)} on 2 workers = ${ratio(r)} the in-Python time ${duration(f?.medianLatencyMs)}${one} (target ≤ 1.15×)`);
  }
  {
    const p2 = find(workloads, 'cpu-bound', 'pyudf 2 workers');
    const p1 = find(workloads, 'cpu-bound', 'pyudf 1 worker');
    const r = speedup(p2, p1);
    add('5', need(p2, p1) ? r >= 1.7 : null, `CPU-bound UDF: 2 workers ${ratio(r)} the rows/s of 1 worker (${rate(p2?.rowsPerSec)} vs ${rate(p1?.rowsPerSec)}; target ≥ 1.7×)`);
  }
  {
    const m = workloads.find((w) => w.workload === 'memory')?.rows[0]?.memory;
    const size = quick ? ' (--quick: a smaller table, so Node\'s own ~100 MiB weighs more)' : '';
    add('6', m ? m.nodePeakOverTable < 2.5 : null, m
      ? `memory: Node peak RSS ${mib(m.nodePeakRss)} = ${ratio(m.nodePeakOverTable)} the ${mib(m.tableBytes)} table, input and result live${size} (target < 2.5×)`
      : 'memory: not measured');
    if (m) {
      const worst = Math.max(...m.workers.map((w) => w.aboveIdle));
      add('6', worst < 3 * m.maxBatchBytes, `memory: worker peak RSS above idle ${m.workers.map((w) => mib(w.aboveIdle)).join(', ')} (target < 3 × maxBatchBytes = ${mib(3 * m.maxBatchBytes)})`);
    }
  }
  {
    // The shared-memory path is automatic from 1 MiB: sequential calls must gain from it. With 2 workers
    // on 2 cores the CPUs bound a 1M-row apply either way; that line is reported, not judged.
    const sizes = workloads.find((w) => w.workload === 'body-path')?.rows.filter((r) => r.system === 'pyudf').map((r) => r.rowsPerCall) ?? [];
    for (const size of sizes) {
      const files = find(workloads, 'body-path', 'pyudf', size);
      const socket = find(workloads, 'body-path', 'pyudf, socket only', size);
      const sequential = size === 65536;
      const what = sequential ? 'identity at 64k rows/call' : `a ${count(size)}-row apply on 2 workers`;
      add('7', sequential && need(files, socket) ? speedup(files, socket) > 1 : null,
        `shared-memory results: ${what} ${ratio(speedup(files, socket))} the rows/s of the socket path (${rate(files?.rowsPerSec)} vs ${rate(socket?.rowsPerSec)}, fresh processes each; copies per batch: protocol.md section 7)`);
    }
  }
  if (!workloads.some((w) => w.workload === 'ray')) add('12', null, `Ray actors against local workers: not measured${quick ? ' (--quick skips it; --quick --only ray runs it)' : ''}`);
  return targets;
}

const spreadNote = (r) => (r.spread > SPREAD_WARNING ? ` WARNING: spread ±${(r.spread * 100).toFixed(0)}% > ±${SPREAD_WARNING * 100}%, the machine was busy: rerun` : '');

export function targetLines(targets) {
  return targets.map((t) => `${t.pass === true ? 'PASS' : t.pass === false ? 'MISS' : 'INFO'}  ${t.id}. ${t.text}`).join('\n');
}
