/**
 * `latency-lab serve` (offered-load sweep with dynamic batching and worker pools, capacity under a budget) and
 * `latency-lab monitor` (steady cadence for a long time, rolling windows, drift and memory), both run in the
 * browser through window.latencyLab and written like `run`: results.json plus CSV, Markdown and HTML reports.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { WEBNN_FLAGS } from './chromium.ts';
import { BatcherConfig } from '../lib/schema/serving.ts';
import { MONITOR_DEFAULTS as M, SERVING_DEFAULTS as S } from '../lib/plan/defaults.ts';
import { MonitorConfig, ServingConfig } from '../lib/serving/config.ts';
import { capacityLines, servingHtml, servingMarkdown, servingTable } from '../lib/serving/format.ts';
import { parseRunResult, type RunResult } from '../lib/schema.ts';
import { ints, list, num, UsageError } from './args.ts';
import { evaluateInLab } from './driver.ts';
import { EXIT, portArg } from './run-config.ts';
import { requestsCsv, servingCsv } from '../lib/serving/csv.ts';

const COMMON = {
  model: { type: 'string' },
  target: { type: 'string' },
  threads: { type: 'string' },
  out: { type: 'string' },
  dist: { type: 'string' },
  chromium: { type: 'string' },
  'software-gpu': { type: 'boolean' },
  connect: { type: 'string' },
  'serve-host': { type: 'string' },
  'public-url': { type: 'string' },
  port: { type: 'string' },
  quiet: { type: 'boolean' },
  json: { type: 'boolean' },
  webnn: { type: 'boolean' },
} as const;

function nums(text: string | undefined, label: string): number[] | undefined {
  return list(text, label)?.map((s) => {
    const n = Number(s);
    if (!Number.isFinite(n)) throw new UsageError(`${label}: '${s}' is not a number`);
    return n;
  });
}

/** A recorded trace: a JSON array of arrival times in ms, or one time per line. */
function readTrace(file: string): number[] {
  if (!existsSync(file)) throw new UsageError(`--trace: '${file}' does not exist`);
  const text = readFileSync(file, 'utf8').trim();
  const values = text.startsWith('[') ? (JSON.parse(text) as unknown[]) : text.split(/\s+/);
  return values.map((x, i) => {
    const n = Number(x);
    if (!Number.isFinite(n) || n < 0)
      throw new UsageError(`--trace: entry ${i + 1} ('${String(x)}') is not a time in ms >= 0`);
    return n;
  });
}

