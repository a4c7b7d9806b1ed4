/**
 * Budget checks and baseline comparisons as table rows, one wording for the CLI, report.md and report.html.
 */
import type { BaselineRow } from './baseline.ts';
import type { BudgetOutcome } from '../plan/budget.ts';
import { fmtMs } from './format.ts';

export const BUDGET_HEADER = ['rule', 'device', 'cell', 'value ms', 'limit ms', 'result', 'note'];
export const BASELINE_HEADER = ['device', 'cell', 'baseline ms', 'now ms', 'ratio', '95% CI', 'verdict'];

export function budgetRows(b: BudgetOutcome): string[][] {
  return b.checks.map((c) => [
    c.rule,
    c.device ?? '',
    c.cellId,
    fmtMs(c.valueMs),
    fmtMs(c.limitMs),
    c.pass === null ? 'no data' : c.pass ? 'pass' : 'BREACH',
    c.note,
  ]);
}

/** `dash` between the CI's ends: an en dash in reports, a hyphen in a terminal (which may not show Unicode). */
export function baselineRows(rows: readonly BaselineRow[], dash = '–'): string[][] {
  return rows.map((r) => [
    r.device ?? '',
    r.cellId,
    fmtMs(r.baselineMedian),
    fmtMs(r.currentMedian),
    r.ratio === null ? '' : r.ratio.toFixed(3),
    r.ci95 ? `${r.ci95[0].toFixed(3)}${dash}${r.ci95[1].toFixed(3)}` : '',
    r.verdict,
  ]);
}
