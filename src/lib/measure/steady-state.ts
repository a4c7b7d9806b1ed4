/**
 * Where does warm-up really end? A cell's per-pass times are one series; this finds where its level changes
 * (changepoints) and calls the stretch after the last change that matters the steady state. Pure: no clocks, no I/O.
 *
 * The method follows Barrett et al. 2017 ("Virtual Machine Warmup Blows Hot and Cold"): penalised changepoint
 * detection (PELT, Killick et al. 2012) on the series, segments whose levels are practically equal treated as one,
 * and each cell classified as flat, warm-up, slowdown or no steady state. Our choices, and why:
 * - Log times: latency noise is multiplicative (a 5 ms model jitters more in ms than a 0.5 ms one), so a level
 *   change is judged relative to the level, the way a person reads "3x slower".
 * - Robust before exact: isolated spikes (a GC, a preempted core) are replaced by the local median (a Hampel
 *   filter) before the search, and the noise scale comes from the median absolute first difference, which level
 *   changes hardly move. Then the Gaussian mean-change cost has O(1) segment costs from prefix sums.
 * - Long series are searched on bin medians (at most MAX_POINTS bins), and each changepoint is then placed on
 *   single samples within its bin pair, so the search stays cheap enough to run after every block.
 * - Statistically real but practically small shifts (a few % on a busy machine) are not warm-up: segments within
 *   `tolerance` of the steady level count as steady, and short excursions inside a steady stretch don't end it.
 */
import { findChangepoints, medianOf } from './changepoints.ts';
import { medianCI, quantile, sortSamples } from './stats.ts';
import type { SteadyClass } from '../schema/basics.ts';

export interface Segment {
  /** First sample of the segment (inclusive) and one past its last. */
  start: number;
  end: number;
  /** Median of the segment's values (same unit as the series). */
  median: number;
}

export interface SteadyOptions {
  /**
   * Segments whose medians lie within this relative distance of the last segment's count as steady. On a shared
   * 2-core machine a warm series still wanders between levels a few % apart for seconds at a time; that is the
   * machine, not warm-up (drift inside the steady state is judged apart).
   */
  tolerance: number;
  /**
   * The steady stretch must hold at least this many values, and at least `minSteadyFraction` of the series (of its
   * time, when values carry weights); a shorter one is "no steady state": the level was still changing too
   * recently to trust that it has stopped.
   */
  minSteady: number;
  minSteadyFraction: number;
  /**
   * The steady stretch's first and last thirds must agree within this (relative, with their medians' CIs apart):
   * a slow slide in small steps (ocr-cls here: 1.85 ms in seconds 3-6, 1.79 from second 7 on) stays inside
   * `tolerance` step by step, so the stretch is trimmed from the front until its thirds agree.
   */
  settle: number;
}

export const DEFAULT_STEADY_OPTIONS: SteadyOptions = {
  tolerance: 0.05,
  minSteady: 10,
  minSteadyFraction: 0.25,
  settle: 0.02,
};

export interface SteadyAnalysis {
  segments: Segment[];
  /** Sample indices where a segment starts (every segment but the first). */
  changepoints: number[];
  /** The first sample of the steady stretch. */
  steadyStart: number;
  /** Median of the steady stretch. */
  steadyMedian: number;
  classification: SteadyClass;
  /** The steady stretch flips between levels further apart than tolerance (null: one level). */
  alternation: { lowMs: number; highMs: number; switches: number } | null;
}

/**
 * Analyses a series of per-pass times (any positive unit). Fast enough to call after every block. `weights` (e.g.
 * each sample's own time: total per pass x passes) make the steady share a share of time rather than of values.
 */
export function analyseSteadyState(
  values: readonly number[],
  options: SteadyOptions = DEFAULT_STEADY_OPTIONS,
  weights?: readonly number[],
): SteadyAnalysis {
  const n = values.length;
  if (n === 0) throw new RangeError('no values to analyse');
  const cps = findChangepoints(values);
  const bounds = [0, ...cps, n];
  const segments: Segment[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const start = bounds[i]!;
    const end = bounds[i + 1]!;
    segments.push({ start, end, median: medianOf(values, start, end) });
  }
  const steadyStart = settledStart(values, segments, steadyStartOf(segments, n, options.tolerance), n, options.settle);
  const steadyMedian = medianOf(values, steadyStart, n);
  const classification = classify(segments, steadyStart, n, options, weights);
  return {
    segments,
    changepoints: cps,
    steadyStart,
    steadyMedian,
    classification,
    alternation: alternationOf(segments, steadyStart, n, options.tolerance),
  };
}

/**
 * Moves the steady start to later long-segment starts while the stretch's first and last thirds disagree: the
 * front of a slow slide is warm-up too. Stops where they agree, or at the last long segment.
 */
function settledStart(
  values: readonly number[],
  segments: readonly Segment[],
  start: number,
  n: number,
  settle: number,
): number {
  const short = shortLimit(n);
  const later = segments.filter((s) => s.start > start && s.end - s.start > short).map((s) => s.start);
  let at = start;
  for (const next of later) {
    if (!thirdsDisagree(values.slice(at), settle)) break;
    at = next;
  }
  return at;
}

/**
 * Whether a stretch still moves: its first and last thirds' medians differ by more than `threshold` (relative)
 * with their 95% CIs apart. False below 18 values (thirds of 6, the least with a CI).
 */
