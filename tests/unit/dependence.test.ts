import { describe, expect, it } from 'vitest';
import { ratioOfMedians } from '../../src/lib/measure/compare.ts';
import { autocorrelationTime, bootstrapBlockLength } from '../../src/lib/measure/dependence.ts';
import { mulberry32 } from '../../src/lib/rng.ts';
import { driftOf } from '../../src/lib/measure/validity.ts';

/** Timings whose log follows an AR(1) process with lag-1 correlation `rho` (a machine's wander), about +-10%. */
function wandering(seed: number, n: number, rho: number, centre = 10): number[] {
  const rng = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rng() + 1e-12)) * Math.cos(2 * Math.PI * rng());
  let z = gauss();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    z = rho * z + Math.sqrt(1 - rho * rho) * gauss();
    out.push(centre * Math.exp(0.1 * z));
  }
  return out;
}

describe('dependence of timings in time order', () => {
  it('independent samples: autocorrelation time about 1, and the plain bootstrap (blocks of 1)', () => {
    for (const seed of [1, 2, 3]) {
      const x = wandering(seed, 1000, 0);
      expect(autocorrelationTime(x)).toBeLessThan(1.5);
      expect(bootstrapBlockLength(x)).toBe(1);
    }
  });
  it('AR(1) with rho 0.8: the median indicator`s autocorrelation time is near its theory (about 6.4)', () => {
    const taus = [1, 2, 3].map((seed) => autocorrelationTime(wandering(seed, 5000, 0.8)));
    for (const t of taus) {
      expect(t).toBeGreaterThan(4.5);
      expect(t).toBeLessThan(9);
    }
    // Blocks hold about two autocorrelation times, and never more than a fifth of the series.
    expect(bootstrapBlockLength(wandering(1, 5000, 0.8))).toBeGreaterThanOrEqual(9);
    expect(bootstrapBlockLength(wandering(1, 40, 0.95))).toBeLessThanOrEqual(8);
  });
  it('two wandering series of one machine: the ratio CI seldom excludes 1 (the plain bootstrap did 4 times in 10)', () => {
    let excluded = 0;
    const pairs = 40;
    for (let t = 0; t < pairs; t++) {
      const r = ratioOfMedians(wandering(2 * t + 1, 300, 0.8), wandering(2 * t + 2, 300, 0.8), t, 300);
      if (r.ci95[0] > 1 || r.ci95[1] < 1) excluded++;
    }
    expect(excluded / pairs).toBeLessThanOrEqual(0.2);
  });
  it('drift: wander alone is seldom flagged; a real 15% step in the last third still is', () => {
    let flagged = 0;
    for (let seed = 1; seed <= 30; seed++) if (driftOf(wandering(seed, 300, 0.8))!.flagged) flagged++;
    expect(flagged).toBeLessThanOrEqual(4);
    const stepped = wandering(99, 300, 0.8).map((v, i) => (i >= 200 ? v * 1.15 : v));
    const d = driftOf(stepped)!;
    expect(d.flagged).toBe(true);
    expect(d.ratio).toBeGreaterThan(1.08);
  });
});
