/**
 * Plans: the matrix a person asks for (models x runtime:backend targets x batch sizes x threads) turned into an
 * ordered list of cells. Validation here gives errors that name the bad value and the valid ones.
 */
import { BACKENDS, RUNTIMES, SamplingSettings, describeIssues } from './schema.ts';
import { allTargets, RUNTIME_BACKENDS } from './targets.ts';
import type { BackendId, Cell, InputOverride, ModelFormat, Plan, RuntimeId, SamplingInput } from './schema.ts';
import { batchDimsOf, type ModelInfo } from './manifest.ts';
import { seededShuffle } from './rng.ts';
import {
  buildsFor,
  isOrtBuild,
  ORT_BUILD_CHOICES,
  ORT_BUILD_INFO,
  ORT_BUILDS,
  ortBuildLacks,
  RECOMMENDED_ORT_BUILD,
  type OrtBuild,
} from './builds.ts';

export { allTargets, RUNTIME_BACKENDS };

/** The native reference target: onnxruntime-node on this machine's CPU, run by the CLI (`--native`). */
export const NATIVE_TARGET = 'ort-node:cpu';

/** Backends that run on the CPU: cells on them are parity references. Ordered by preference. */
export const CPU_TARGETS: readonly Target[] = [
  { runtime: 'ort', backend: 'wasm' },
  { runtime: 'tfjs', backend: 'cpu' },
  { runtime: 'tfjs', backend: 'wasm' },
];

/** The formats a runtime can load, in order of preference. */
export const RUNTIME_FORMATS: Record<RuntimeId, readonly ModelFormat[]> = {
  ort: ['onnx'],
  tfjs: ['tfjs-layers', 'tfjs-graph'],
  calib: ['calibration'],
  'ort-node': ['onnx'],
};

export interface Target {
  runtime: RuntimeId;
  backend: BackendId;
  /** ORT only: the build, when the target names one (`ort:wasm@default`). */
  build?: OrtBuild;
}

export class PlanError extends Error {
  override name = 'PlanError';
}

/**
 * `runtime:backend`, optionally with a build: `ort:wasm@default`. The build must be one that runs the backend.
 */
export function parseTarget(text: string): Target {
  const [pair = '', build, moreAt] = text.trim().split('@');
  if (moreAt !== undefined) throw new PlanError(`'${text}' has more than one @build`);
  const t = parsePair(pair, text);
  if (build === undefined) return t;
  if (t.runtime !== 'ort') throw new PlanError(`'${text}': only ort has builds (${ORT_BUILDS.join(', ')})`);
  if (!isOrtBuild(build))
    throw new PlanError(`unknown ORT build '${build}' in '${text}'; valid: ${ORT_BUILDS.join(', ')}`);
  const lacks = ortBuildLacks(build, t.backend);
  if (lacks) throw new PlanError(lacks);
  return { ...t, build };
}

function parsePair(pair: string, text: string): Target {
  const [runtime, backend, extra] = pair.split(':');
  if (extra !== undefined || !runtime || !backend) {
    throw new PlanError(`'${text}' is not runtime:backend; valid: ${allTargets().join(', ')}`);
  }
  if (!(RUNTIMES as readonly string[]).includes(runtime)) {
    throw new PlanError(`unknown runtime '${runtime}' in '${text}'; valid runtimes: ${RUNTIMES.join(', ')}`);
  }
  const r = runtime as RuntimeId;
  if (!(BACKENDS as readonly string[]).includes(backend) || !RUNTIME_BACKENDS[r].includes(backend as BackendId)) {
    throw new PlanError(`runtime '${r}' has no backend '${backend}'; valid: ${RUNTIME_BACKENDS[r].join(', ')}`);
  }
  return { runtime: r, backend: backend as BackendId };
}

export function targetKey(t: Target): string {
  return `${t.runtime}:${t.backend}${t.build ? `@${t.build}` : ''}`;
}

/** `model/runtime:backend[@build]/bN/tN`, then `/name=value` per swept dim, by name (`text-encoder/.../t1/seq=64`). */
export function cellId(
  modelId: string,
  t: Target,
  batch: number,
  threads: number,
  dims: Readonly<Record<string, number>> = {},
): string {
  const swept = Object.keys(dims)
    .sort()
    .map((d) => `/${d}=${dims[d]}`)
    .join('');
  return `${modelId}/${targetKey(t)}/b${batch}/t${threads}${swept}`;
}

