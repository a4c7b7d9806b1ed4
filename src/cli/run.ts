/**
 * `latency-lab run`: config file and flags -> plan -> one or more browsers (local, or remote devices in parallel)
 * -> results.json and reports in the output folder -> budgets and baseline -> exit code.
 * Everything that can be checked before a browser starts is checked first (usage errors, exit 2).
 */
import { makeVariantFiles, saveVariantFiles, variantsDir } from './variant-files.ts';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compareWithBaseline, type BaselineRow } from '../lib/report/baseline.ts';
import { checkBudgets, type BudgetOutcome } from '../lib/plan/budget.ts';
import { parseConfig, type ParsedConfig } from '../lib/plan/config.ts';
import { cellReason } from '../lib/schema/cell-result.ts';
import { parseManifest, type Manifest } from '../lib/models/manifest.ts';
import { shipVerdicts } from '../lib/report/verdict-ship.ts';
import { okCells, type RunResult } from '../lib/schema.ts';
import { UsageError, type Flags } from './args.ts';
import { checkDist, runInBrowser } from './driver.ts';
import { WEBNN_FLAGS } from './chromium.ts';
import { ProgressPrinter } from './progress.ts';
import { NativeHost } from './native/host.ts';
import { type FirstVisits } from '../lib/schema/first-visit.ts';
import { measureFirstVisits } from './first-visit.ts';
import { checkWritable, EXIT, portArg, readJson, resolveRun, RUN_OPTIONS, type Resolved } from './run-config.ts';

import { printSummary } from './run-print.ts';
import { writeReports } from './reports.ts';
import type { ReportInput } from '../lib/report/report-rows.ts';
import { errorMessage } from '../lib/errors.ts';

/** What every CLI command is handed by main.ts. */
export interface CommandContext {
  projectRoot: string;
}

const parseRunArgs = (argv: string[]) =>
  parseArgs({ args: argv, strict: true, allowPositionals: false, options: RUN_OPTIONS });
type RunFlags = ReturnType<typeof parseRunArgs>['values'];
type Settled = PromiseSettledResult<Awaited<ReturnType<typeof runInBrowser>>>[];

export async function cmdRun(argv: string[], ctx: CommandContext): Promise<number> {
  const { values: v } = parseRunArgs(argv);
  const config = v.config ? parseConfig(readJson(v.config, 'config file'), v.config) : {};
  const distDir = resolve(v.dist ?? join(ctx.projectRoot, 'dist'));
  try {
    checkDist(distDir);
  } catch (e) {
    console.error(`latency-lab: ${errorMessage(e)}`);
    return EXIT.run;
  }
  const manifest = parseManifest(JSON.parse(readFileSync(join(distDir, 'models', 'manifest.json'), 'utf8')));
  const r = resolveRun(v, config, manifest);
  checkWritable(r.outDir);
  // Variant files are made once, here, before any browser starts (never inside a cell's clock).
  r.variantFiles = makeVariantFiles(r.request, [...manifest.models, ...r.extraModels], distDir, r.files);
  const native = await nativeHost(r);
  const settled = await runDevices(r, v, config, distDir, native);
  await native?.closeAll();
  const local = settled[0];
  if (r.firstVisit && local?.status === 'fulfilled') {
    const run = local.value.result;
    local.value.result = { ...run, firstVisits: await firstVisitsOf(run, r, distDir, ctx, v, config.browser ?? {}) };
  }
  const { runs, deviceErrors, offOrigin } = collect(settled, r);
  if (runs.length === 0) return EXIT.run;
  const input = judge(runs, r, manifest);
  // One device: the result file itself; several: an array of them, one per device (both load back with the schema).
  writeReports(r.outDir, runs.length === 1 && r.devices[0] === null ? runs[0] : runs, input);
  // The variant files outlive the run here (their temporary folder goes at exit): a verdict may pick one to ship.
  const saved = saveVariantFiles(r.outDir, r.variantFiles ?? {}, r.files);
  if (v.json) process.stdout.write(JSON.stringify(runs.length === 1 ? runs[0] : runs) + '\n');
  else printSummary(runs, input.budgets, input.baseline?.rows, r.outDir, input.shipped);
  if (saved.length && !v.json) console.log(`variant files: ${variantsDir(r.outDir)}/ (${saved.length}, to ship)`);
  return exitCode(runs, input, {
    deviceErrors,
    offOrigin,
    allowUnsupported: Boolean(v['allow-unsupported'] ?? config.allowUnsupported),
    baselineFile: r.baseline?.file,
  });
}

/** onnxruntime-node is optional: a missing or unloadable one is a usage error before any browser starts. */
async function nativeHost(r: Resolved): Promise<NativeHost | undefined> {
  if (!r.request.native) return undefined;
  try {
    await NativeHost.check();
  } catch (e) {
    throw new UsageError(`--native: ${errorMessage(e)}`);
  }
  return new NativeHost();
}

