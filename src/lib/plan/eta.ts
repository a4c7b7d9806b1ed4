/**
 * Time left in a run, from the cells still to run rather than the mean so far: a cell is expected to take what
 * finished cells of the same runtime:backend took (they differ by orders of magnitude: tfjs cpu against ort wasm),
 * else the mean of all finished cells; a running cell what it is expected to take less what it has had.
 */
export interface EtaCell {
  /** Cells with the same key are expected to take alike (the page uses model + runtime:backend). */
  key: string;
  status: 'waiting' | 'running' | 'done';
  /** Running: how long it has run; done: how long it took (null when it was done in an earlier session). */
  ms: number | null;
}

/** Milliseconds left, or null before any cell has finished (nothing to go by yet). */
export function remainingMs(cells: readonly EtaCell[]): number | null {
  const done = cells.filter((c) => c.status === 'done' && c.ms !== null);
  if (!done.length) return null;
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const overall = mean(done.map((c) => c.ms!));
  const byKey = new Map<string, number[]>();
  for (const c of done) byKey.set(c.key, [...(byKey.get(c.key) ?? []), c.ms!]);
  const expected = (key: string) => (byKey.has(key) ? mean(byKey.get(key)!) : overall);
  let left = 0;
  for (const c of cells) {
    if (c.status === 'waiting') left += expected(c.key);
    else if (c.status === 'running') left += Math.max(0, expected(c.key) - (c.ms ?? 0));
  }
  return left;
}