/** Every combination of the swept dims' values (one empty combination when nothing is swept). */
export function dimCombinations(sweeps: Readonly<Record<string, readonly number[]>>): Record<string, number>[] {
  let out: Record<string, number>[] = [{}];
  for (const [name, values] of Object.entries(sweeps))
    out = out.flatMap((combo) => values.map((v) => ({ ...combo, [name]: v })));
  return out;
}

/** The symbolic dims of a model a cell can set: every named dim of its inputs except those the batch size fills. */
export function sweepableDims(model: ModelInfo): string[] {
  const names = new Set<string>();
  for (const input of model.inputs)
    for (const d of input.shape) if (typeof d === 'string' && !batchDimsOf(model).includes(d)) names.add(d);
  return [...names];
}

/**
 * The model's symbolic dims (other than the batch dim) that nothing gives a value: not the request's dims, not a
 * per-input override, not the model's defaults. Such a model can't run; every one is named at once.
 */
export function missingDims(
  model: ModelInfo,
  dims: Readonly<Record<string, readonly number[]>>,
  overrides: Readonly<Record<string, InputOverride>> = {},
): string[] {
  const missing = new Set<string>();
  for (const input of model.inputs) {
    for (const d of input.shape) {
      if (typeof d !== 'string' || batchDimsOf(model).includes(d)) continue;
      if (dims[d]?.length || model.dimDefaults[d] !== undefined || overrides[input.name]?.dims?.[d] !== undefined)
        continue;
      missing.add(d);
    }
  }
  return [...missing];
}

/** A cell's input overrides: the request's per-input ones, with the cell's swept dim values on the inputs that have them. */
function withDims(
  model: ModelInfo | undefined,
  base: Record<string, InputOverride>,
  dims: Record<string, number>,
): Record<string, InputOverride> {
  if (!model || Object.keys(dims).length === 0) return base;
  const out: Record<string, InputOverride> = { ...base };
  for (const input of model.inputs) {
    const mine = Object.fromEntries(Object.entries(dims).filter(([d]) => input.shape.includes(d)));
    if (Object.keys(mine).length) out[input.name] = { ...out[input.name], dims: { ...out[input.name]?.dims, ...mine } };
  }
  return out;
}

/**
 * The builds an ORT target runs with: its own @build, else each of `choices` that has its backend (`recommended`
 * stands for the recommended one). Empty when none of the chosen builds has the backend.
 */
export function buildsOf(t: Target, choices: readonly string[] = ['recommended']): (OrtBuild | undefined)[] {
  if (t.runtime !== 'ort') return [undefined];
  if (t.build) return [t.build];
  const out = new Set<OrtBuild>();
  for (const c of choices) {
    if (c === 'recommended') out.add(RECOMMENDED_ORT_BUILD[t.backend as keyof typeof RECOMMENDED_ORT_BUILD]);
    else if (isOrtBuild(c) && ORT_BUILD_INFO[c].backends.includes(t.backend)) out.add(c);
  }
  return [...out];
}

/** What a person asks for; `buildPlan` checks it and fills in the cells. */
export interface PlanRequest {
  models: string[];
  targets: string[];
  batches: number[];
  /** Thread counts for wasm backends; other backends run once with 1. */
  threads?: number[];
  /**
   * ORT builds to run each ORT target with (a matrix dimension): build names, or `recommended` (the default) for
   * the one ORT's docs recommend per backend. A target's own @build overrides it; builds without the backend are
   * skipped.
   */
  ortBuilds?: string[];
  /** tfjs wasm cells: the core count the worker reports to tfjs (it runs threads up to half of it); recorded per cell. */
  tfjsCores?: number;
  sampling: SamplingInput;
  /** Orders the cells (and interleaved rounds); recorded in the plan so the same seed gives the same order. */
  seed?: number;
  /** Default: seeded-shuffle. */
  order?: Plan['order'];
  schedule?: Plan['schedule'];
  liveCells?: number;
  /** Seed of the synthesized input values (default 1, so runs on different days see the same inputs). */
  inputSeed?: number;
  /** Per model id, per input name. */
  inputOverrides?: Record<string, Record<string, InputOverride>>;
  /**
   * Symbolic dims as sweep dimensions: values per dim name (`{seq: [16, 64, 256]}`), for every model that has a dim
   * of that name (not its batch dim); one cell per combination, the values in the cell's `dims` and id.
   */
  dims?: Record<string, number[]>;
  /** How to tell a person to give missing dims, where they read it (page: the dims editor; CLI: --dim). */
  dimHint?: (missing: readonly string[]) => string;
  /**
   * Leave out pairs where a known model has no format for the runtime (e.g. an ONNX-only model on tfjs).
   * Off by default: an explicit request for such a pair gets an `unsupported` cell that says why.
   */
  skipMissingFormats?: boolean;
  /**
   * Native reference cells: for every model with an ONNX file, one `ort-node:cpu` cell per batch x threads x dims,
   * grouped with the browser cells of the same model/batch/threads/dims so they take turns in one interleaved group.
   * Models without ONNX are listed in the plan's `nativeSkipped` with the reason.
   */
  native?: boolean;
}