/** The plan on every device at once (the local browser, or each remote one), with progress on stderr. */
async function runDevices(
  r: Resolved,
  v: RunFlags,
  config: ParsedConfig,
  distDir: string,
  native: NativeHost | undefined,
): Promise<Settled> {
  const browserCfg = config.browser ?? {};
  const progress = new ProgressPrinter(Boolean(v.quiet), process.stderr);
  const port = portArg(v.port);
  const settled = await Promise.allSettled(
    r.devices.map((device, i) => {
      const name = device?.name ?? null;
      return runInBrowser({
        distDir,
        // A fixed port for firewalled grids; several devices run side by side on port, port + 1, ...
        port: port === undefined ? undefined : port + i,
        request: r.request,
        extraModels: r.extraModels,
        files: r.files,
        variantFiles: r.variantFiles,
        remote: device ?? undefined,
        serveHost: v['serve-host'],
        publicUrl: v['public-url'],
        chromium: v.chromium ?? browserCfg.chromium,
        headless: !(v.headed ?? browserCfg.headed),
        softwareGpu: v['software-gpu'] ?? browserCfg.softwareGpu,
        extraFlags: [...(browserCfg.args ?? []), ...(v['browser-arg'] ?? []), ...(v.webnn ? WEBNN_FLAGS : [])],
        webnn: Boolean(v.webnn),
        onPlan: (plan) => progress.plan(name, plan),
        onCellStart: (k, n, id) => progress.cellStart(name, k, n, id),
        onCellEvent: (k, e) => progress.cellEvent(name, k, e),
        onCellDone: (k, res) => progress.cellDone(name, k, res),
        native,
      }).then((d) => ({ ...d, result: { ...d.result, device: name } }));
    }),
  );
  progress.finish();
  return settled;
}

/** The runs that came back; a device that failed is named; cells lost with a browser are counted. */
function collect(settled: Settled, r: Resolved): { runs: RunResult[]; deviceErrors: string[]; offOrigin: string[] } {
  const runs: RunResult[] = [];
  const deviceErrors: string[] = [];
  const offOrigin: string[] = [];
  settled.forEach((s, i) => {
    const name = r.devices[i]?.name ?? 'local';
    if (s.status === 'rejected') {
      deviceErrors.push(`${name}: ${(s.reason as Error)?.message ?? String(s.reason)}`);
      return;
    }
    runs.push(s.value.result);
    offOrigin.push(...s.value.offOrigin);
    if (!s.value.lost) return;
    const lost = s.value.result.cells.filter((c) => c.status === 'aborted' && c.reason.startsWith('lost:'));
    console.error(
      `latency-lab: ${name}: ${s.value.lost}; ${lost.length} cell(s) lost (${lost.map((c) => c.cell.id).join(', ')}); the ${s.value.result.cells.length - lost.length} finished are kept`,
    );
  });
  for (const e of deviceErrors) console.error(`latency-lab: device ${e}`);
  return { runs, deviceErrors, offOrigin };
}

/** Budgets and the baseline, applied to the runs. */
function judge(runs: RunResult[], r: Resolved, manifest: Manifest): ReportInput {
  const budgets: BudgetOutcome | undefined = r.budgets.length ? checkBudgets(r.budgets, runs) : undefined;
  const rows: BaselineRow[] | undefined = r.baseline
    ? compareWithBaseline(runs, r.baseline.runs, r.baseline.threshold)
    : undefined;
  const baseline = r.baseline && rows ? { file: r.baseline.file, threshold: r.baseline.threshold, rows } : undefined;
  // What to ship: the budgets' rules, and the manifest for model sizes and paths.
  // A variant pick's code names the file the run keeps in <out>/variants/ (saveVariantFiles).
  const variantSource = (name: string) => join(variantsDir(r.outDir), name);
  const shipped = shipVerdicts(runs, { rules: r.budgets, manifest, variantSource });
  return { runs, budgets, baseline, shipped };
}

/** The exit code: requests off the origin, cells that did not run and lost devices (3), then budgets/baseline (1). */
function exitCode(
  runs: RunResult[],
  input: ReportInput,
  o: { deviceErrors: string[]; offOrigin: string[]; allowUnsupported: boolean; baselineFile?: string },
): number {
  if (o.offOrigin.length) {
    console.error(
      `latency-lab: blocked ${o.offOrigin.length} request(s) to another origin: ${o.offOrigin.slice(0, 5).join(', ')}`,
    );
    return EXIT.run;
  }
  const bad = runs.flatMap((run) =>
    run.cells
      .filter((c) => c.status !== 'ok' && !(c.status === 'unsupported' && o.allowUnsupported))
      .map((c) => ({ run, c })),
  );
  for (const { run, c } of bad)
    console.error(`latency-lab: ${run.device ? `${run.device}: ` : ''}${c.cell.id} ${c.status}: ${cellReason(c)}`);
  const { budgets } = input;
  for (const u of budgets?.unmatched ?? [])
    console.error(`latency-lab: warning: budget '${u}' names no cell of this run`);
  if (bad.length || o.deviceErrors.length) return EXIT.run;
  const regressions = input.baseline?.rows.filter((b) => b.verdict === 'regression') ?? [];
  if (budgets?.breaches.length || regressions.length) {
    if (budgets?.breaches.length) console.error(`latency-lab: ${budgets.breaches.length} budget breach(es)`);
    if (regressions.length) console.error(`latency-lab: ${regressions.length} regression(s) against ${o.baselineFile}`);
    return EXIT.budget;
  }
  return EXIT.ok;
}

/** First visits of the run's cells that ran ok in the browser (the others' reasons are in the main table). */
async function firstVisitsOf(
  run: RunResult,
  r: Resolved,
  distDir: string,
  ctx: CommandContext,
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
    variantFiles: r.variantFiles,
    files: r.files,
    chromium: (v.chromium as string | undefined) ?? browserCfg.chromium,
    softwareGpu: (v['software-gpu'] as boolean | undefined) ?? browserCfg.softwareGpu,
    extraFlags: [
      ...(browserCfg.args ?? []),
      ...((v['browser-arg'] as string[] | undefined) ?? []),
      ...(v.webnn ? WEBNN_FLAGS : []),
    ],
    webnn: Boolean(v.webnn),
    onStatus: (text) => !quiet && process.stderr.write(`${text}\n`),
  });
}
