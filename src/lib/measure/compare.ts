/**
 * Comparing two sets of timings: ratio of medians with a bootstrap 95% CI and a verdict. Pure and seeded, so a
 * printed interval reproduces.
 */
import { bootstrapBlockLength } from './dependence.ts';
import { pairedRatio, unpairedRatio } from './invocations.ts';
import { mulberry32 } from '../rng.ts';
import type { Cell, OkCellResult, Sample, Stage } from '../schema.ts';
import { median, medianInPlace } from './stats.ts';
import { steadyByInvocation } from './warmup-curve.ts';

export interface RatioCI {
  ratio: number;
  ci95: [number, number];
  resamples: number;
}

/**
 * Ratio median(a) / median(b), with a percentile-bootstrap 95% CI. `a` and `b` are series in time order: each is
 * resampled in blocks of consecutive samples (circular block bootstrap, block length from its own autocorrelation,
 * see dependence.ts), so a machine's wander widens the CI instead of passing for a difference. Independent samples
 * get blocks of 1: the plain bootstrap.
 */
export function ratioOfMedians(a: readonly number[], b: readonly number[], seed = 1, resamples = 2000): RatioCI {
  if (!a.length || !b.length) throw new RangeError('both sets need samples');
  const rng = mulberry32(seed);
  const scratchA = new Array<number>(a.length);
  const scratchB = new Array<number>(b.length);
  const blockA = bootstrapBlockLength(a);
  const blockB = bootstrapBlockLength(b);
  const draw = (xs: readonly number[], scratch: number[], block: number) => {
    const n = xs.length;
    for (let i = 0; i < n;) {
      const start = Math.floor(rng() * n);
      for (let j = 0; j < block && i < n; j++) scratch[i++] = xs[(start + j) % n]!;
    }
    return medianInPlace(scratch);
  };
  const ratios: number[] = [];
  for (let i = 0; i < resamples; i++) ratios.push(draw(a, scratchA, blockA) / draw(b, scratchB, blockB));
  ratios.sort((x, y) => x - y);
  const at = (q: number) => ratios[Math.min(ratios.length - 1, Math.floor(q * ratios.length))]!;
  return { ratio: median(a) / median(b), ci95: [at(0.025), at(0.975)], resamples };
}

export type Verdict = 'faster' | 'slower' | 'indistinguishable';

/** The default threshold: a difference under 2% is treated as no difference. */
export const DEFAULT_THRESHOLD = 0.02;

/**
 * a against b (ratio a/b of times): `faster` when the whole CI is below 1 - threshold, `slower` when it is all
 * above 1 + threshold, otherwise `indistinguishable` at that threshold (too close, or too uncertain, to call).
 */
export function verdictOf(ci95: readonly [number, number], threshold = DEFAULT_THRESHOLD): Verdict {
  if (!(threshold >= 0 && threshold < 1)) throw new RangeError(`threshold must be in [0, 1), got ${threshold}`);
  if (ci95[1] < 1 - threshold) return 'faster';
  if (ci95[0] > 1 + threshold) return 'slower';
  return 'indistinguishable';
}

/**
 * How a comparison's CI was made: `paired` from the ratios of invocations that ran side by side (round k of both
 * cells), `invocations` from the levels of invocations that did not (two runs), `samples` from one invocation's
 * passes on either side (a block bootstrap: it covers the passes' noise, not a rerun's different level).
 */
export type ComparisonMethod = 'paired' | 'invocations' | 'samples';

export interface Comparison extends RatioCI {
  a: string;
  b: string;
  stage: Stage | 'total';
  threshold: number;
  verdict: Verdict;
  method: ComparisonMethod;
  /** Invocation pairs (or the fewer invocations) the CI rests on; null for `samples`. */
  pairs: number | null;
}

/** A stage's per-pass values over one invocation's steady samples. */
function stageValues(samples: readonly Sample[], cellId: string, stage: Stage | 'total'): number[] {
  const values = samples.map((s) => s[stage]);
  if (values.some((v) => v === null))
    throw new RangeError(`${cellId} has no separate '${stage}' stage (it is folded into another)`);
  return values as number[];
}

/**
 * a/b of two sets of per-invocation steady values: paired by round when `paired` and both have two invocations or
 * more, else from their levels, else (one invocation on a side) the block bootstrap of the pooled values.
 */
export function ratioOfInvocations(
  a: readonly (readonly number[])[],
  b: readonly (readonly number[])[],
  paired: boolean,
  seed = 1,
): RatioCI & { method: ComparisonMethod; pairs: number | null } {
  if (a.length > 1 && b.length > 1) {
    const la = a.map((xs) => median(xs));
    const lb = b.map((xs) => median(xs));
    const r = paired ? pairedRatio(la, lb) : unpairedRatio(la, lb);
    if (r)
      return { ratio: r.ratio, ci95: r.ci95, resamples: 0, method: paired ? 'paired' : 'invocations', pairs: r.pairs };
  }
  return { ...ratioOfMedians(a.flat(), b.flat(), seed), method: 'samples', pairs: null };
}