/** Cells that run the same work (model, batch, threads, swept dims): a browser cell and its native reference. */
export function workKey(cell: Pick<Cell, 'modelId' | 'batch' | 'threads' | 'dims'>): string {
  const dims = Object.keys(cell.dims)
    .sort()
    .map((d) => `${d}=${cell.dims[d]}`)
    .join(',');
  return `${cell.modelId}/b${cell.batch}/t${cell.threads}/${dims}`;
}

export const DEFAULT_SAMPLING: SamplingSettings = SamplingSettings.parse({});

/** A fresh seed for a run that names none (recorded in the plan, so the run can be replayed). */
export function freshSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

function checkPositiveInts(label: string, values: readonly number[], max: number): void {
  if (values.length === 0) throw new PlanError(`${label}: give at least one value`);
  for (const v of values) {
    if (!Number.isInteger(v) || v < 1 || v > max)
      throw new PlanError(`${label}: ${v} is not a whole number in 1..${max}`);
  }
}

export function pickFormat(model: ModelInfo | undefined, runtime: RuntimeId): ModelFormat | null {
  if (!model) return null;
  return RUNTIME_FORMATS[runtime].find((f) => model.formats.some((m) => m.format === f)) ?? null;
}

/**
 * Builds the plan. Unknown model ids are kept as cells (they end as failed with the reason) so that one bad
 * name doesn't stop the rest; malformed settings throw before anything runs.
 */
