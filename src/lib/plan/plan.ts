/**
 * Plans: the matrix a person asks for (models x runtime:backend targets x batch sizes x threads) turned into an
 * ordered list of cells. Validation here gives errors that name the bad value and the valid ones.
 */
import { SamplingSettings, describeIssues } from '../schema.ts';
import { VARIANTS } from '../schema.ts';
import type { Cell, Plan, SamplingInput, InputOverride, Variant } from '../schema.ts';
import { dimCombinations, missingDims, sweepableDims, withDims } from '../models/dims.ts';
import type { ModelInfo } from '../models/manifest.ts';
import { seededShuffle } from '../rng.ts';
import { ORT_BUILD_CHOICES, buildsFor } from '../builds.ts';
import { buildsOf, NATIVE_TARGET, parseTarget, pickFormat, PlanError, targetKey, type Target } from './target-parse.ts';
import { allTargets } from '../targets.ts';

/**
 * `model/runtime:backend[@build]/bN/tN`, then the variant when it isn't fp32 (`.../t1/int8`), then `/name=value` per
 * swept dim, by name (`text-encoder/.../t1/seq=64`). fp32 cells keep the ids they had before variants existed.
 */
export function cellId(
  modelId: string,
  t: Target,
  batch: number,
  threads: number,
  dims: Readonly<Record<string, number>> = {},
  variant: Variant = 'fp32',
): string {
  const swept = Object.keys(dims)
    .sort()
    .map((d) => `/${d}=${dims[d]}`)
    .join('');
  return `${modelId}/${targetKey(t)}/b${batch}/t${threads}${variant === 'fp32' ? '' : `/${variant}`}${swept}`;
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
  /**
   * Model variants (a matrix dimension): `fp32` (the model as given, the default), `fp16`, `int8` (made by the lab
   * from ONNX files). Native reference cells run fp32 only.
   */
  variants?: string[];
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

/** A request's settings, checked (errors name the bad value and the valid range) and with defaults filled in. */
interface Checked {
  targets: Target[];
  ortBuilds: string[];
  threads: number[];
  sampling: SamplingSettings;
  seed: number;
  inputSeed: number;
  liveCells: number;
  sweeps: Record<string, number[]>;
  variants: Variant[];
}

/**
 * Builds the plan. Unknown model ids are kept as cells (they end as failed with the reason) so that one bad
 * name doesn't stop the rest; malformed settings throw before anything runs.
 */
export function buildPlan(request: PlanRequest, models: readonly ModelInfo[]): Plan {
  const checked = checkRequest(request);
  checkDims(request, models, checked.sweeps);
  const nativeSkipped: Plan['nativeSkipped'] = [];
  const cells = matrixCells(request, models, checked, nativeSkipped);
  const order = request.order ?? 'seeded-shuffle';
  const ordered = order === 'seeded-shuffle' ? seededShuffle(cells, checked.seed) : cells;
  const { seed, liveCells } = checked;
  const common = { seed, order, sampling: checked.sampling, nativeSkipped };
  if (!cells.some((c) => c.runtime === 'ort-node'))
    return { ...common, schedule: request.schedule ?? 'sequential', liveCells, cells: ordered };
  // Native reference cells take turns with the browser cells doing the same work, so drift hits both alike:
  // cells of one work key sit together (keys in the drawn order), always interleaved, and a live group holds a key.
  const keys = [...new Set(ordered.map(workKey))];
  const grouped = keys.flatMap((k) => ordered.filter((c) => workKey(c) === k));
  const biggest = Math.max(...keys.map((k) => grouped.filter((c) => workKey(c) === k).length));
  return { ...common, schedule: 'interleaved', liveCells: Math.min(32, Math.max(liveCells, biggest)), cells: grouped };
}

function checkRequest(request: PlanRequest): Checked {
  if (request.models.length === 0) throw new PlanError('models: give at least one model id');
  if (request.targets.length === 0) throw new PlanError(`targets: give at least one of ${allTargets().join(', ')}`);
  const asked = request.targets.map(parseTarget);
  const targets =
    request.native && !asked.some((t) => t.runtime === 'ort-node') ? [...asked, parseTarget(NATIVE_TARGET)] : asked;
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
  const variants = checkVariants(request.variants ?? ['fp32']);
  return { targets, ortBuilds, threads, sampling: sampling.data, seed, inputSeed, liveCells, sweeps, variants };
}

function checkVariants(asked: readonly string[]): Variant[] {
  if (asked.length === 0) throw new PlanError(`variants: give at least one of ${VARIANTS.join(', ')}`);
  for (const v of asked)
    if (!(VARIANTS as readonly string[]).includes(v))
      throw new PlanError(`unknown variant '${v}'; valid: ${VARIANTS.join(', ')}`);
  // In the order of VARIANTS, each once (fp32 first: the reference the others are compared with).
  return VARIANTS.filter((v) => asked.includes(v));
}

/** Every known model's symbolic dims have a value, and every swept dim belongs to some model: all named at once. */
function checkDims(request: PlanRequest, models: readonly ModelInfo[], sweeps: Record<string, number[]>): void {
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
}

/** The matrix: models x targets x builds x batch sizes x threads x swept dims, each cell once, in that order. */
function matrixCells(
  request: PlanRequest,
  models: readonly ModelInfo[],
  checked: Checked,
  nativeSkipped: Plan['nativeSkipped'],
): Cell[] {
  const cells: Cell[] = [];
  const seen = new Set<string>();
  for (const modelId of request.models) {
    const model = models.find((m) => m.id === modelId);
    const mine = model ? sweepableDims(model) : [];
    const combos = dimCombinations(
      Object.fromEntries(Object.entries(checked.sweeps).filter(([d]) => mine.includes(d))),
    );
    for (const target of checked.targets) {
      if (target.runtime === 'ort-node' && request.native && model && !pickFormat(model, 'ort-node')) {
        nativeSkipped.push({
          modelId,
          reason: `no native reference: onnxruntime-node runs ONNX files, and '${modelId}' has only ${model.formats.map((f) => f.format).join(', ')}`,
        });
        continue;
      }
      if (request.skipMissingFormats && model && !pickFormat(model, target.runtime)) continue;
      // Threads only mean something for wasm backends and native CPU (intra-op threads); elsewhere the cell runs once.
      const threadCounts = target.backend === 'wasm' || target.runtime === 'ort-node' ? checked.threads : [1];
      for (const build of buildsOf(target, checked.ortBuilds)) {
        const built: Target = build ? { ...target, build } : target;
        // The native reference measures the model as given; variants are a browser dimension.
        const variants: Variant[] = target.runtime === 'ort-node' ? ['fp32'] : checked.variants;
        for (const batch of request.batches)
          for (const t of threadCounts)
            for (const dims of combos)
              for (const variant of variants) {
                const id = cellId(modelId, built, batch, t, dims, variant);
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
                  coresOverride:
                    target.runtime === 'tfjs' && target.backend === 'wasm' ? (request.tfjsCores ?? null) : null,
                  dims,
                  variant,
                  inputSeed: checked.inputSeed,
                  inputOverrides: withDims(model, request.inputOverrides?.[modelId] ?? {}, dims),
                });
              }
      }
    }
  }
  return cells;
}
