/**
 * `latency-lab run`: config file and flags -> plan -> one or more browsers (local, or remote devices in parallel)
 * -> results.json and reports in the output folder -> budgets and baseline -> exit code.
 * Everything that can be checked before a browser starts is checked first (usage errors, exit 2).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compareWithBaseline, DEFAULT_BASELINE_THRESHOLD, type BaselineRow } from '../lib/baseline.ts';
import { BudgetRule, checkBudgets, parseBudget, type BudgetOutcome } from '../lib/budget.ts';
import { calibrationReports, withBuiltInModels } from '../lib/calibration.ts';
import { compareToFastest } from '../lib/compare.ts';
import { parseConfig, type DeviceEndpoint, type ParsedConfig } from '../lib/config.ts';
import { cellReason, fmtMs, resultTable, textTable } from '../lib/format.ts';
import { bundledImages, parseManifest, type Manifest, type ModelInfo } from '../lib/manifest.ts';
import { buildPlan, freshSeed, sweepableDims, type PlanRequest } from '../lib/plan.ts';
import { reportHtml, reportMarkdown, samplesCsv, summaryCsv } from '../lib/report.ts';
import { okCells, parseResultFile, type RunResult } from '../lib/schema.ts';
import { applyImages, loadLocalImages } from './local-images.ts';
import { describePredictions, predictionTables, PREPROCESS_HEADER, preprocessRows } from '../lib/predictions.ts';
import {
  buildOverrides,
  endpointArg,
  parseDims,
  int,
  ints,
  list,
  samplingFrom,
  UsageError,
  type Flags,
} from './args.ts';
import { checkDist, runInBrowser } from './driver.ts';
import { isLocalPath, loadLocalModels } from './local-models.ts';
import { Progress } from './progress.ts';
import { NativeHost } from './native/host.ts';
import { formatTax } from '../lib/tax.ts';
import { parseProfiles, type FirstVisits, type NetworkProfileName } from '../lib/first-visit.ts';
import { firstVisitLines } from '../lib/first-visit-report.ts';
import { measureFirstVisits } from './first-visit.ts';

export const EXIT = { ok: 0, budget: 1, usage: 2, run: 3 } as const;
export const DEFAULT_TARGETS = ['ort:wasm', 'tfjs:cpu', 'tfjs:wasm'];

export const RUN_OPTIONS = {
  config: { type: 'string' },
  models: { type: 'string' },
  targets: { type: 'string' },
  batch: { type: 'string' },
  threads: { type: 'string' },
  'ort-build': { type: 'string' },
  'tfjs-cores': { type: 'string' },
  mode: { type: 'string' },
  'target-ci': { type: 'string' },
  'min-samples': { type: 'string' },
  'max-samples': { type: 'string' },
  'max-time': { type: 'string' },
  'min-warmup': { type: 'string' },
  samples: { type: 'string' },
  warmup: { type: 'string' },
  iterations: { type: 'string' },
  'cold-starts': { type: 'string' },
  interleave: { type: 'boolean' },
  'live-cells': { type: 'string' },
  block: { type: 'string' },
  order: { type: 'string' },
  'input-seed': { type: 'string' },
  timeout: { type: 'string' },
  'gpu-passes': { type: 'string' },
  'measure-memory': { type: 'boolean' },
  seed: { type: 'string' },
  dim: { type: 'string', multiple: true },
  images: { type: 'string' },
  'batch-dims': { type: 'string' },
  values: { type: 'string', multiple: true },
  budget: { type: 'string', multiple: true },
  baseline: { type: 'string' },
  'baseline-threshold': { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  'allow-unsupported': { type: 'boolean' },
  dist: { type: 'string' },
  chromium: { type: 'string' },
  headed: { type: 'boolean' },
  'software-gpu': { type: 'boolean' },
  'browser-arg': { type: 'string', multiple: true },
  connect: { type: 'string', multiple: true },
  cdp: { type: 'string', multiple: true },
  'serve-host': { type: 'string' },
  port: { type: 'string' },
  'public-url': { type: 'string' },
  quiet: { type: 'boolean' },
  native: { type: 'boolean' },
  'first-visit': { type: 'string' },
  'cpu-slowdown': { type: 'string' },
} as const;

function readJson(file: string, what: string): unknown {
  if (!existsSync(file)) throw new UsageError(`${what} '${file}' does not exist`);
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${what} '${file}' is not JSON: ${(e as Error).message}`);
  }
}

/** `--port N`: the lab's server listens on N (default: any free port). */
export function portArg(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new UsageError(`--port: '${text}' is not a port number in 1..65535`);
  return n;
}

/**
 * The output folder can be made and written, checked before any browser starts: a run of many minutes must not
 * end with nowhere to put its results (exit 2, naming the folder and the system's reason).
 */
