// Timing loops: sequential calls (one at a time) and N concurrent callers, each with a warm-up first.

const now = () => performance.now();

/**
 * Calls `fn` one at a time: warm-up (up to `warmupCalls` calls, stopping after `warmupMs`), then `repeats`
 * rounds of at least `minMs` (and at least one call) each. Returns every call's latency and each
 * round's rows and time.
 */
export async function sequential(fn, rowsPerCall, s) {
  // Slow calls (seconds each) get `warmupCalls` only while within `warmupMs`; the caller's check call warms too.
  for (let start = now(), calls = 0; calls < s.warmupCalls && now() - start < s.warmupMs; calls++) await fn();
  const latenciesMs = [];
  const repeats = [];
  for (let r = 0; r < s.repeats; r++) {
    const start = now();
    let calls = 0;
    while (calls === 0 || now() - start < s.minMs) {
      const t = now();
      await fn();
      latenciesMs.push(now() - t);
      calls++;
    }
    repeats.push({ rows: calls * rowsPerCall, ms: now() - start });
  }
  return { latenciesMs, repeats };
}

/** One round: `callers` loops, each awaiting `fn(caller)` back to back until `ms` have passed. */
async function round(fn, callers, ms, latenciesMs) {
  const start = now();
  const deadline = start + ms;
  let done = 0;
  await Promise.all(Array.from({ length: callers }, async (_, caller) => {
    while (now() < deadline) {
      const t = now();
      await fn(caller);
      latenciesMs?.push(now() - t);
      done++;
    }
  }));
  return { rows: done, ms: now() - start }; // a round's time runs until its last call returns
}

/**
 * `callers` concurrent callers against each of `fns` in turn: a warm-up round each, then
 * `concurrentRepeats` rounds of `concurrentMs`, the systems taking turns round by round, so that a
 * busy spell on a shared machine hits them alike. Returns each system's latencies and rounds.
 */
export async function concurrentRounds(fns, callers, s) {
  for (const fn of fns) await round(fn, callers, s.concurrentWarmupMs);
  const results = fns.map(() => ({ latenciesMs: [], repeats: [] }));
  for (let r = 0; r < s.concurrentRepeats; r++) {
    for (const [i, fn] of fns.entries()) results[i].repeats.push(await round(fn, callers, s.concurrentMs, results[i].latenciesMs));
  }
  return results;
}

/**
 * Calls `fn` back to back for `ms`: V8 needs ~1 s of small calls before apache-arrow's encode and
 * decode paths are compiled, so each system gets this once before its first measurement.
 */
export async function warmUp(fn, ms) {
  for (const start = now(); now() - start < ms;) await fn();
}