function write(outDir: string, result: RunResult): void {
  mkdirSync(outDir, { recursive: true });
  const r = result.serving!;
  const header = `${result.createdAt} · ${result.environment.browser.name} ${result.environment.browser.version} · ${result.environment.platform} · ${result.environment.hardwareConcurrency} cores · isolated: ${result.environment.crossOriginIsolated}`;
  writeFileSync(join(outDir, 'results.json'), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(join(outDir, 'serving.csv'), servingCsv(r));
  writeFileSync(join(outDir, 'requests.csv'), requestsCsv(r));
  writeFileSync(join(outDir, 'report.md'), `# Serving report\n\n${header}\n\n${servingMarkdown(r)}`);
  writeFileSync(join(outDir, 'report.html'), servingHtml(r, header));
}

/** Checked with the same schema the page uses, so a bad value is a usage error before a browser starts. */
function check<T>(
  schema: {
    safeParse(
      x: unknown,
    ): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
  },
  config: unknown,
): void {
  const r = schema.safeParse(config);
  if (!r.success) throw new UsageError(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
}

async function inBrowser(
  v: Record<string, string | boolean | undefined>,
  ctx: { projectRoot: string },
  call: string,
): Promise<RunResult> {
  const distDir = resolve((v.dist as string | undefined) ?? join(ctx.projectRoot, 'dist'));
  const log = (t: string) => {
    if (!v.quiet) process.stderr.write(`${t}\n`);
  };
  const { value, offOrigin } = await evaluateInLab(
    {
      distDir,
      chromium: v.chromium as string | undefined,
      softwareGpu: v['software-gpu'] as boolean | undefined,
      // As `run --webnn`: WebNN on in the browser launched here, and the cell worker's script allowed to eval.
      extraFlags: v.webnn && !v.connect ? WEBNN_FLAGS : undefined,
      webnn: Boolean(v.webnn),
      remote: v.connect ? { connect: v.connect as string } : undefined,
      serveHost: v['serve-host'] as string | undefined,
      publicUrl: v['public-url'] as string | undefined,
      port: portArg(v.port as string | undefined),
    },
    call.replace('ON_STATUS', `(t) => window.__labOnStatus(t)`),
    log,
  );
  if (offOrigin.length) throw new Error(`blocked request(s) to another origin: ${offOrigin.join(', ')}`);
  return parseRunResult(value);
}

const SERVE_OPTIONS = {
  ...COMMON,
  rates: { type: 'string' },
  duration: { type: 'string' },
  'max-batch': { type: 'string' },
  'max-wait': { type: 'string' },
  workers: { type: 'string' },
  'queue-limit': { type: 'string' },
  'drop-policy': { type: 'string' },
  budget: { type: 'string' },
  percentile: { type: 'string' },
  seed: { type: 'string' },
  probes: { type: 'string' },
  trace: { type: 'string' },
} as const;

type ServeFlags = ReturnType<
  typeof parseArgs<{ args: string[]; strict: true; options: typeof SERVE_OPTIONS }>
>['values'];

export async function cmdServe(argv: string[], ctx: { projectRoot: string }): Promise<number> {
  const { values: v } = parseArgs({ args: argv, strict: true, options: SERVE_OPTIONS });
  const config = serveConfig(v);
  check(ServingConfig, config);
  const result = await inBrowser(
    v,
    ctx,
    `window.latencyLab.serve(${JSON.stringify(config)}, { source: 'cli', onStatus: ON_STATUS })`,
  );
  const outDir = resolve(v.out ?? join('lab-results', `serve-${result.createdAt.replace(/[:.]/g, '-')}`));
  write(outDir, result);
  if (v.json) process.stdout.write(JSON.stringify(result) + '\n');
  else {
    console.log(`\n${servingTable(result.serving!)}\n`);
    for (const l of capacityLines(result.serving!)) console.log(l);
    console.log(`\nreports: ${outDir}/ (results.json, serving.csv, requests.csv, report.md, report.html)`);
  }
  return EXIT.ok;
}

/** The sweep's settings from the flags, with the defaults; each batcher checked (errors name the range). */
function serveConfig(v: ServeFlags) {
  const maxBatches = ints(v['max-batch'], '--max-batch') ?? [...S.maxBatches];
  const maxWait = num(v['max-wait'], '--max-wait') ?? S.maxWaitMs;
  const batchers = maxBatches.map((maxBatch) => {
    const parsed = BatcherConfig.safeParse({
      maxBatch,
      maxWaitMs: maxBatch === 1 ? 0 : maxWait,
      queueLimit: num(v['queue-limit'], '--queue-limit') ?? null,
      dropPolicy: v['drop-policy'], // the schema's default when not given
    });
    if (!parsed.success)
      throw new UsageError(
        `batcher: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    return parsed.data;
  });
  return {
    model: v.model ?? S.model,
    target: v.target ?? S.target,
    threads: num(v.threads, '--threads') ?? S.threads,
    rates: nums(v.rates, '--rates') ?? [...S.rates],
    durationS: num(v.duration, '--duration') ?? S.durationS,
    batchers,
    workers: ints(v.workers, '--workers') ?? [...S.workers],
    seed: num(v.seed, '--seed') ?? S.seed,
    budgetMs: num(v.budget, '--budget') ?? null,
    percentile: (v.percentile ?? S.percentile) as 'p99' | 'p95',
    capacityProbes: num(v.probes, '--probes') ?? S.capacityProbes,
    trace: v.trace ? readTrace(v.trace) : null,
  };
}

export async function cmdMonitor(argv: string[], ctx: { projectRoot: string }): Promise<number> {
  const { values: v } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ...COMMON,
      batch: { type: 'string' },
      cadence: { type: 'string' },
      minutes: { type: 'string' },
      window: { type: 'string' },
      threshold: { type: 'string' },
    },
  });
  const config = {
    model: v.model ?? S.model,
    target: v.target ?? S.target,
    threads: num(v.threads, '--threads') ?? S.threads,
    batch: num(v.batch, '--batch') ?? M.batch,
    cadenceMs: num(v.cadence, '--cadence') ?? M.cadenceMs,
    durationS: (num(v.minutes, '--minutes') ?? M.minutes) * 60,
    windowS: num(v.window, '--window') ?? M.windowS,
    threshold: (num(v.threshold, '--threshold') ?? M.threshold * 100) / 100,
  };
  check(MonitorConfig, config);
  const result = await inBrowser(
    v,
    ctx,
    `window.latencyLab.monitor(${JSON.stringify(config)}, { source: 'cli', onStatus: ON_STATUS })`,
  );
  const outDir = resolve(v.out ?? join('lab-results', `monitor-${result.createdAt.replace(/[:.]/g, '-')}`));
  write(outDir, result);
  const m = result.serving!.monitor!;
  if (v.json) process.stdout.write(JSON.stringify(result) + '\n');
  else {
    console.log(servingMarkdown(result.serving!));
    console.log(`reports: ${outDir}/`);
  }
  return m.flags.length ? EXIT.budget : EXIT.ok;
}
