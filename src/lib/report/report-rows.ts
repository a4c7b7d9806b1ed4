/**
 * What the Markdown and HTML reports share: the input, the environment line, and the rows of the cell and cold-start
 * tables (one run or several, one per device).
 */
import type { BaselineRow } from './baseline.ts';
import type { BudgetOutcome } from '../plan/budget.ts';
import type { ShippedVerdict } from './verdict-ship.ts';
import { compareToFastest } from '../measure/compare.ts';
import { throughput } from './format.ts';
import { fmtCI, fmtMs, fmtPercentile, fmtRel, fmtVerdict } from './format.ts';
import { cellReason } from '../schema/cell-result.ts';
import { describeStop } from '../measure/sampling-words.ts';
import { okCells, type OkCellResult, type RunResult } from '../schema.ts';
import { validityFlags } from '../measure/validity.ts';
import { describeWarmup, warmupShort } from '../measure/warmup-curve.ts';

import { multi } from './report-csv.ts';

export interface ReportInput {
  runs: readonly RunResult[];
  budgets?: BudgetOutcome;
  baseline?: { file: string; threshold: number; rows: BaselineRow[] };
  /** What to ship, per model and device; absent: made from the runs alone (no budgets, no manifest). */
  shipped?: readonly ShippedVerdict[];
}

export function envLine(run: RunResult): string {
  const e = run.environment;
  return `${run.device ? `**${run.device}**: ` : ''}${e.browser.name} ${e.browser.version} · ${e.platform} · ${e.hardwareConcurrency} cores · isolated: ${e.crossOriginIsolated} · timer ${(e.timerResolutionMs * 1000).toFixed(1)} µs${e.gpu?.software ? ' · software GPU (numbers check correctness, not GPU speed)' : ''}`;
}

export function cellRows(runs: readonly RunResult[]): string[][] {
  return runs.flatMap((run) => {
    const vs = compareToFastest(okCells(run.cells));
    return run.cells.map((c) => {
      const dev = multi(runs) ? [run.device ?? ''] : [];
      if (c.status !== 'ok') return [...dev, c.cell.id, c.status, '', '', '', '', '', '', '', '', '', cellReason(c)];
      const t = c.summary.total;
      const tp = throughput(c);
      return [
        ...dev,
        c.cell.id,
        'ok',
        fmtMs(t.median),
        fmtCI(t),
        fmtRel(t),
        fmtPercentile(c, 'p95'),
        fmtPercentile(c, 'p99'),
        tp === null ? '' : tp.toFixed(1),
        invocationsText(c),
        describeStop(c.sampling),
        `${warmupShort(c.steadyState)} (${describeWarmup(c.steadyState)})`,
        [fmtVerdict(vs.get(c.cell.id)), ...validityFlags(c.validity, c.steadyState), ...c.warnings]
          .filter(Boolean)
          .join('; '),
      ];
    });
  });
}

/** "3: 0.065, 0.066, 0.104 ms (between sd 21%)": a cell's invocations and their levels; "1" for one. */
export function invocationsText(c: OkCellResult): string {
  const a = c.acrossInvocations;
  if (!a || c.invocations.length < 2) return '1';
  const between = a.levelMs > 0 ? `; between sd ${((Math.sqrt(a.betweenVar) / a.levelMs) * 100).toFixed(1)}%` : '';
  return `${c.invocations.length}: ${c.invocations.map((i) => fmtMs(i.medianMs)).join(', ')} ms${between}`;
}

/** Cold start per ok cell: the runtime's wasm (which build's, how big, how long to fetch), then the phases. */
export const COLD_HEADER = [
  'cell',
  'runtime wasm',
  'wasm MB',
  'wasm fetch ms',
  'runtime init ms',
  'session create ms',
  'first inference ms',
];
export function coldRows(runs: readonly RunResult[]): string[][] {
  return runs.flatMap((run) =>
    okCells(run.cells).map((c) => {
      const w = c.coldStart.runtimeWasm;
      return [
        ...(multi(runs) ? [run.device ?? ''] : []),
        c.cell.id,
        w?.file ?? '–',
        w ? (w.bytes / 1e6).toFixed(1) : '–',
        w ? fmtMs(w.fetchMs) : '–',
        fmtMs(c.coldStart.runtimeInitMs),
        fmtMs(c.coldStart.sessionCreateMs),
        fmtMs(c.coldStart.firstInferenceMs),
      ];
    }),
  );
}
export const COLD_NOTE =
  'Compiling the runtime wasm falls in runtime init or session create, wherever the runtime does it (ORT: at the first session).';

export const CELL_HEADER = [
  'cell',
  'status',
  'median ms',
  '95% CI',
  '±',
  'p95',
  'p99',
  'items/s',
  'invocations',
  'sampling',
  'warm-up',
  'notes',
];
