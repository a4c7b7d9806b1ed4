/**
 * Baselines: a run compared cell by cell with an earlier one (tachometer-style). Each cell present in both gets
 * the ratio of medians (current / baseline) with a bootstrap 95% CI; a regression is a ratio whose whole CI lies
 * above 1 + threshold, an improvement one whose whole CI lies below 1 - threshold.
 */
import { compareCells } from '../measure/compare.ts';
import type { RunResult } from '../schema.ts';
import { okCells } from '../schema.ts';

export const DEFAULT_BASELINE_THRESHOLD = 0.05;

export type BaselineVerdict = 'regression' | 'improvement' | 'unchanged' | 'new' | 'missing' | 'not ok';

export interface BaselineRow {
  device: string | null;
  cellId: string;
  baselineMedian: number | null;
  currentMedian: number | null;
  ratio: number | null;
  ci95: [number, number] | null;
  verdict: BaselineVerdict;
}

/** Runs are matched by device label (null for single-device runs), cells by id. */
export function compareWithBaseline(
  current: readonly RunResult[],
  baseline: readonly RunResult[],
  threshold = DEFAULT_BASELINE_THRESHOLD,
): BaselineRow[] {
  const rows: BaselineRow[] = [];
  for (const run of current) {
    const base = baseline.find((b) => b.device === run.device) ?? (baseline.length === 1 ? baseline[0] : undefined);
    const baseOk = new Map(okCells(base?.cells ?? []).map((c) => [c.cell.id, c]));
    const seen = new Set<string>();
    for (const c of run.cells) {
      seen.add(c.cell.id);
      const b = baseOk.get(c.cell.id);
      const row = { device: run.device, cellId: c.cell.id, baselineMedian: b?.summary.total.median ?? null };
      if (c.status !== 'ok') {
        rows.push({ ...row, currentMedian: null, ratio: null, ci95: null, verdict: 'not ok' });
        continue;
      }
      if (!b) {
        rows.push({ ...row, currentMedian: c.summary.total.median, ratio: null, ci95: null, verdict: 'new' });
        continue;
      }
      const cmp = compareCells(c, b, { threshold });
      const verdict: BaselineVerdict =
        cmp.verdict === 'slower' ? 'regression' : cmp.verdict === 'faster' ? 'improvement' : 'unchanged';
      rows.push({ ...row, currentMedian: c.summary.total.median, ratio: cmp.ratio, ci95: cmp.ci95, verdict });
    }
    for (const id of baseOk.keys()) {
      if (!seen.has(id))
        rows.push({
          device: run.device,
          cellId: id,
          baselineMedian: baseOk.get(id)!.summary.total.median,
          currentMedian: null,
          ratio: null,
          ci95: null,
          verdict: 'missing',
        });
    }
  }
  return rows;
}
