/**
 * Report files from one or more runs (one per device): summary.csv, samples.csv, report.md and a self-contained
 * report.html. Pure string builders; the CLI writes them, the page can offer the same downloads.
 * Every name that came from a user (model ids, file names) is escaped for the format it lands in.
 */
import type { BaselineRow } from './baseline.ts';
import { BASELINE_HEADER, baselineRows, BUDGET_HEADER, budgetRows } from './verdict-tables.ts';
import type { BudgetOutcome } from './budget.ts';
import { compareToFastest } from './compare.ts';
import { throughput } from './format.ts';
import { TAX_HEADER, TAX_NOTE, taxRows } from './tax.ts';
import { FIRST_VISIT_HEADER, firstVisitNote, firstVisitRows, networkCostLines } from './first-visit-report.ts';
import { cellReason, fmtCI, fmtMs, fmtPercentile, fmtRel, fmtVerdict } from './format.ts';
import { describeStop } from './sampling.ts';
import { okCells, STAGES, type RunResult } from './schema.ts';
import { describePredictions, predictionTables, PREPROCESS_HEADER, preprocessRows } from './predictions.ts';
import { escapeXml, medianChartSvg, stageShareSvg, STAGE_COLOURS } from './svg-chart.ts';
import { validityFlags } from './validity.ts';
import { describeWarmup, warmupShort } from './warmup-curve.ts';

export { csvField, samplesCsv, summaryCsv, toCsv } from './report-csv.ts';
import { multi } from './report-csv.ts';

export interface ReportInput {
  runs: readonly RunResult[];
  budgets?: BudgetOutcome;
  baseline?: { file: string; threshold: number; rows: BaselineRow[] };
}

/** A CSV field: quoted when needed; text that a spreadsheet would run as a formula is defused with a quote. */
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

function envLine(run: RunResult): string {
  const e = run.environment;
  return `${run.device ? `**${run.device}**: ` : ''}${e.browser.name} ${e.browser.version} · ${e.platform} · ${e.hardwareConcurrency} cores · isolated: ${e.crossOriginIsolated} · timer ${(e.timerResolutionMs * 1000).toFixed(1)} µs${e.gpu?.software ? ' · software GPU (numbers check correctness, not GPU speed)' : ''}`;
}

function cellRows(runs: readonly RunResult[]): string[][] {
  return runs.flatMap((run) => {
    const vs = compareToFastest(okCells(run.cells));
    return run.cells.map((c) => {
      const dev = multi(runs) ? [run.device ?? ''] : [];
      if (c.status !== 'ok') return [...dev, c.cell.id, c.status, '', '', '', '', '', '', '', '', cellReason(c)];
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
        describeStop(c.sampling),
        `${warmupShort(c.steadyState)} (${describeWarmup(c.steadyState)})`,
        [fmtVerdict(vs.get(c.cell.id)), ...validityFlags(c.validity, c.steadyState), ...c.warnings]
          .filter(Boolean)
          .join('; '),
      ];
    });
  });
}