export function buildPlan(request: PlanRequest, models: readonly ModelInfo[]): Plan {
  if (request.models.length === 0) throw new PlanError('models: give at least one model id');
  if (request.targets.length === 0) throw new PlanError(`targets: give at least one of ${allTargets().join(', ')}`);
  const asked = request.targets.map(parseTarget);
  const targets =
    request.native && !asked.some((t) => t.runtime === 'ort-node') ? [...asked, parseTarget(NATIVE_TARGET)] : asked;
  const nativeSkipped: Plan['nativeSkipped'] = [];
  const ortBuilds = request.ortBuilds ?? ['recommended'];
  if (request.tfjsCores !== undefined) checkPositiveInts('tfjs cores', [request.tfjsCores], 1024);
  if (ortBuilds.length === 0) throw new PlanError(`ORT builds: give at least one of ${ORT_BUILD_CHOICES.join(', ')}`);
  for (const b of ortBuilds)
    if (!(ORT_BUILD_CHOICES as readonly string[]).includes(b))
      throw new PlanError(`unknown ORT build '${b}'; valid: ${ORT_BUILD_CHOICES.join(', ')}`);
  for (const t of targets) {
    if (buildsOf(t, ortBuilds).length === 0)
      throw new PlanError(
        `${targetKey(t)}: none of the ORT builds ${ortBuilds.join(', ')} has the ${t.backend} backend; builds with it: ${buildsFor(t.backend).join(', ')}`,
      );
  }
  checkPositiveInts('batch sizes', request.batches, 4096);
  const threads = request.threads ?? [1];
  checkPositiveInts('threads', threads, 256);
  const sampling = SamplingSettings.safeParse(request.sampling);
  if (!sampling.success) throw new PlanError(`sampling settings: ${describeIssues(sampling.error).join('; ')}`);
  const seed = request.seed ?? 1;
  if (!Number.isInteger(seed)) throw new PlanError(`seed: ${seed} is not an integer`);
  const inputSeed = request.inputSeed ?? 1;
  if (!Number.isInteger(inputSeed)) throw new PlanError(`input seed: ${inputSeed} is not an integer`);
  const liveCells = request.liveCells ?? 4;
  if (!Number.isInteger(liveCells) || liveCells < 2 || liveCells > 32)
    throw new PlanError(`live cells: ${liveCells} is not a whole number in 2..32`);

  const sweeps = request.dims ?? {};
  for (const [name, values] of Object.entries(sweeps)) checkPositiveInts(`dim ${name}`, values, 1_000_000);
  const known = request.models
    .map((id) => models.find((m) => m.id === id))
    .filter((m): m is ModelInfo => m !== undefined);
  const unused = Object.keys(sweeps).filter((d) => known.length && !known.some((m) => sweepableDims(m).includes(d)));
  const lacking = known
    .map((m) => ({ m, missing: missingDims(m, sweeps, request.inputOverrides?.[m.id]) }))
    .filter((x) => x.missing.length);
  if (lacking.length) {
    const hint = request.dimHint ?? ((missing) => `give each a value: ${missing.map((d) => `--dim ${d}=N`).join(' ')}`);
    throw new PlanError(
      lacking
        .map(
          ({ m, missing }) =>
            `model '${m.id}' has symbolic dim${missing.length > 1 ? 's' : ''} with no value: ${missing.join(', ')}; ${hint(missing)}`,
        )
        .join('\n'),
    );
  }
  if (unused.length)
    throw new PlanError(
      `dims: no model in the plan has a symbolic dim named ${unused.join(', ')} (${known.map((m) => `${m.id}: ${sweepableDims(m).join(', ') || 'none'}`).join('; ')})`,
    );

  const cells: Cell[] = [];
  const seen = new Set<string>();
  for (const modelId of request.models) {
    const model = models.find((m) => m.id === modelId);
    const mine = model ? sweepableDims(model) : [];
    const combos = dimCombinations(Object.fromEntries(Object.entries(sweeps).filter(([d]) => mine.includes(d))));
    for (const target of targets) {
      if (target.runtime === 'ort-node' && request.native && model && !pickFormat(model, 'ort-node')) {
        nativeSkipped.push({
          modelId,
          reason: `no native reference: onnxruntime-node runs ONNX files, and '${modelId}' has only ${model.formats.map((f) => f.format).join(', ')}`,
        });
        continue;
      }
      if (request.skipMissingFormats && model && !pickFormat(model, target.runtime)) continue;
      // Threads only mean something for wasm backends and native CPU (intra-op threads); elsewhere the cell runs once.
      const threadCounts = target.backend === 'wasm' || target.runtime === 'ort-node' ? threads : [1];
      for (const build of buildsOf(target, ortBuilds)) {
        const built: Target = build ? { ...target, build } : target;
        // Batch x threads x swept dims, flattened: the order cells are listed in when not shuffled.
        const variants = request.batches.flatMap((batch) =>
          threadCounts.flatMap((t) => combos.map((dims) => ({ batch, t, dims }))),
        );
        for (const { batch, t, dims } of variants) {
          const id = cellId(modelId, built, batch, t, dims);
          if (seen.has(id)) continue;
          seen.add(id);
          cells.push({
            id,
            modelId,
            format: pickFormat(model, target.runtime),
            runtime: target.runtime,
            backend: target.backend,
            batch,
            threads: t,
            build: build ?? null,
            coresOverride: target.runtime === 'tfjs' && target.backend === 'wasm' ? (request.tfjsCores ?? null) : null,
            dims,
            inputSeed,
            inputOverrides: withDims(model, request.inputOverrides?.[modelId] ?? {}, dims),
          });
        }
      }
    }
  }
  const order = request.order ?? 'seeded-shuffle';
  const ordered = order === 'seeded-shuffle' ? seededShuffle(cells, seed) : cells;
  if (!cells.some((c) => c.runtime === 'ort-node'))
    return {
      seed,
      order,
      schedule: request.schedule ?? 'sequential',
      liveCells,
      sampling: sampling.data,
      cells: ordered,
      nativeSkipped,
    };
  // Native reference cells take turns with the browser cells doing the same work, so drift hits both alike:
  // cells of one work key sit together (keys in the drawn order), always interleaved, and a live group holds a key.
  const keys = [...new Set(ordered.map(workKey))];
  const grouped = keys.flatMap((k) => ordered.filter((c) => workKey(c) === k));
  const biggest = Math.max(...keys.map((k) => grouped.filter((c) => workKey(c) === k).length));
  return {
    seed,
    order,
    schedule: 'interleaved',
    liveCells: Math.min(32, Math.max(liveCells, biggest)),
    sampling: sampling.data,
    cells: grouped,
    nativeSkipped,
  };
}
