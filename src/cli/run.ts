/**
 * `latency-lab run`: config file and flags -> plan -> one or more browsers (local, or remote devices in parallel)
 * -> results.json and reports in the output folder -> budgets and baseline -> exit code.
 * Everything that can be checked before a browser starts is checked first (usage errors, exit 2).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compareWithBaseline, type BaselineRow } from '../lib/baseline.ts';
import { checkBudgets, type BudgetOutcome } from '../lib/budget.ts';
import { calibrationReports } from '../lib/calibration.ts';
import { compareToFastest } from '../lib/compare.ts';
import { parseConfig, type ParsedConfig } from '../lib/config.ts';
import { cellReason, fmtMs, resultTable, textTable } from '../lib/format.ts';
import { parseManifest } from '../lib/manifest.ts';
import { reportHtml, reportMarkdown, samplesCsv, summaryCsv } from '../lib/report.ts';
import { okCells, type RunResult } from '../lib/schema.ts';
import { describePredictions, predictionTables, PREPROCESS_HEADER, preprocessRows } from '../lib/predictions.ts';
import { UsageError, type Flags } from './args.ts';
import { checkDist, runInBrowser } from './driver.ts';
import { Progress } from './progress.ts';
import { NativeHost } from './native/host.ts';
import { formatTax } from '../lib/tax.ts';
import { type FirstVisits } from '../lib/first-visit.ts';
import { firstVisitLines } from '../lib/first-visit-report.ts';
import { measureFirstVisits } from './first-visit.ts';
import { BASELINE_HEADER, baselineRows, BUDGET_HEADER, budgetRows } from '../lib/verdict-tables.ts';
import { checkWritable, EXIT, portArg, readJson, resolveRun, RUN_OPTIONS, type Resolved } from './run-config.ts';

export { EXIT } from './run-config.ts';

export interface RunContext {
  projectRoot: string;
}

export async function cmdRun(argv: string[], ctx: RunContext): Promise<number> {
  const { values: v } = parseArgs({ args: argv, strict: true, allowPositionals: false, options: RUN_OPTIONS });
  const config = v.config ? parseConfig(readJson(v.config, 'config file'), v.config) : {};
  const distDir = resolve(v.dist ?? join(ctx.projectRoot, 'dist'));
  try {
    checkDist(distDir);
  } catch (e) {
    console.error(`latency-lab: ${(e as Error).message}`);
    return EXIT.run;
  }
  const manifest = parseManifest(JSON.parse(readFileSync(join(distDir, 'models', 'manifest.json'), 'utf8')));
  const r = resolveRun(v, config, manifest);
  const browserCfg = config.browser ?? {};
  const progress = new Progress(Boolean(v.quiet), process.stderr);

  const port = portArg(v.port);
  checkWritable(r.outDir);
  // onnxruntime-node is optional: a missing or unloadable one is a usage error before any browser starts.
  let native: NativeHost | undefined;
  if (r.request.native) {
    try {
      await NativeHost.check();
    } catch (e) {
      throw new UsageError(`--native: ${(e as Error).message}`);
    }
    native = new NativeHost();
  }
  const settled = await Promise.allSettled(
    r.devices.map((device, i) =>
      runInBrowser({
        distDir,
        // A fixed port for firewalled grids; several devices run side by side on port, port + 1, ...
        port: port === undefined ? undefined : port + i,
        request: r.request,
        extraModels: r.extraModels,
        files: r.files,
        remote: device ?? undefined,
        serveHost: v['serve-host'],
        publicUrl: v['public-url'],
        chromium: v.chromium ?? browserCfg.chromium,
        headless: !(v.headed ?? browserCfg.headed),
        softwareGpu: v['software-gpu'] ?? browserCfg.softwareGpu,
        extraFlags: [...(browserCfg.args ?? []), ...(v['browser-arg'] ?? [])],
        onPlan: (plan) => progress.plan(device?.name ?? null, plan),
        onCellStart: (i, n, id) => progress.cellStart(device?.name ?? null, i, n, id),
        onCellEvent: (i, e) => progress.cellEvent(device?.name ?? null, i, e),
        onCellDone: (i, res) => progress.cellDone(device?.name ?? null, i, res),
        native,
      }).then((d) => ({ ...d, result: { ...d.result, device: device?.name ?? null } })),
    ),
  );
  progress.finish();
  await native?.closeAll();
  const local = settled[0];
  if (r.firstVisit && local?.status === 'fulfilled') {
    const run = local.value.result;
    local.value.result = { ...run, firstVisits: await firstVisitsOf(run, r, distDir, ctx, v, browserCfg) };
  }

  const runs: RunResult[] = [];
  const deviceErrors: string[] = [];
  const offOrigin: string[] = [];
  settled.forEach((s, i) => {
    const name = r.devices[i]?.name ?? 'local';
    if (s.status === 'fulfilled') {
      runs.push(s.value.result);
      offOrigin.push(...s.value.offOrigin);
      if (s.value.lost) {
        const lost = s.value.result.cells.filter((c) => c.status === 'aborted' && c.reason.startsWith('lost:'));
        console.error(
          `latency-lab: ${name}: ${s.value.lost}; ${lost.length} cell(s) lost (${lost.map((c) => c.cell.id).join(', ')}); the ${s.value.result.cells.length - lost.length} finished are kept`,
        );
      }
    } else deviceErrors.push(`${name}: ${(s.reason as Error)?.message ?? String(s.reason)}`);
  });
  for (const e of deviceErrors) console.error(`latency-lab: device ${e}`);
  if (runs.length === 0) return EXIT.run;

  const budgets: BudgetOutcome | undefined = r.budgets.length ? checkBudgets(r.budgets, runs) : undefined;
  const baselineCompared: BaselineRow[] | undefined = r.baseline
    ? compareWithBaseline(runs, r.baseline.runs, r.baseline.threshold)
    : undefined;
  const input = {
    runs,
    budgets,
    baseline:
      r.baseline && baselineCompared
        ? { file: r.baseline.file, threshold: r.baseline.threshold, rows: baselineCompared }
        : undefined,
  };
  mkdirSync(r.outDir, { recursive: true });
  // One device: the result file itself; several: an array of them, one per device (both load back with the schema).
  writeFileSync(
    join(r.outDir, 'results.json'),
    JSON.stringify(runs.length === 1 && r.devices[0] === null ? runs[0] : runs, null, 2) + '\n',
  );
  writeFileSync(join(r.outDir, 'summary.csv'), summaryCsv(runs));
  writeFileSync(join(r.outDir, 'samples.csv'), samplesCsv(runs));
  writeFileSync(join(r.outDir, 'report.md'), reportMarkdown(input));
  writeFileSync(join(r.outDir, 'report.html'), reportHtml(input));

  if (v.json) process.stdout.write(JSON.stringify(runs.length === 1 ? runs[0] : runs) + '\n');
  else printSummary(runs, budgets, baselineCompared, r.outDir);

  if (offOrigin.length) {
    console.error(
      `latency-lab: blocked ${offOrigin.length} request(s) to another origin: ${offOrigin.slice(0, 5).join(', ')}`,
    );
    return EXIT.run;
  }
  const bad = runs.flatMap((run) =>
    run.cells
      .filter(
        (c) =>
          c.status !== 'ok' && !(c.status === 'unsupported' && (v['allow-unsupported'] ?? config.allowUnsupported)),
      )
      .map((c) => ({ run, c })),
  );
  for (const { run, c } of bad)
    console.error(`latency-lab: ${run.device ? `${run.device}: ` : ''}${c.cell.id} ${c.status}: ${cellReason(c)}`);
  if (budgets?.unmatched.length)
    for (const u of budgets.unmatched) console.error(`latency-lab: warning: budget '${u}' names no cell of this run`);
  if (bad.length || deviceErrors.length) return EXIT.run;
  const regressions = baselineCompared?.filter((b) => b.verdict === 'regression') ?? [];
  if (budgets?.breaches.length || regressions.length) {
    if (budgets?.breaches.length) console.error(`latency-lab: ${budgets.breaches.length} budget breach(es)`);
    if (regressions.length)
      console.error(`latency-lab: ${regressions.length} regression(s) against ${r.baseline!.file}`);
    return EXIT.budget;
  }
  return EXIT.ok;
}

/** First visits of the run's cells that ran ok in the browser (the others' reasons are in the main table). */
async function firstVisitsOf(
  run: RunResult,
  r: Resolved,
  distDir: string,
  ctx: RunContext,
  v: Flags,
  browserCfg: NonNullable<ParsedConfig['browser']>,
): Promise<FirstVisits> {
  const cells = okCells(run.cells)
    .filter((c) => c.cell.runtime !== 'ort-node')
    .map((c) => c.cell);
  const quiet = Boolean(v.quiet);
  return measureFirstVisits({
    distDir,
    cacheDir: join(ctx.projectRoot, 'node_modules', '.cache', 'latency-lab', 'compressed'),
    request: r.request,
    cells,
    profiles: r.firstVisit!.profiles,
    cpuSlowdown: r.firstVisit!.cpuSlowdown,
    extraModels: r.extraModels,
    files: r.files,
    chromium: (v.chromium as string | undefined) ?? browserCfg.chromium,
    softwareGpu: (v['software-gpu'] as boolean | undefined) ?? browserCfg.softwareGpu,
    extraFlags: [...(browserCfg.args ?? []), ...((v['browser-arg'] as string[] | undefined) ?? [])],
    onStatus: (text) => !quiet && process.stderr.write(`${text}\n`),
  });
}

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

function printSummary(
  runs: RunResult[],
  budgets: BudgetOutcome | undefined,
  baseline: BaselineRow[] | undefined,
  outDir: string,
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
  if (budgets) {
    console.log(`\nbudgets: ${budgets.breaches.length ? `${budgets.breaches.length} BREACHED` : 'all met'}`);
    const rows = budgetRows(budgets);
    if (rows.length) console.log(textTable(BUDGET_HEADER, rows));
  }
  if (baseline) {
    console.log('\nbaseline:');
    console.log(textTable(BASELINE_HEADER, baselineRows(baseline, '-')));
  }
  console.log(`\nreports: ${outDir}/ (results.json, summary.csv, samples.csv, report.md, report.html)`);
}
