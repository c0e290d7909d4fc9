// The correctness guard: one answer of each system is checked (row count and checksum), so a broken
// baseline cannot look fast.

/** `{ ok, expected, actual }`; `relTol` allows float sums computed in another order (0: exact). */
export function verify(expected, actual, relTol = 0) {
  const ok = actual.rows === expected.rows
    && Math.abs(actual.checksum - expected.checksum) <= relTol * Math.abs(expected.checksum);
  if (!ok) {
    process.stderr.write(`  CHECK FAILED: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}\n`);
  }
  return { ok, expected, actual };
}

/** Rows and checksum of a `{ name: number[] }` answer. */
export function columnsDigest(columns) {
  const values = Object.values(columns);
  return { rows: values[0]?.length ?? 0, checksum: values.reduce((s, v) => s + v.reduce((a, b) => a + b, 0), 0) };
}
