/**
 * Changepoints of a series' level: PELT (Killick et al. 2012) with a Gaussian mean-change cost on log times, after a
 * Hampel filter takes out isolated spikes; long series are searched on bin medians and each changepoint then placed
 * on single samples within its bins. Why these choices: steady-state.ts. Pure.
 */
import { quantile, sortSamples } from './stats.ts';

/** The search runs on at most this many points (bin medians when the series is longer). */
export const MAX_POINTS = 400;
/** Penalty per changepoint, in units of ln(points): stricter than BIC (2 ln n), since timing noise is correlated. */
export const PENALTY_PER_LOG_N = 12;
/** The shortest segment, in points of the search. */
export const MIN_SEGMENT_POINTS = 4;
/** A point further than this many noise scales from its local median is a spike (Hampel filter). */
const SPIKE_SCALES = 5;
const HAMPEL_HALF_WINDOW = 3;
/** Noise floor, relative (log units): quantised or constant series would otherwise have zero noise. */
const MIN_NOISE = 0.002;

export function medianOf(values: readonly number[], start: number, end: number): number {
  return quantile(sortSamples(values.slice(start, end)), 0.5);
}

/** Changepoints (sample indices, ascending) of the series' level. */
export function findChangepoints(values: readonly number[]): number[] {
  const n = values.length;
  if (n < 2 * MIN_SEGMENT_POINTS) return [];
  const floor = positiveFloor(values);
  const logs = values.map((v) => Math.log(Math.max(v, floor)));
  const binSize = Math.ceil(n / MAX_POINTS);
  const points: number[] = [];
  for (let s = 0; s < n; s += binSize) points.push(medianOf(logs, s, Math.min(n, s + binSize)));
  const { cleaned, noise } = despike(points);
  const cps = pelt(cleaned, noise);
  const out: number[] = [];
  for (const c of cps) {
    const at = c * binSize;
    out.push(binSize > 1 ? refine(logs, at, binSize) : at);
  }
  return out.filter((c, i) => c > 0 && c < n && (i === 0 || c > out[i - 1]!));
}

/** The smallest positive value / 10: zeros (a coarse timer) must not become -Infinity in log space. */
function positiveFloor(values: readonly number[]): number {
  let min = Infinity;
  for (const v of values) if (v > 0 && v < min) min = v;
  return Number.isFinite(min) ? min / 10 : 1e-9;
}

/**
 * Hampel filter: a point far from the median of its neighbours is replaced by that median. The noise scale is the
 * median absolute first difference of the cleaned series (scaled to a normal SD): level changes are rare, so they
 * barely move it, unlike a plain SD.
 */
function despike(xs: readonly number[]): { cleaned: number[]; noise: number } {
  const n = xs.length;
  const local = xs.map((_, i) =>
    medianOf(xs, Math.max(0, i - HAMPEL_HALF_WINDOW), Math.min(n, i + HAMPEL_HALF_WINDOW + 1)),
  );
  const resid = sortSamples(xs.map((x, i) => Math.abs(x - local[i]!)));
  const scale = Math.max(1.4826 * quantile(resid, 0.5), MIN_NOISE);
  const cleaned = xs.map((x, i) => (Math.abs(x - local[i]!) > SPIKE_SCALES * scale ? local[i]! : x));
  const diffs: number[] = [];
  for (let i = 1; i < n; i++) diffs.push(Math.abs(cleaned[i]! - cleaned[i - 1]!));
  const noise = diffs.length ? (1.4826 * quantile(sortSamples(diffs), 0.5)) / Math.SQRT2 : MIN_NOISE;
  return { cleaned, noise: Math.max(noise, MIN_NOISE) };
}

/**
 * PELT (pruned exact linear time) for changes in mean with known noise: minimises the sum of segment costs
 * (squared deviations / noise^2) plus `penalty` per changepoint, with segments of at least MIN_SEGMENT_POINTS.
 * Returns segment starts (point indices) after the first.
 */
function pelt(xs: readonly number[], noise: number): number[] {
  const n = xs.length;
  const L = MIN_SEGMENT_POINTS;
  if (n < 2 * L) return [];
  const s1 = new Float64Array(n + 1);
  const s2 = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    s1[i + 1] = s1[i]! + xs[i]!;
    s2[i + 1] = s2[i]! + xs[i]! * xs[i]!;
  }
  const inv = 1 / (noise * noise);
  const cost = (a: number, b: number) => {
    const m = b - a;
    const sum = s1[b]! - s1[a]!;
    return (s2[b]! - s2[a]! - (sum * sum) / m) * inv;
  };
  const penalty = PENALTY_PER_LOG_N * Math.log(n);
  const F = new Float64Array(n + 1).fill(Infinity);
  const last = new Int32Array(n + 1);
  F[0] = -penalty;
  let candidates: number[] = [0];
  for (let t = L; t <= n; t++) {
    let best = Infinity;
    let arg = 0;
    const costs = new Map<number, number>();
    for (const s of candidates) {
      if (t - s < L) continue;
      const c = F[s]! + cost(s, t);
      costs.set(s, c);
      if (c + penalty < best) {
        best = c + penalty;
        arg = s;
      }
    }
    F[t] = best;
    last[t] = arg;
    // Prune: a start that can't beat the best even before paying a penalty never will later.
    candidates = candidates.filter((s) => {
      const c = costs.get(s);
      return c === undefined || c <= best;
    });
    if (t <= n - L && Number.isFinite(F[t]!)) candidates.push(t);
  }
  const cps: number[] = [];
  for (let t = n; t > 0; t = last[t]!) if (last[t]! > 0) cps.push(last[t]!);
  return cps.reverse();
}

/**
 * Places a changepoint found between bins on single samples: within one bin either side, the split that leaves
 * the fewest samples on the wrong side of the midpoint between the two local levels (counts, so spikes don't pull).
 */
function refine(logs: readonly number[], at: number, binSize: number): number {
  const from = Math.max(0, at - binSize);
  const to = Math.min(logs.length, at + binSize);
  const before = medianOf(logs, from, at);
  const after = medianOf(logs, at, to);
  const mid = (before + after) / 2;
  const afterSide = (x: number) => (after < before ? x < mid : x > mid);
  // wrong(c) = after-side samples in [from, c) + before-side samples in [c, to); slide c and keep the least.
  let wrong = 0;
  for (let i = from; i < to; i++) if (!afterSide(logs[i]!)) wrong++;
  let best = wrong;
  let arg = from;
  for (let c = from + 1; c <= to; c++) {
    wrong += afterSide(logs[c - 1]!) ? 1 : -1;
    if (wrong < best) {
      best = wrong;
      arg = c;
    }
  }
  return arg;
}
