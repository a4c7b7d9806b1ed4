/**
 * How strongly a series of timings in time order depends on its own past. A machine's speed wanders (here, memory-
 * bound passes ran 10-30% slower for a few hundred ms at a time on an idle 2-core VM), so neighbouring samples are
 * alike, and n such samples carry less than n samples' worth of evidence. Resampling them one by one (the plain
 * bootstrap) then gives intervals too narrow, and differences that are only the wander look real. Pure.
 */
import { mean, median } from './stats.ts';

/** The longest lag looked at: enough for wander of a few hundred samples, bounded so long series stay cheap. */
export const MAX_LAG = 500;

/**
 * Integrated autocorrelation time of the series' above/below-median indicator: 1 for independent samples, about
 * (1 + rho) / (1 - rho) for an AR(1) series with lag-1 correlation rho; n / tau samples are worth independent ones.
 * The indicator, not the values, because medians are what the lab compares (and one huge outlier must not rule).
 * Geyer's initial positive sequence: sums of pairs of lags are added while they stay positive, which stops the sum
 * where the estimated correlations turn to noise.
 */
export function autocorrelationTime(ordered: readonly number[]): number {
  const n = ordered.length;
  if (n < 8) return 1;
  const med = median(ordered);
  const signs = ordered.map((v) => (v > med ? 1 : v < med ? -1 : 0));
  const centre = mean(signs);
  const c = signs.map((v) => v - centre);
  let c0 = 0;
  for (const v of c) c0 += v * v;
  if (c0 === 0) return 1;
  const rho = (k: number) => {
    let s = 0;
    for (let i = k; i < n; i++) s += c[i]! * c[i - k]!;
    return s / c0;
  };
  const maxLag = Math.min(MAX_LAG, Math.floor(n / 4));
  let tau = -1;
  for (let m = 0; 2 * m + 1 <= maxLag; m++) {
    const pair = (m === 0 ? 1 : rho(2 * m)) + rho(2 * m + 1);
    if (pair <= 0) break;
    tau += 2 * pair;
  }
  return Math.max(1, tau);
}

/**
 * Block length for a circular block bootstrap of the series' median: about two autocorrelation times, so a block
 * holds a stretch of wander whole; 1 (the plain bootstrap) for independent samples. At most a fifth of the series,
 * so a short series is still resampled from several blocks.
 */
export function bootstrapBlockLength(ordered: readonly number[]): number {
  const tau = autocorrelationTime(ordered);
  if (tau < 1.5) return 1;
  return Math.max(1, Math.min(Math.ceil(2 * tau), Math.floor(ordered.length / 5)));
}