/** Cold start per ok cell: the runtime's wasm (which build's, how big, how long to fetch), then the phases. */
const COLD_HEADER = [
  'cell',
  'runtime wasm',
  'wasm MB',
  'wasm fetch ms',
  'runtime init ms',
  'session create ms',
  'first inference ms',
];
function coldRows(runs: readonly RunResult[]): string[][] {
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
const COLD_NOTE =
  'Compiling the runtime wasm falls in runtime init or session create, wherever the runtime does it (ORT: at the first session).';

const CELL_HEADER = [
  'cell',
  'status',
  'median ms',
  '95% CI',
  '±',
  'p95',
  'p99',
  'items/s',
  'sampling',
  'warm-up',
  'notes',
];

export function reportMarkdown(input: ReportInput): string {
  const { runs } = input;
  const header = multi(runs) ? ['device', ...CELL_HEADER] : CELL_HEADER;
  const out = [
    `# Inference latency report`,
    '',
    `${runs[0]?.createdAt ?? ''} · inference-latency-lab ${runs[0]?.tool.version ?? ''} · seed ${runs[0]?.plan.seed ?? ''}`,
    '',
    ...runs.map((r) => `- ${mdCell(envLine(r))}`),
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

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;padding:0 16px;color:#1d2330;background:#fff}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}table{border-collapse:collapse;width:100%;font-size:12.5px}
th,td{border-bottom:1px solid #dde1e7;padding:4px 6px;text-align:left;vertical-align:top}td:first-child{white-space:nowrap}td.n{text-align:right;font-variant-numeric:tabular-nums}
.bad{color:#b42318;font-weight:600}.ok{color:#1d7a3b}.muted{color:#5f6673}code{font-size:12px}
svg .t{font-size:14px;font-weight:600;fill:#1d2330}svg .label,svg .val{font-size:12px;fill:#1d2330;font-family:ui-monospace,monospace}
svg .tick,svg .axis{font-size:11px;fill:#5f6673}svg .grid{stroke:#e3e6eb}svg .bar{fill:#2b6cb0}svg .bar.marked{fill:#c2410c}svg .ci{stroke:#111;stroke-width:1.5;fill:none}
@media (prefers-color-scheme:dark){body{background:#14171c;color:#e6e8eb}th,td{border-color:#2c3139}svg .t,svg .label,svg .val{fill:#e6e8eb}svg .grid{stroke:#2c3139}svg .ci{stroke:#eee}svg .bar{fill:#5b9bd5}.muted,svg .tick,svg .axis{color:#9aa1ad;fill:#9aa1ad}}`;

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
  const label = (run: RunResult, id: string) => (many ? `${run.device ?? ''} · ${id}` : id);
  const breached = new Set((input.budgets?.breaches ?? []).map((b) => `${b.device ?? ''}|${b.cellId}`));
  const ok = runs.flatMap((run) => okCells(run.cells).map((c) => ({ run, c })));
  const medianSvg = medianChartSvg(
    ok.map(({ run, c }) => ({
      label: label(run, c.cell.id),
      median: c.summary.total.median,
      lo: c.summary.total.medianCI95?.[0] ?? null,
      hi: c.summary.total.medianCI95?.[1] ?? null,
      marked: breached.has(`${run.device ?? ''}|${c.cell.id}`),
    })),
    'Median total per pass, with 95% CI',
  );
  const stageSvg = stageShareSvg(
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
  const header = many ? ['device', ...CELL_HEADER] : CELL_HEADER;
  const offset = many ? 1 : 0;
  const parts = [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">',
    `<title>Inference latency report</title><style>${CSS}</style></head><body>`,
    `<h1>Inference latency report</h1><p class="muted">${escapeXml(`${runs[0]?.createdAt ?? ''} · inference-latency-lab ${runs[0]?.tool.version ?? ''} · seed ${runs[0]?.plan.seed ?? ''}`)}</p>`,
    `<ul>${runs.map((r) => `<li>${escapeXml(envLine(r).replace(/\*\*/g, ''))}</li>`).join('')}</ul>`,
    medianSvg,
    stageSvg,
    '<h2>Cells</h2>',
    htmlTable(header, cellRows(runs), new Set([2, 3, 4, 5, 6, 7].map((i) => i + offset))),
    '<h2>Cold start</h2>',
    htmlTable(
      many ? ['device', ...COLD_HEADER] : COLD_HEADER,
      coldRows(runs),
      new Set([2, 3, 4, 5, 6].map((i) => i + offset)),
    ),
    `<p class="muted">${escapeXml(COLD_NOTE)}</p>`,
  ];
  const pictures = runs.flatMap((r) => preprocessRows(okCells(r.cells), fmtMs));
  if (pictures.length)
    parts.push(
      '<h2>Preprocess from pictures (median per pass)</h2>',
      htmlTable(PREPROCESS_HEADER, pictures, new Set([1, 2, 3, 4, 5])),
    );
  const said = runs.flatMap((r) => describePredictions(predictionTables(okCells(r.cells))));
  if (said.length)
    parts.push('<h2>Predictions per picture</h2>', `<ul>${said.map((l) => `<li>${escapeXml(l)}</li>`).join('')}</ul>`);
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
    );
    parts.push(
      `<ul>${networkCostLines(fv)
        .map((l) => `<li>${escapeXml(l)}</li>`)
        .join('')}</ul>`,
      `<p class="muted">${escapeXml(firstVisitNote(fv))}</p>`,
    );
  }
  if (input.budgets) {
    const b = input.budgets;
    parts.push(
      `<h2>Budgets: <span class="${b.breaches.length ? 'bad' : 'ok'}">${b.breaches.length ? `${b.breaches.length} breached` : 'all met'}</span></h2>`,
    );
    parts.push(htmlTable(BUDGET_HEADER, budgetRows(b), new Set([3, 4])));
    for (const u of b.unmatched)
      parts.push(`<p class="bad">Warning: budget <code>${escapeXml(u)}</code> names no cell of this run.</p>`);
  }
  if (input.baseline) {
    const { rows, threshold, file } = input.baseline;
    parts.push(`<h2>Baseline <code>${escapeXml(file)}</code> (threshold ±${(threshold * 100).toFixed(0)}%)</h2>`);
    parts.push(htmlTable(BASELINE_HEADER, baselineRows(rows), new Set([2, 3, 4])));
  }
  parts.push(
    `<p class="muted">Stage colours: ${Object.entries(STAGE_COLOURS)
      .map(([s]) => escapeXml(s))
      .join(
        ', ',
      )}. Percentiles with too few samples behind them are shown as –. GPU numbers from a software adapter check correctness, not GPU speed.</p>`,
  );
  parts.push('</body></html>');
  return parts.join('\n');
}
