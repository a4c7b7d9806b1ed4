/**
 * The model's own work per pass: upload + inference + readback, what the runtime does. Preprocess (picture decoding,
 * resizing) and postprocess are the app's code around it, and can dwarf it: a small image model's 7.7 ms total was
 * 7.2 ms of decoding, so two runtimes whose inference differed 2.3x read "≈" on the total. Shown beside the total,
 * with its own ratio against the fastest cell and its own CI (same method as the total's: compare.ts). Pure.
 */
import { againstFastest, DEFAULT_THRESHOLD, ratioOfInvocations, verdictOf, type Comparison } from './compare.ts';
import type { OkCellResult, Sample } from '../schema.ts';
import { mean, median } from './stats.ts';
import { steadyByInvocation } from './warmup-curve.ts';

/** The stages that are the model's own work; a stage folded into another (null) is counted in that one. */
export const MODEL_WORK_STAGES = ['upload', 'inference', 'readback'] as const;

/** A comparison of the model's own work: as compare.ts's, with 'model' as its stage. */
export type ModelWorkComparison = Omit<Comparison, 'stage'> & { stage: 'model' };

export function modelWorkOf(s: Sample): number {
  return MODEL_WORK_STAGES.reduce((sum, stage) => sum + (s[stage] ?? 0), 0);
}

function byInvocation(c: OkCellResult): number[][] {
  return steadyByInvocation(c).map((xs) => xs.map(modelWorkOf));
}

/** The cell's model work per pass: the mean of its invocations' steady medians (as the total's median is made). */
export function modelWorkMs(c: OkCellResult): number {
  const levels = byInvocation(c)
    .filter((xs) => xs.length)
    .map((xs) => median(xs));
  return levels.length ? mean(levels) : NaN;
}

/** a against b on the model's own work; `paired` as in compareCells (cells of one run, same model and batch). */
export function compareModelWork(
  a: OkCellResult,
  b: OkCellResult,
  options: { threshold?: number; paired?: boolean; seed?: number } = {},
): ModelWorkComparison {
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  const r = ratioOfInvocations(byInvocation(a), byInvocation(b), options.paired ?? false, options.seed ?? 1);
  return { ...r, a: a.cell.id, b: b.cell.id, stage: 'model', threshold, verdict: verdictOf(r.ci95, threshold) };
}

/**
 * Every ok browser cell's model work against the cell with the least model work of its comparison group (as
 * compareToFastest does with totals): null for that cell itself, no entry for native reference cells.
 */
export function modelWorkVsFastest(
  cells: readonly OkCellResult[],
  threshold = DEFAULT_THRESHOLD,
): Map<string, ModelWorkComparison | null> {
  return againstFastest(cells, modelWorkMs, (c, fastest) => compareModelWork(c, fastest, { threshold, paired: true }));
}
