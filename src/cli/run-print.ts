/** What `latency-lab run` prints when it is done: per run its table and extra sections, then budgets and baseline. */
import { type BaselineRow } from '../lib/report/baseline.ts';
import { type BudgetOutcome } from '../lib/plan/budget.ts';
import { calibrationReports } from '../lib/measure/calibration.ts';
import { compareToFastest } from '../lib/measure/compare.ts';
import { fmtMs, resultTable, textTable } from '../lib/report/format.ts';
import { okCells, type RunResult } from '../lib/schema.ts';
import { describePredictions, predictionTables, PREPROCESS_HEADER, preprocessRows } from '../lib/report/predictions.ts';
import { formatTax } from '../lib/report/tax.ts';
import { firstVisitLines } from '../lib/report/first-visit-report.ts';
import { REPORT_FILES } from './reports.ts';
import type { ShippedVerdict } from '../lib/report/verdict-ship.ts';
import { verdictLines } from '../lib/report/verdict-words.ts';
import { VARIANT_HEADER, VARIANT_NOTE, variantRows } from '../lib/report/variant-report.ts';
import { BASELINE_HEADER, baselineRows, BUDGET_HEADER, budgetRows } from '../lib/report/verdict-tables.ts';

/** The browser tax per cell, in words, with the native environment and the models that have no native reference. */
export function taxLines(run: RunResult): string[] {
  const ok = okCells(run.cells);
  const native = ok.find((c) => c.cell.runtime === 'ort-node');
  if (!native && !run.plan.nativeSkipped.length) return [];
  const out = [
    '',
    'browser tax (model work per pass: upload + inference + readback, median of steady samples, against native onnxruntime-node on this CPU):',
  ];
  if (native) {
    const d = native.proof.details;
    out.push(
      `  native: onnxruntime-node ${native.proof.runtimeVersion}, ${String(d['executionProvider'])} EP, ${String(d['cpu'])}, ${String(d['os'])}, Node ${String(d['node'])}`,
    );
  }
  const rows = ok
    .filter((c) => c.tax)
    .map((c) => {
      const t = c.tax!;
      const parity = t.parity
        ? t.parity.withinTolerance
          ? `outputs within ${t.parity.tolerance} (max ${t.parity.maxAbsDiff?.toExponential(1)})`
          : `OUTPUTS DIFFER (${t.parity.mismatch ?? `max ${t.parity.maxAbsDiff}`})`
        : 'outputs not compared';
      const inputs =
        t.inputsMatch === null ? 'inputs not compared' : t.inputsMatch ? 'same input bytes' : 'INPUTS DIFFER';
      return `  ${c.cell.id}: ${formatTax(t)} slower than ${t.nativeCellId} (${fmtMs(t.browserMs)} vs ${fmtMs(t.nativeMs)} ms); ${inputs}; ${parity}`;
    });
  out.push(...(rows.length ? rows : ['  no browser cell on a CPU backend has a native reference that ran ok']));
  for (const s of run.plan.nativeSkipped) out.push(`  ${s.modelId}: ${s.reason}`);
  return out;
}

export function printSummary(
  runs: RunResult[],
  budgets: BudgetOutcome | undefined,
  baseline: BaselineRow[] | undefined,
  outDir: string,
  shipped: readonly ShippedVerdict[] = [],
): void {
  for (const run of runs) {
    const env = run.environment;
    console.log(
      `\n${run.device ? `[${run.device}] ` : ''}${env.browser.name} ${env.browser.version} · ${env.platform} · ${env.hardwareConcurrency} cores · isolated: ${env.crossOriginIsolated} · timer ${(env.timerResolutionMs * 1000).toFixed(1)} us · seed ${run.plan.seed}\n`,
    );
    // Fitted to the terminal; piped output (logs, CI) gets a width most viewers show without wrapping.
    console.log(resultTable(run.cells, compareToFastest(okCells(run.cells)), process.stdout.columns ?? 160));
    const pictureRows = preprocessRows(okCells(run.cells), fmtMs);
    if (pictureRows.length)
      console.log(
        `\npreprocess from pictures (decode + resize + normalise, median per pass):\n${textTable(PREPROCESS_HEADER, pictureRows)}`,
      );
    const variants = variantRows(run.cells);
    if (variants.length) console.log(`\nmodel variants:\n${textTable(VARIANT_HEADER, variants)}\n${VARIANT_NOTE}`);
    for (const line of describePredictions(predictionTables(okCells(run.cells)))) console.log(line);
    for (const line of taxLines(run)) console.log(line);
    if (run.firstVisits) for (const line of firstVisitLines(run.firstVisits)) console.log(line);
    for (const c of calibrationReports(okCells(run.cells))) {
      console.log(
        `\ncalibration ${c.cellId}: asked ${fmtMs(c.requestedMs)} ms, inference reported ${fmtMs(c.measuredMs)} ms (error ${(c.errorMs * 1000).toFixed(1)} us, ` +
          `tolerance ${(c.toleranceMs * 1000).toFixed(1)} us: ${c.withinTolerance ? 'within' : 'OUTSIDE'}); harness overhead per pass ${(c.overheadMs * 1000).toFixed(1)} us`,
      );
    }
  }
  for (const line of verdictLines(shipped.map((s) => s.verdict))) console.log(line);
  if (shipped.some((s) => s.code))
    console.log(`  the code to ship each pick: ${outDir}/report.md, report.html ("What to ship")`);
  if (budgets) {
    console.log(`\nbudgets: ${budgets.breaches.length ? `${budgets.breaches.length} BREACHED` : 'all met'}`);
    const rows = budgetRows(budgets);
    if (rows.length) console.log(textTable(BUDGET_HEADER, rows));
  }
  if (baseline) {
    console.log('\nbaseline:');
    console.log(textTable(BASELINE_HEADER, baselineRows(baseline, '-')));
  }
  console.log(`\nreports: ${outDir}/ (${REPORT_FILES})`);
}
