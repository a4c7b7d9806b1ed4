/**
 * Capacity under a latency budget: the highest offered rate whose percentile stays within it. Pure, with the
 * measurement injected, so the search itself is unit-tested. A number is only called a capacity with a failing
 * rate measured above it; when none failed within the allowed raises, it is reported as a lower bound.
 */
import type { CapacityResult } from '../schema/serving.ts';

export type CapacityProbe = CapacityResult['probes'][number];

export interface CapacitySearch {
  /** Highest passing rate measured, or null when every rate tried failed. */
  rate: number | null;
  /** [highest passing, lowest failing], both measured; null unless both ends were. */
  bracket: [number, number] | null;
  bound: CapacityResult['bound'];
  probes: CapacityProbe[];
}

/**
 * `sweep`: the probes the load sweep already measured. While no rate above the best passing one has failed, the
 * rate doubles (at most `maxRaises` probes); then bisection (at most `maxBisections` probes) until the bracket is
 * within 5% (or 1 req/s). All failing: halves below the lowest until one passes.
 */
export async function searchCapacity(
  sweep: readonly CapacityProbe[],
  measure: (rate: number) => Promise<CapacityProbe>,
  maxBisections: number,
  maxRaises = 8,
): Promise<CapacitySearch> {
  const probes = [...sweep];
  const best = () => Math.max(0, ...probes.filter((p) => p.pass).map((p) => p.rate));
  const lowestFailAbove = (r: number) =>
    Math.min(Infinity, ...probes.filter((p) => !p.pass && p.rate > r).map((p) => p.rate));

  for (let i = 0; i < maxRaises && best() > 0 && lowestFailAbove(best()) === Infinity; i++)
    probes.push(await measure(best() * 2));

  let lo = best();
  let hi = lowestFailAbove(lo);
  if (lo === 0) hi = Math.min(...probes.map((p) => p.rate));
  for (let i = 0; i < maxBisections && Number.isFinite(hi) && hi - lo > Math.max(1, lo * 0.05); i++) {
    const p = await measure(lo === 0 ? hi / 2 : (lo + hi) / 2);
    probes.push(p);
    if (p.pass) lo = p.rate;
    else hi = p.rate;
  }
  if (lo === 0) return { rate: null, bracket: null, bound: 'none', probes };
  return Number.isFinite(hi)
    ? { rate: lo, bracket: [lo, hi], bound: 'bracketed', probes }
    : { rate: lo, bracket: null, bound: 'at-least', probes };
}
