/**
 * A run's outcome in one line: how many cells ended ok, unsupported, failed or aborted, and the worst of them, so a
 * list of runs never calls a run with no ok cell "done" in green.
 */
import type { CellResult, CellStatus } from '../schema.ts';

const WORST_FIRST: readonly CellStatus[] = ['failed', 'aborted', 'unsupported', 'ok'];

export interface RunOutcome {
  counts: Record<CellStatus, number>;
  /** The worst status among the cells; null when there are none yet. */
  worst: CellStatus | null;
  /** `3 ok · 1 failed`, zero counts left out. */
  text: string;
}

export function runOutcome(cells: readonly Pick<CellResult, 'status'>[]): RunOutcome {
  const counts: Record<CellStatus, number> = { ok: 0, unsupported: 0, failed: 0, aborted: 0 };
  for (const c of cells) counts[c.status]++;
  const worst = WORST_FIRST.find((s) => counts[s] > 0) ?? null;
  const text = (['ok', 'unsupported', 'failed', 'aborted'] as const)
    .filter((s) => counts[s] > 0)
    .map((s) => `${counts[s]} ${s}`)
    .join(' · ');
  return { counts, worst, text: text || 'no cells yet' };
}