/**
 * Cell a against cell b on one stage (default: total per pass). `paired`: the two cells ran in the same run, their
 * invocations in the same rounds (vs fastest, `compare` on one results file); false for cells of different runs.
 */
export function compareCells(
  a: OkCellResult,
  b: OkCellResult,
  options: { stage?: Stage | 'total'; threshold?: number; seed?: number; paired?: boolean } = {},
): Comparison {
  const stage = options.stage ?? 'total';
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  const values = (c: OkCellResult) => steadyByInvocation(c).map((xs) => stageValues(xs, c.cell.id, stage));
  const r = ratioOfInvocations(values(a), values(b), options.paired ?? false, options.seed ?? 1);
  return { ...r, a: a.cell.id, b: b.cell.id, stage, threshold, verdict: verdictOf(r.ci95, threshold) };
}

/**
 * Whether two cells of one run took their invocations side by side: a run takes the invocations of one comparison
 * group (comparisonGroup) in shared rounds, and other groups at other times (src/app/plan-run.ts).
 */
export function pairedInRun(a: OkCellResult, b: OkCellResult): boolean {
  return comparisonGroup(a.cell) === comparisonGroup(b.cell);
}

/** How the CI was made, in a few words: "paired over 3 invocations", "one invocation's passes". */
export function describeMethod(c: Pick<Comparison, 'method' | 'pairs'>): string {
  if (c.method === 'paired') return `paired over ${c.pairs} invocations`;
  if (c.method === 'invocations') return `${c.pairs}+ invocations a side, unpaired`;
  return "one invocation's passes: a rerun may land outside it";
}

/** A comparison in words: "a is 1.32x slower than b (95% CI 1.28-1.36)". */
export function describeComparison(c: Comparison): string {
  const ci = `95% CI ${c.ci95[0].toFixed(3)}–${c.ci95[1].toFixed(3)}, ${describeMethod(c)}`;
  if (c.verdict === 'indistinguishable')
    return `${c.a} vs ${c.b}: ratio ${c.ratio.toFixed(3)} (${ci}), indistinguishable at ±${(c.threshold * 100).toFixed(0)}%`;
  const times = c.verdict === 'faster' ? 1 / c.ratio : c.ratio;
  return `${c.a} is ${times.toFixed(2)}x ${c.verdict} than ${c.b} (ratio ${c.ratio.toFixed(3)}, ${ci})`;
}

/**
 * The cells whose numbers are compared with each other: one model, batch size and swept dims (another batch size or
 * sequence length is other work). The one key for "vs fastest", model work, the verdict and the run's comparison
 * sets (whose cells take their invocations in shared rounds, so their comparisons pair).
 */
export function comparisonGroup(cell: Pick<Cell, 'modelId' | 'batch' | 'dims'>): string {
  const dims = Object.keys(cell.dims)
    .sort()
    .map((d) => `${d}=${cell.dims[d]}`);
  return [`${cell.modelId}/b${cell.batch}`, ...dims].join('/');
}

/**
 * Every ok browser cell against the cell of its comparison group with the least `level` (null for that cell itself),
 * by `compare`; native reference cells get no entry (they are compared through the browser tax).
 */
export function againstFastest<C>(
  cells: readonly OkCellResult[],
  level: (c: OkCellResult) => number,
  compare: (a: OkCellResult, fastest: OkCellResult) => C,
): Map<string, C | null> {
  const groups = new Map<string, OkCellResult[]>();
  for (const c of cells) {
    if (c.cell.runtime === 'ort-node') continue;
    const key = comparisonGroup(c.cell);
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const out = new Map<string, C | null>();
  for (const group of groups.values()) {
    const levels = new Map(group.map((c) => [c, level(c)]));
    const fastest = group.reduce((a, b) => (levels.get(b)! < levels.get(a)! ? b : a));
    for (const c of group) out.set(c.cell.id, c === fastest ? null : compare(c, fastest));
  }
  return out;
}

/**
 * Every ok browser cell's total against the fastest cell of its group. For the tables of the page and the CLI.
 * One run: the cells' invocations ran in the same rounds, so the ratios pair by round.
 */
export function compareToFastest(
  cells: readonly OkCellResult[],
  threshold = DEFAULT_THRESHOLD,
): Map<string, Comparison | null> {
  return againstFastest(
    cells,
    (c) => c.summary.total.median,
    (c, fastest) => compareCells(c, fastest, { threshold, paired: true }),
  );
}
