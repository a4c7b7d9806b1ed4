/**
 * Open-loop load: request arrival times that don't depend on completions (as in production), so queues build up
 * when the system is slower than the load. Seeded, so a run can be replayed.
 */
import { mulberry32 } from '../rng.ts';

/** Poisson arrivals at `ratePerS` for `durationMs`: exponential gaps, times in ms from 0. */
export function poissonArrivals(ratePerS: number, durationMs: number, seed: number): number[] {
  if (!(ratePerS > 0 && ratePerS <= 100_000))
    throw new RangeError(`rate must be in (0, 100000] requests/s, got ${ratePerS}`);
  if (!(durationMs > 0 && durationMs <= 3_600_000))
    throw new RangeError(`duration must be in (0, 3600000] ms, got ${durationMs}`);
  const rng = mulberry32(seed);
  const meanGap = 1000 / ratePerS;
  const out: number[] = [];
  // 1 - rng() is in (0, 1]: log() stays finite.
  for (let t = -Math.log(1 - rng()) * meanGap; t < durationMs; t += -Math.log(1 - rng()) * meanGap) out.push(t);
  return out;
}

/** A recorded trace (arrival times in ms, any order) checked and sorted; the same shape as poissonArrivals. */
export function traceArrivals(times: readonly number[]): number[] {
  for (const t of times)
    if (!Number.isFinite(t) || t < 0) throw new RangeError(`trace times must be finite ms >= 0, got ${t}`);
  return [...times].sort((a, b) => a - b);
}