export function thirdsDisagree(values: readonly number[], threshold: number): boolean {
  const third = Math.floor(values.length / 3);
  if (third < 6) return false;
  const first = sortSamples(values.slice(0, third));
  const last = sortSamples(values.slice(values.length - third));
  const m1 = quantile(first, 0.5);
  const m3 = quantile(last, 0.5);
  const c1 = medianCI(first);
  const c3 = medianCI(last);
  if (!c1 || !c3 || m1 <= 0) return false;
  const apart = c3[0] > c1[1] || c3[1] < c1[0];
  return apart && Math.abs(m3 / m1 - 1) > threshold;
}

/** Whether the stretch from `start` holds enough values, and enough of the series' weight (time), to be steady. */
export function steadyLongEnough(
  n: number,
  start: number,
  o: SteadyOptions = DEFAULT_STEADY_OPTIONS,
  weights?: readonly number[],
): boolean {
  if (n - start < o.minSteady) return false;
  if (!weights) return n - start >= Math.ceil(o.minSteadyFraction * n);
  let all = 0;
  let steady = 0;
  for (let i = 0; i < n; i++) {
    all += weights[i]!;
    if (i >= start) steady += weights[i]!;
  }
  return steady >= o.minSteadyFraction * all;
}

/**
 * The steady stretch is the longest suffix of segments that starts with a long segment and in which every long
 * segment's median lies within tolerance of the suffix's level (the length-weighted median of its segment medians).
 * Short segments inside it are excursions (a background job, a GC storm: a few hundred ms on this machine, every
 * second or two): their passes are real latency and stay in the steady samples as its tail, but they neither end
 * the steady state nor start it.
 */
function steadyStartOf(segments: readonly Segment[], n: number, tolerance: number): number {
  const short = shortLimit(n);
  const isLong = (s: Segment) => s.end - s.start > short;
  const near = (a: number, b: number) => Math.abs(a / b - 1) <= tolerance;
  for (let j = 0; j < segments.length; j++) {
    const first = segments[j]!;
    if (!isLong(first) && j < segments.length - 1) continue;
    const suffix = segments.slice(j);
    const level = weightedMedianLevel(suffix);
    const long = suffix.filter(isLong);
    // A long segment belongs if it sits at the stretch's level, or if its level recurs elsewhere in the stretch,
    // apart from it (a machine that flips between two levels keeps flipping: that is its steady state, not warm-up).
    const fits = long.every(
      (s, k) => near(s.median, level) || long.some((o, m) => Math.abs(m - k) > 1 && near(o.median, s.median)),
    );
    if (fits) return first.start;
  }
  return segments[segments.length - 1]!.start;
}

/**
 * Levels the steady stretch alternates between, when its long segments differ by more than tolerance: the low
 * and high level medians and how many times the level switched. Null when the stretch holds one level.
 */
export function alternationOf(
  segments: readonly Segment[],
  steadyStart: number,
  n: number,
  tolerance: number,
): { lowMs: number; highMs: number; switches: number } | null {
  const long = segments.filter((s) => s.start >= steadyStart && s.end - s.start > shortLimit(n));
  if (long.length < 3) return null;
  const levels = long.map((s) => s.median);
  const low = levels.reduce((a, b) => Math.min(a, b));
  const high = levels.reduce((a, b) => Math.max(a, b));
  // Two levels at least twice the tolerance apart: closer ones are one level wandering.
  if (high / low - 1 <= 2 * tolerance) return null;
  const mid = Math.sqrt(low * high);
  let switches = 0;
  for (let i = 1; i < levels.length; i++) if (levels[i]! > mid !== levels[i - 1]! > mid) switches++;
  return switches >= 2 ? { lowMs: low, highMs: high, switches } : null;
}

/** Segments up to this many values are excursions, not levels: 3% of the series, and at least 3 values. */
function shortLimit(n: number): number {
  return Math.max(3, Math.floor(n * 0.03));
}

/** The median of segment medians, each weighted by its length: the level of a stretch, cheaply. */
function weightedMedianLevel(segments: readonly Segment[]): number {
  const sorted = [...segments].sort((a, b) => a.median - b.median);
  const total = segments.reduce((a, s) => a + (s.end - s.start), 0);
  let acc = 0;
  for (const s of sorted) {
    acc += s.end - s.start;
    if (acc >= total / 2) return s.median;
  }
  return sorted[sorted.length - 1]!.median;
}

function classify(
  segments: readonly Segment[],
  steadyStart: number,
  n: number,
  o: SteadyOptions,
  weights?: readonly number[],
): SteadyClass {
  // No level change seen: flat, however few values (a short fixed run can't show more).
  if (steadyStart === 0) return 'flat';
  if (!steadyLongEnough(n, steadyStart, o, weights)) return 'no-steady-state';
  // A level (not an excursion) faster before than now, beyond tolerance: the cell got slower ("slowdown").
  const slower = slowdownRatio(segments, steadyStart, n);
  return slower !== null && slower > 1 / (1 - o.tolerance) ? 'slowdown' : 'warm-up';
}

/**
 * The steady level against the fastest level (a long segment, not an excursion) before the steady state: above 1
 * the cell got slower. Null when nothing long came before. Classification and the slowdown flag both read it.
 */
export function slowdownRatio(segments: readonly Segment[], steadyStart: number, n: number): number | null {
  const short = shortLimit(n);
  const before = segments.filter((s) => s.end <= steadyStart && s.end - s.start > short);
  if (!before.length) return null;
  const fastest = before.reduce((m, s) => Math.min(m, s.median), Infinity);
  return fastest > 0 ? weightedMedianLevel(segments.filter((s) => s.start >= steadyStart)) / fastest : null;
}
