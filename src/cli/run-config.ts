/**
 * `latency-lab run`'s settings: its flags, and flags over config file over defaults resolved into one plan request
 * with budgets, baseline, devices and first visits; everything that can be checked before a browser starts is
 * checked here (usage errors, exit 2).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_BASELINE_THRESHOLD } from '../lib/report/baseline.ts';
import { DEFAULT_RUN_TARGETS } from '../lib/plan/defaults.ts';
import { BudgetRule, parseBudget } from '../lib/plan/budget.ts';
import { withBuiltInModels } from '../lib/measure/calibration.ts';
import { type DeviceEndpoint, type ParsedConfig } from '../lib/plan/config.ts';
import { bundledImages, type Manifest, type ModelInfo } from '../lib/models/manifest.ts';
import { buildPlan, freshSeed, type PlanRequest } from '../lib/plan/plan.ts';
import { parseResultFile, type RunResult } from '../lib/schema.ts';
import { applyImages, loadLocalImages } from './local-images.ts';
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
import { isLocalPath, loadLocalModels } from './local-models.ts';
import { parseProfiles, type NetworkProfileName } from '../lib/schema/first-visit.ts';
import { sweepableDims } from '../lib/models/dims.ts';
import { errorLine, errorMessage } from '../lib/errors.ts';
import type { VariantFiles } from '../lib/models/variants/variant-file.ts';

export const EXIT = { ok: 0, budget: 1, usage: 2, run: 3 } as const;

export const RUN_OPTIONS = {
  config: { type: 'string' },
  models: { type: 'string' },
  targets: { type: 'string' },
  batch: { type: 'string' },
  threads: { type: 'string' },
  'ort-build': { type: 'string' },
  variants: { type: 'string' },
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
  invocations: { type: 'string' },
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
  webnn: { type: 'boolean' },
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

export function readJson(file: string, what: string): unknown {
  if (!existsSync(file)) throw new UsageError(`${what} '${file}' does not exist`);
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${what} '${file}' is not JSON: ${errorMessage(e)}`);
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
    throw new UsageError(
      `--out '${dir}' can't be written (${errorLine(e)}); results would be lost, so nothing was run`,
    );
  }
}

export interface Resolved {
  request: PlanRequest;
  extraModels: ModelInfo[];
  files: Map<string, string>;
  /** Variant files made in Node (run.ts fills this in once the build's folder is known). */
  variantFiles?: VariantFiles;
  budgets: BudgetRule[];
  baseline: { file: string; runs: RunResult[]; threshold: number } | null;
  devices: (DeviceEndpoint | null)[];
  outDir: string;
  /** Network profiles for first visits ('none' first), or null when not asked for. */
  firstVisit: { profiles: NetworkProfileName[]; cpuSlowdown: number | null } | null;
}

/** Flags over config over defaults; local model paths read and checked; budgets and baseline loaded. */
export function resolveRun(v: Flags, config: ParsedConfig, manifest: Manifest): Resolved {
  const { models, local, all } = resolveModels(v, config, manifest);
  const request = resolveRequest(v, config, manifest, { models, local, all });
  // Validate the plan here, so a bad value is a usage error before any browser starts.
  buildPlan(request, all);
  const devices = resolveDevices(v, config);
  return {
    request,
    extraModels: local.models,
    files: local.files,
    ...resolveVerdicts(v, config),
    devices: devices.length ? devices : [null],
    outDir: resolveOut(v, config),
    firstVisit: firstVisitArgs(v, config, devices.length > 0),
  };
}

type LocalModels = ReturnType<typeof loadLocalModels>;

/** The model ids to run: zoo ids as given, local paths read (and their batch-following dims marked). */
function resolveModels(
  v: Flags,
  config: ParsedConfig,
  manifest: Manifest,
): { models: string[]; local: LocalModels; all: ModelInfo[] } {
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
  return { models, local, all: [...zoo, ...local.models] };
}

/** The plan request: the matrix, sampling, order, inputs (values, pictures, dims). */
function resolveRequest(
  v: Flags,
  config: ParsedConfig,
  manifest: Manifest,
  m: { models: string[]; local: LocalModels; all: ModelInfo[] },
): PlanRequest {
  const { models, local, all } = m;
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
  const selected = models.map((id) => all.find((x) => x.id === id)).filter((x): x is ModelInfo => x !== undefined);
  const overrides = applyImages(selected, valueOverrides, own?.images ?? bundledImages(manifest), own !== null);
  return {
    models,
    targets: list(v.targets as string | undefined, '--targets') ?? config.targets ?? [...DEFAULT_RUN_TARGETS],
    batches: ints(v.batch as string | undefined, '--batch') ?? config.batch ?? [1],
    threads: ints(v.threads as string | undefined, '--threads') ?? config.threads ?? [1],
    ortBuilds: list(v['ort-build'] as string | undefined, '--ort-build') ?? config.ortBuilds ?? ['recommended'],
    variants: list(v.variants as string | undefined, '--variants') ?? config.variants ?? ['fp32'],
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
}

/** Budgets (config and flags) and the baseline file with its threshold. */
function resolveVerdicts(v: Flags, config: ParsedConfig): Pick<Resolved, 'budgets' | 'baseline'> {
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
  return { budgets, baseline };
}

/** Remote devices (config, --connect, --cdp), each with its own name; none with --native. */
function resolveDevices(v: Flags, config: ParsedConfig): DeviceEndpoint[] {
  const devices: DeviceEndpoint[] = [
    ...(config.devices ?? []),
    ...((v.connect as string[] | undefined) ?? []).map((c) => endpointArg(c, 'connect')),
    ...((v.cdp as string[] | undefined) ?? []).map((c) => endpointArg(c, 'cdp')),
  ];
  if ((v.native ?? config.native) && devices.length)
    throw new UsageError(
      '--native compares the browser with native ONNX Runtime on this machine; with --connect/--cdp the browser runs elsewhere, so there is no same-machine reference',
    );
  const names = devices.map((d) => d.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new UsageError(`two devices are named '${dup}'; name them (--connect NAME=URL)`);
  return devices;
}

/** The output folder (a new dated one by default); a .json path is refused, since reports go beside it. */
function resolveOut(v: Flags, config: ParsedConfig): string {
  const outDir = resolve(
    (v.out as string | undefined) ??
      config.out ??
      join('lab-results', `run-${new Date().toISOString().replace(/[:.]/g, '-')}`),
  );
  if (/\.json$/i.test(outDir))
    throw new UsageError(
      `--out takes a folder (it gets results.json, summary.csv, samples.csv, report.md, report.html), not '${outDir}'`,
    );
  return outDir;
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
    throw new UsageError(`--first-visit: ${errorMessage(e)}`);
  }
}
