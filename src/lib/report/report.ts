/**
 * Report files from one or more runs (one per device): report.md here; summary.csv and samples.csv are
 * report-csv.ts, the self-contained report.html report-html.ts. Pure string builders; the CLI writes them, the page
 * can offer the same downloads.
 * Every name that came from a user (model ids, file names) is escaped for the format it lands in.
 */
import { BASELINE_HEADER, baselineRows, BUDGET_HEADER, budgetRows } from './verdict-tables.ts';
import { TAX_HEADER, TAX_NOTE, taxRows } from './tax.ts';
import { FIRST_VISIT_HEADER, firstVisitNote, firstVisitRows, networkCostLines } from './first-visit-report.ts';
import { fmtMs } from './format.ts';
import { okCells } from '../schema.ts';
import { VARIANT_HEADER, VARIANT_NOTE, variantRows } from './variant-report.ts';
import { describePredictions, predictionTables, PREPROCESS_HEADER, preprocessRows } from './predictions.ts';

import { multi } from './report-csv.ts';
import { shipVerdicts } from './verdict-ship.ts';
import { verdictMarkdown } from './verdict-report.ts';

import { CELL_HEADER, cellRows, COLD_HEADER, COLD_NOTE, coldRows, envLine, type ReportInput } from './report-rows.ts';

/** A Markdown table cell: backslashes and pipes escaped, markup defused, on one line. */
export function mdCell(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\n/g, ' ');
}

function mdTable(header: string[], rows: string[][]): string {
  return [
    `| ${header.map(mdCell).join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`),
  ].join('\n');
}

export function reportMarkdown(input: ReportInput): string {
  const { runs } = input;
  const header = multi(runs) ? ['device', ...CELL_HEADER] : CELL_HEADER;
  const out = [
    `# Inference latency report`,
    '',
    `${runs[0]?.createdAt ?? ''} · inference-latency-lab ${runs[0]?.tool.version ?? ''} · seed ${runs[0]?.plan.seed ?? ''}`,
    '',
    ...runs.map((r) => `- ${mdCell(envLine(r))}`),
    ...verdictMarkdown(input.shipped ?? shipVerdicts(runs), mdTable, mdCell),
    '',
    '## Cells (total per pass, steady state)',
    '',
    mdTable(header, cellRows(runs)),
  ];
  out.push(
    '',
    '## Cold start',
    '',
    mdTable(multi(runs) ? ['device', ...COLD_HEADER] : COLD_HEADER, coldRows(runs)),
    '',
    COLD_NOTE,
  );
  const variants = runs.flatMap((r) => variantRows(r.cells));
  if (variants.length) out.push('', '## Model variants', '', mdTable(VARIANT_HEADER, variants), '', VARIANT_NOTE);
  const pictures = runs.flatMap((r) => preprocessRows(okCells(r.cells), fmtMs));
  if (pictures.length)
    out.push('', '## Preprocess from pictures (median per pass)', '', mdTable(PREPROCESS_HEADER, pictures));
  const said = runs.flatMap((r) => describePredictions(predictionTables(okCells(r.cells))));
  if (said.length) out.push('', '## Predictions per picture', '', ...said.map((l) => `- ${mdCell(l)}`));
  const tax = runs.flatMap((r) => taxRows(r.cells, r.plan.nativeSkipped, fmtMs));
  if (tax.length)
    out.push('', '## Browser tax (against native onnxruntime-node)', '', mdTable(TAX_HEADER, tax), '', TAX_NOTE);
  for (const r of runs.filter((x) => x.firstVisits)) {
    const fv = r.firstVisits!;
    out.push(
      '',
      `## First visit${r.device ? ` (${r.device})` : ''}: network emulated by Chromium`,
      '',
      mdTable(FIRST_VISIT_HEADER, firstVisitRows(fv)),
      '',
      ...networkCostLines(fv).map((l) => `- ${mdCell(l)}`),
      '',
      firstVisitNote(fv),
    );
  }
  if (input.budgets) {
    const b = input.budgets;
    out.push('', `## Budgets: ${b.breaches.length ? `${b.breaches.length} breached` : 'all met'}`, '');
    if (b.checks.length) out.push(mdTable(BUDGET_HEADER, budgetRows(b)));
    for (const u of b.unmatched) out.push('', `Warning: budget \`${mdCell(u)}\` names no cell of this run.`);
  }
  if (input.baseline) {
    const { rows, threshold, file } = input.baseline;
    const reg = rows.filter((r) => r.verdict === 'regression').length;
    out.push('', `## Baseline ${mdCell(file)} (threshold ±${(threshold * 100).toFixed(0)}%): ${reg} regression(s)`, '');
    out.push(mdTable(BASELINE_HEADER, baselineRows(rows)));
  }
  return out.join('\n') + '\n';
}