export function checkWritable(dir: string): void {
  const probe = join(dir, `.latency-lab-write-check-${process.pid}`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new UsageError(
      `--out '${dir}' can't be written (${err.message.split('\n')[0]}); results would be lost, so nothing was run`,
    );
  }
}

interface Resolved {
  request: PlanRequest;
  extraModels: ModelInfo[];
  files: Map<string, string>;
  budgets: BudgetRule[];
  baseline: { file: string; runs: RunResult[]; threshold: number } | null;
  devices: (DeviceEndpoint | null)[];
  outDir: string;
  /** Network profiles for first visits ('none' first), or null when not asked for. */
  firstVisit: { profiles: NetworkProfileName[]; cpuSlowdown: number | null } | null;
}

/** Flags over config over defaults; local model paths read and checked; budgets and baseline loaded. */
export function resolveRun(v: Flags, config: ParsedConfig, manifest: Manifest): Resolved {
  const zoo = withBuiltInModels(manifest.models);
  const modelArgs =
    list(v.models as string | undefined, '--models') ?? config.models ?? manifest.models.map((m) => m.id);
  const local = loadLocalModels(modelArgs.filter(isLocalPath), new Set(zoo.map((m) => m.id)));
  let li = 0;
  const models = modelArgs.map((m) => (isLocalPath(m) ? local.models[li++]!.id : m));
  for (const dim of list(v['batch-dims'] as string | undefined, '--batch-dims') ?? []) {
    const having = local.models.filter((m) => m.inputs.some((i) => i.shape.includes(dim)) && m.batchDim !== dim);
    if (!having.length)
      throw new UsageError(
        `--batch-dims: none of your own models (given by path) has a symbolic dim '${dim}'${local.models.length ? `; their dims: ${local.models.map((m) => `${m.id}: ${sweepableDims(m).join(', ') || 'none'}`).join('; ')}` : ''}`,
      );
    for (const m of having) if (!m.batchFollowers.includes(dim)) m.batchFollowers.push(dim);
  }
  const all = [...zoo, ...local.models];
  const order = (v.order as string | undefined) ?? config.order ?? 'shuffle';
  if (order !== 'shuffle' && order !== 'matrix') throw new UsageError(`--order: '${order}' is not shuffle or matrix`);
  const valueOverrides = buildOverrides({ ...manifest, models: all }, models, (v.values as string[] | undefined) ?? []);
  const dimFlags = (v.dim as string[] | undefined) ?? [];
  for (const [model, inputs] of Object.entries(config.inputs ?? {})) {
    for (const [input, o] of Object.entries(inputs)) (valueOverrides[model] ??= {})[input] ??= { ...o };
  }
  const imagesDir = (v.images as string | undefined) ?? config.images;
  const own = imagesDir ? loadLocalImages(imagesDir) : null;
  for (const [path, file] of own?.files ?? []) local.files.set(path, file);
  const selected = models.map((id) => all.find((m) => m.id === id)).filter((m): m is ModelInfo => m !== undefined);
  const overrides = applyImages(selected, valueOverrides, own?.images ?? bundledImages(manifest), own !== null);
  const request: PlanRequest = {
    models,
    targets: list(v.targets as string | undefined, '--targets') ?? config.targets ?? DEFAULT_TARGETS,
    batches: ints(v.batch as string | undefined, '--batch') ?? config.batch ?? [1],
    threads: ints(v.threads as string | undefined, '--threads') ?? config.threads ?? [1],
    ortBuilds: list(v['ort-build'] as string | undefined, '--ort-build') ?? config.ortBuilds ?? ['recommended'],
    tfjsCores: ints(v['tfjs-cores'] as string | undefined, '--tfjs-cores')?.[0] ?? config.tfjsCores,
    sampling: samplingFrom(v, config.sampling),
    seed: int(v.seed as string | undefined, '--seed', config.seed ?? freshSeed()),
    inputSeed: int(v['input-seed'] as string | undefined, '--input-seed', config.inputSeed ?? 1),
    order: order === 'matrix' ? 'matrix' : 'seeded-shuffle',
    schedule: v.interleave || config.interleave ? 'interleaved' : 'sequential',
    liveCells: int(v['live-cells'] as string | undefined, '--live-cells', config.liveCells ?? 4),
    inputOverrides: overrides,
    dims: dimFlags.length ? parseDims(dimFlags) : (config.dims ?? {}),
    // The default matrix pairs each zoo model only with runtimes it has a format for.
    skipMissingFormats: v.models === undefined && config.models === undefined,
    native: Boolean(v.native ?? config.native),
  };
  // Validate the plan here, so a bad value is a usage error before any browser starts.
  buildPlan(request, all);

  const budgets = [...(config.budgets ?? []), ...((v.budget as string[] | undefined) ?? [])].map((b) =>
    typeof b === 'string' ? parseBudget(b) : BudgetRule.parse(b),
  );
  const baselineFile = (v.baseline as string | undefined) ?? config.baseline;
  const thresholdPct =
    v['baseline-threshold'] !== undefined
      ? Number(v['baseline-threshold'])
      : (config.baselineThreshold ?? DEFAULT_BASELINE_THRESHOLD * 100);
  if (!(thresholdPct >= 0 && thresholdPct < 100))
    throw new UsageError(`--baseline-threshold: '${String(v['baseline-threshold'])}' is not a percentage in 0..99`);
  const baseline = baselineFile
    ? { file: baselineFile, runs: parseResultFile(readJson(baselineFile, 'baseline')), threshold: thresholdPct / 100 }
    : null;

  const devices: (DeviceEndpoint | null)[] = [
    ...(config.devices ?? []),
    ...((v.connect as string[] | undefined) ?? []).map((c) => endpointArg(c, 'connect')),
    ...((v.cdp as string[] | undefined) ?? []).map((c) => endpointArg(c, 'cdp')),
  ];
  if ((v.native ?? config.native) && devices.length)
    throw new UsageError(
      '--native compares the browser with native ONNX Runtime on this machine; with --connect/--cdp the browser runs elsewhere, so there is no same-machine reference',
    );
  const names = devices.map((d) => d!.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new UsageError(`two devices are named '${dup}'; name them (--connect NAME=URL)`);
  const outDir = resolve(
    (v.out as string | undefined) ??
      config.out ??
      join('lab-results', `run-${new Date().toISOString().replace(/[:.]/g, '-')}`),
  );
  if (/\.json$/i.test(outDir))
    throw new UsageError(
      `--out takes a folder (it gets results.json, summary.csv, samples.csv, report.md, report.html), not '${outDir}'`,
    );
  return {
    request,
    extraModels: local.models,
    files: local.files,
    budgets,
    baseline,
    devices: devices.length ? devices : [null],
    outDir,
    firstVisit: firstVisitArgs(v, config, devices.length > 0),
  };
}

function firstVisitArgs(v: Flags, config: ParsedConfig, remote: boolean): Resolved['firstVisit'] {
  const text = (v['first-visit'] as string | undefined) ?? config.firstVisit?.join(',');
  const slowText = v['cpu-slowdown'] as string | undefined;
  const cpuSlowdown = slowText !== undefined ? Number(slowText) : (config.cpuSlowdown ?? null);
  if (cpuSlowdown !== null && !(cpuSlowdown >= 1 && cpuSlowdown <= 20))
    throw new UsageError(`--cpu-slowdown: '${slowText}' is not a factor in 1..20`);
  if (text === undefined) {
    if (cpuSlowdown !== null)
      throw new UsageError('--cpu-slowdown applies to first visits: add --first-visit PROFILES');
    return null;
  }
  if (remote)
    throw new UsageError(
      '--first-visit launches fresh local browsers (an empty cache each time); it does not run with --connect/--cdp',
    );
  try {
    return { profiles: parseProfiles(text), cpuSlowdown };
  } catch (e) {
    throw new UsageError(`--first-visit: ${(e as Error).message}`);
  }
}

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
  const baselineRows: BaselineRow[] | undefined = r.baseline
    ? compareWithBaseline(runs, r.baseline.runs, r.baseline.threshold)
    : undefined;
  const input = {
    runs,
    budgets,
    baseline:
      r.baseline && baselineRows
        ? { file: r.baseline.file, threshold: r.baseline.threshold, rows: baselineRows }
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
  else printSummary(runs, budgets, baselineRows, r.outDir);

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
  const regressions = baselineRows?.filter((b) => b.verdict === 'regression') ?? [];
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
    const rows = budgets.checks.map((c) => [
      c.rule,
      c.device ?? '',
      c.cellId,
      fmtMs(c.valueMs),
      fmtMs(c.limitMs),
      c.pass === null ? 'no data' : c.pass ? 'pass' : 'BREACH',
      c.note,
    ]);
    if (rows.length) console.log(textTable(['rule', 'device', 'cell', 'value ms', 'limit ms', 'result', 'note'], rows));
  }
  if (baseline) {
    const rows = baseline.map((b) => [
      b.device ?? '',
      b.cellId,
      fmtMs(b.baselineMedian),
      fmtMs(b.currentMedian),
      b.ratio === null ? '' : b.ratio.toFixed(3),
      b.ci95 ? `${b.ci95[0].toFixed(3)}-${b.ci95[1].toFixed(3)}` : '',
      b.verdict,
    ]);
    console.log('\nbaseline:');
    console.log(textTable(['device', 'cell', 'baseline ms', 'now ms', 'ratio', '95% CI', 'verdict'], rows));
  }
  console.log(`\nreports: ${outDir}/ (results.json, summary.csv, samples.csv, report.md, report.html)`);
}
