/** report.html: one file with inline CSS and SVG charts, no script, nothing fetched; names escaped. Pure. */
import { BASELINE_HEADER, baselineRows, BUDGET_HEADER, budgetRows } from './verdict-tables.ts';
import { TAX_HEADER, TAX_NOTE, taxRows } from './tax.ts';
import { FIRST_VISIT_HEADER, firstVisitNote, firstVisitRows, networkCostLines } from './first-visit-report.ts';
import { fmtMs } from './format.ts';
import { okCells, type RunResult } from '../schema.ts';
import { VARIANT_HEADER, VARIANT_NOTE, variantRows } from './variant-report.ts';
import { describePredictions, predictionTables, PREPROCESS_HEADER, preprocessRows } from './predictions.ts';
import { escapeXml, medianChartSvg, stageShareSvg, STAGE_COLOURS } from './svg-chart.ts';

import { multi } from './report-csv.ts';
import { shipVerdicts } from './verdict-ship.ts';
import { verdictHtml } from './verdict-report.ts';

import { CELL_HEADER, cellRows, COLD_HEADER, COLD_NOTE, coldRows, envLine, type ReportInput } from './report-rows.ts';
import { STAGES } from '../stages.ts';

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;padding:0 16px;color:#1d2330;background:#fff}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}table{border-collapse:collapse;width:100%;font-size:12.5px}
th,td{border-bottom:1px solid #dde1e7;padding:4px 6px;text-align:left;vertical-align:top}td:first-child{white-space:nowrap}td.n{text-align:right;font-variant-numeric:tabular-nums}
.bad{color:#b42318;font-weight:600}pre.code{background:#f4f6f8;padding:10px;overflow-x:auto;font-size:12px;line-height:1.4}.ok{color:#1d7a3b}.muted{color:#5f6673}code{font-size:12px}
svg .t{font-size:14px;font-weight:600;fill:#1d2330}svg .label,svg .val{font-size:12px;fill:#1d2330;font-family:ui-monospace,monospace}
svg .tick,svg .axis{font-size:11px;fill:#5f6673}svg .grid{stroke:#e3e6eb}svg .bar{fill:#2b6cb0}svg .bar.marked{fill:#c2410c}svg .ci{stroke:#111;stroke-width:1.5;fill:none}
@media (prefers-color-scheme:dark){body{background:#14171c;color:#e6e8eb}th,td{border-color:#2c3139}svg .t,svg .label,svg .val{fill:#e6e8eb}svg .grid{stroke:#2c3139}pre.code{background:#1d2128}svg .ci{stroke:#eee}svg .bar{fill:#5b9bd5}.muted,svg .tick,svg .axis{color:#9aa1ad;fill:#9aa1ad}}`;

function htmlTable(header: string[], rows: string[][], numeric: Set<number> = new Set()): string {
  const th = header.map((h) => `<th>${escapeXml(h)}</th>`).join('');
  const trs = rows
    .map((r) => `<tr>${r.map((v, i) => `<td${numeric.has(i) ? ' class="n"' : ''}>${escapeXml(v)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${trs}\n</tbody></table>`;
}

/** One HTML file with inline CSS and SVG charts: no script, nothing fetched. */
export function reportHtml(input: ReportInput): string {
  const { runs } = input;
  const many = multi(runs);
  const offset = many ? 1 : 0;
  const parts = [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">',
    `<title>Inference latency report</title><style>${CSS}</style></head><body>`,
    `<h1>Inference latency report</h1><p class="muted">${escapeXml(`${runs[0]?.createdAt ?? ''} · inference-latency-lab ${runs[0]?.tool.version ?? ''} · seed ${runs[0]?.plan.seed ?? ''}`)}</p>`,
    `<ul>${runs.map((r) => `<li>${escapeXml(envLine(r).replace(/\*\*/g, ''))}</li>`).join('')}</ul>`,
    ...verdictHtml(input.shipped ?? shipVerdicts(runs), htmlTable),
    ...chartSvgs(input),
    '<h2>Cells</h2>',
    htmlTable(
      many ? ['device', ...CELL_HEADER] : CELL_HEADER,
      cellRows(runs),
      new Set([2, 3, 4, 5, 6, 7].map((i) => i + offset)),
    ),
    '<h2>Cold start</h2>',
    htmlTable(
      many ? ['device', ...COLD_HEADER] : COLD_HEADER,
      coldRows(runs),
      new Set([2, 3, 4, 5, 6].map((i) => i + offset)),
    ),
    `<p class="muted">${escapeXml(COLD_NOTE)}</p>`,
    ...optionalSections(runs),
    ...verdictSections(input),
    `<p class="muted">Stage colours: ${Object.keys(STAGE_COLOURS).map(escapeXml).join(', ')}. Percentiles with too few samples behind them are shown as –. GPU numbers from a software adapter check correctness, not GPU speed.</p>`,
    '</body></html>',
  ];
  return parts.join('\n');
}

/** The median chart (budget breaches marked) and the stage shares chart. */
function chartSvgs(input: ReportInput): string[] {
  const { runs } = input;
  const many = multi(runs);
  const label = (run: RunResult, id: string) => (many ? `${run.device ?? ''} · ${id}` : id);
  const breached = new Set((input.budgets?.breaches ?? []).map((b) => `${b.device ?? ''}|${b.cellId}`));
  const ok = runs.flatMap((run) => okCells(run.cells).map((c) => ({ run, c })));
  const median = medianChartSvg(
    ok.map(({ run, c }) => ({
      label: label(run, c.cell.id),
      median: c.summary.total.median,
      lo: c.summary.total.medianCI95?.[0] ?? null,
      hi: c.summary.total.medianCI95?.[1] ?? null,
      marked: breached.has(`${run.device ?? ''}|${c.cell.id}`),
    })),
    'Median total per pass, with 95% CI',
  );
  const stages = stageShareSvg(
    ok.map(({ run, c }) => ({
      label: label(run, c.cell.id),
      total: c.summary.total.median,
      stages: Object.fromEntries(STAGES.map((s) => [s, c.summary[s]?.median ?? null])) as Record<
        (typeof STAGES)[number],
        number | null
      >,
    })),
    'Where the time goes: median stages as shares of the total (folded stages are counted in inference)',
  );
  return [median, stages];
}

const list = (lines: readonly string[]) => `<ul>${lines.map((l) => `<li>${escapeXml(l)}</li>`).join('')}</ul>`;

/** Sections only some runs have: pictures, predictions, the browser tax, first visits. */
function optionalSections(runs: readonly RunResult[]): string[] {
  const parts: string[] = [];
  const variants = runs.flatMap((r) => variantRows(r.cells));
  if (variants.length)
    parts.push(
      '<h2>Model variants</h2>',
      htmlTable(VARIANT_HEADER, variants, new Set([2, 3, 4, 5, 6, 7, 8])),
      `<p class="muted">${escapeXml(VARIANT_NOTE)}</p>`,
    );
  const pictures = runs.flatMap((r) => preprocessRows(okCells(r.cells), fmtMs));
  if (pictures.length)
    parts.push(
      '<h2>Preprocess from pictures (median per pass)</h2>',
      htmlTable(PREPROCESS_HEADER, pictures, new Set([1, 2, 3, 4, 5])),
    );
  const said = runs.flatMap((r) => describePredictions(predictionTables(okCells(r.cells))));
  if (said.length) parts.push('<h2>Predictions per picture</h2>', list(said));
  const tax = runs.flatMap((r) => taxRows(r.cells, r.plan.nativeSkipped, fmtMs));
  if (tax.length)
    parts.push(
      '<h2>Browser tax (against native onnxruntime-node)</h2>',
      htmlTable(TAX_HEADER, tax, new Set([2, 3, 4, 5])),
      `<p class="muted">${escapeXml(TAX_NOTE)}</p>`,
    );
  for (const r of runs.filter((x) => x.firstVisits)) {
    const fv = r.firstVisits!;
    parts.push(
      `<h2>First visit${r.device ? ` (${escapeXml(r.device)})` : ''}: network emulated by Chromium</h2>`,
      htmlTable(FIRST_VISIT_HEADER, firstVisitRows(fv), new Set([3, 4, 5, 6, 7, 8, 9, 10, 11, 12])),
      list(networkCostLines(fv)),
      `<p class="muted">${escapeXml(firstVisitNote(fv))}</p>`,
    );
  }
  return parts;
}

/** Budgets and the baseline, when the run was judged against them. */
function verdictSections(input: ReportInput): string[] {
  const parts: string[] = [];
  if (input.budgets) {
    const b = input.budgets;
    parts.push(
      `<h2>Budgets: <span class="${b.breaches.length ? 'bad' : 'ok'}">${b.breaches.length ? `${b.breaches.length} breached` : 'all met'}</span></h2>`,
      htmlTable(BUDGET_HEADER, budgetRows(b), new Set([3, 4])),
      ...b.unmatched.map(
        (u) => `<p class="bad">Warning: budget <code>${escapeXml(u)}</code> names no cell of this run.</p>`,
      ),
    );
  }
  if (input.baseline) {
    const { rows, threshold, file } = input.baseline;
    parts.push(
      `<h2>Baseline <code>${escapeXml(file)}</code> (threshold ±${(threshold * 100).toFixed(0)}%)</h2>`,
      htmlTable(BASELINE_HEADER, baselineRows(rows), new Set([2, 3, 4])),
    );
  }
  return parts;
}
