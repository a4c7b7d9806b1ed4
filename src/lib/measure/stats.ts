/**
 * Summary statistics of one stage's samples. Pure: no I/O, no clocks.
 * Percentiles interpolate linearly between order statistics (Hyndman & Fan type 7, numpy's default), so
 * hand-checked values in tests are easy to reproduce.
 */
import type { Sample, Stage, StageSummaries, Summary } from '../schema.ts';
import { STAGES } from '../stages.ts';

/** A sorted, non-empty array: only `sortSamples` makes one, so functions taking it can skip the checks. */
export type Sorted = readonly number[] & { readonly __sorted: true };

export function sortSamples(values: readonly number[]): Sorted {
  if (values.length === 0) throw new RangeError('no samples to summarise');
  for (const v of values) if (!Number.isFinite(v)) throw new RangeError(`sample is not a finite number: ${v}`);
  return [...values].sort((a, b) => a - b) as unknown as Sorted;
}

/** Quantile q in [0, 1] by linear interpolation (type 7). */
export function quantile(sorted: Sorted, q: number): number {
  if (q < 0 || q > 1) throw new RangeError(`quantile must be in [0, 1], got ${q}`);
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (h - lo) * (b - a);
}

export function mean(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/**
 * Smallest and largest value, by a loop: spread into Math.min/Math.max, an array of a few hundred thousand values
 * (a serving trace, a day's monitor windows) overflows the stack. [Infinity, -Infinity] when there are none.
 */
export function extent(values: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** Sample standard deviation (n - 1); 0 for a single value. */
export function sd(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  let s = 0;
  for (const v of values) s += (v - m) * (v - m);
  return Math.sqrt(s / (values.length - 1));
}

/**
 * The k-th smallest value (0-based) of `xs`, found by selection in O(n) on average; `xs` is reordered in place.
 * For hot loops (a bootstrap takes thousands of medians of 50,000-sample series: sorting each took 30 s on the page's
 * main thread, long enough for the CLI to take the page for dead).
 */
export function selectInPlace(xs: number[], k: number): number {
  let lo = 0;
  let hi = xs.length - 1;
  while (hi > lo) {
    // Median of three as the pivot: sorted or constant series stay O(n).
    const mid = (lo + hi) >>> 1;
    const a = xs[lo]!;
    const b = xs[mid]!;
    const c = xs[hi]!;
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (xs[i]! < pivot) i++;
      while (xs[j]! > pivot) j--;
      if (i <= j) {
        const t = xs[i]!;
        xs[i++] = xs[j]!;
        xs[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return xs[k]!;
}

/** The median (type 7, as `median`) of `xs`, reordering it in place: for scratch arrays in hot loops. */
export function medianInPlace(xs: number[]): number {
  const n = xs.length;
  if (n === 0) throw new RangeError('no samples to summarise');
  const h = (n - 1) / 2;
  const lo = selectInPlace(xs, Math.floor(h));
  if (Number.isInteger(h)) return lo;
  // The next order statistic is the smallest value above position lo, all of which selection left to its right.
  let hi = Infinity;
  for (let i = Math.floor(h) + 1; i < n; i++) if (xs[i]! < hi) hi = xs[i]!;
  return lo + (h - Math.floor(h)) * (hi - lo);
}

export function median(values: readonly number[]): number {
  return quantile(sortSamples(values), 0.5);
}

/** Median absolute deviation from the median, unscaled. */
export function mad(sorted: Sorted): number {
  const med = quantile(sorted, 0.5);
  return quantile(sortSamples(sorted.map((v) => Math.abs(v - med))), 0.5);
}

/** P(X <= k) for X ~ Binomial(n, 1/2), summed in log space so large n does not overflow. */
export function binomialHalfCdf(n: number, k: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  let logC = 0; // log C(n, 0)
  let sum = 0;
  const logHalfN = n * Math.log(0.5);
  for (let i = 0; i <= k; i++) {
    if (i > 0) logC += Math.log(n - i + 1) - Math.log(i);
    sum += Math.exp(logC + logHalfN);
  }
  return Math.min(1, sum);
}

/**
 * 1-based ranks [lo, hi] of the order statistics that bound the median with at least `level` coverage,
 * whatever the distribution: the interval [x(k), x(n-k+1)] covers the true median with probability
 * 1 - 2 P(B <= k - 1), B ~ Bin(n, 1/2). We take the largest such k (the narrowest interval).
 * Null when n is too small for any interval to reach the level (n < 6 at 95%).
 */
export function medianCIRanks(n: number, level = 0.95): [number, number] | null {
  let best: number | null = null;
  for (let k = 1; k <= Math.floor((n + 1) / 2); k++) {
    const coverage = 1 - 2 * binomialHalfCdf(n, k - 1);
    if (coverage >= level) best = k;
    else break;
  }
  return best === null ? null : [best, n - best + 1];
}

/**
 * 95% (or `level`) CI of the median, distribution-free. The exact order-statistic interval [x(k), x(n-k+1)] covers
 * at least `level`, often much more (96-98% at small n), which makes auto sampling run longer than it needs to.
 * Hettmansperger & Sheather (1986) interpolate between that interval and the next narrower one,
 * [x(k+1), x(n-k)], with a weight that brings coverage close to `level` for symmetric and skewed data alike.
 */
export function medianCI(sorted: Sorted, level = 0.95): [number, number] | null {
  const n = sorted.length;
  const ranks = medianCIRanks(n, level);
  if (!ranks) return null;
  const k = ranks[0];
  const x = (rank: number) => sorted[rank - 1]!;
  // The next narrower interval would be empty or inverted: nothing to interpolate towards.
  if (k + 1 > n - k) return [x(k), x(n - k + 1)];
  const outer = 1 - 2 * binomialHalfCdf(n, k - 1); // coverage of [x(k), x(n-k+1)], >= level
  const inner = 1 - 2 * binomialHalfCdf(n, k); // coverage of [x(k+1), x(n-k)], < level
  const i = (outer - level) / (outer - inner);
  const lambda = ((n - k) * i) / (k + (n - 2 * k) * i);
  return [(1 - lambda) * x(k) + lambda * x(k + 1), (1 - lambda) * x(n - k + 1) + lambda * x(n - k)];
}

/** Batches for the batch-median CI, and the least samples per batch before it is used. */
export const CI_BATCHES = 10;
export const MIN_BATCH = 10;
/** 97.5% quantile of Student's t with CI_BATCHES - 1 = 9 degrees of freedom. */
const T_975_9 = 2.262;

/**
 * 95% CI of the median from batch medians: the series, in time order, cut into CI_BATCHES consecutive batches;
 * median +- t(9) x SD(batch medians) / sqrt(batches). Timings are autocorrelated (a machine's speed wanders over
 * seconds), which the order-statistic interval, built for independent samples, does not see: it came out at
 * ±0.4% while runs of the same cell a minute apart differed by 3-5%. Batch medians carry the wander. Null below
 * CI_BATCHES x MIN_BATCH values.
 */
export function batchMedianCI(ordered: readonly number[], median: number): [number, number] | null {
  const n = ordered.length;
  if (n < CI_BATCHES * MIN_BATCH) return null;
  const medians: number[] = [];
  for (let b = 0; b < CI_BATCHES; b++) {
    const from = Math.floor((b * n) / CI_BATCHES);
    const to = Math.floor(((b + 1) * n) / CI_BATCHES);
    medians.push(quantile(sortSamples(ordered.slice(from, to)), 0.5));
  }
  const half = (T_975_9 * sd(medians)) / Math.sqrt(CI_BATCHES);
  return [median - half, median + half];
}

/**
 * The median's 95% CI for samples in time order: the order-statistic interval, widened to the batch-median one
 * where that is wider (autocorrelated timings). Never narrower than the order-statistic interval.
 */
export function orderedMedianCI(
  ordered: readonly number[],
  sorted: Sorted = sortSamples(ordered),
): [number, number] | null {
  const iid = medianCI(sorted);
  const batch = batchMedianCI(ordered, quantile(sorted, 0.5));
  if (!iid || !batch) return iid;
  return [Math.min(iid[0], batch[0]), Math.max(iid[1], batch[1])];
}

/** Half-width of the median's 95% CI relative to the median (0.02 = +-2%); null when there is no CI. */
export function relativeHalfWidth(summary: { median: number; medianCI95: [number, number] | null }): number | null {
  if (!summary.medianCI95 || summary.median <= 0) return null;
  return (summary.medianCI95[1] - summary.medianCI95[0]) / 2 / summary.median;
}

/** Summary of one stage; `values` in time order (the CI widens for autocorrelation, see orderedMedianCI). */
export function summarize(values: readonly number[]): Summary {
  const sorted = sortSamples(values);
  return {
    n: sorted.length,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    mean: mean(sorted),
    sd: sd(sorted),
    median: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p95: quantile(sorted, 0.95),
    p99: quantile(sorted, 0.99),
    mad: mad(sorted),
    medianCI95: orderedMedianCI(values, sorted),
  };
}

function stageValues(samples: readonly Sample[], stage: Stage): number[] | null {
  const values: number[] = [];
  for (const s of samples) {
    const v = s[stage];
    if (v === null) return null; // the stage is folded into another one for this backend
    values.push(v);
  }
  return values;
}

export function summarizeStages(samples: readonly Sample[]): StageSummaries {
  const out = { total: summarize(samples.map((s) => s.total)) } as StageSummaries;
  for (const stage of STAGES) {
    const values = stageValues(samples, stage);
    out[stage] = values && values.length ? summarize(values) : null;
  }
  return out;
}
