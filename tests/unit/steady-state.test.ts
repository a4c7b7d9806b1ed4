/**
 * Changepoint analysis on made-up series with a known truth: each shape from the issue is classified as expected
 * and its changepoint found within a few samples.
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/lib/rng.ts';
import { analyseSteadyState } from '../../src/lib/measure/steady-state.ts';
import { SteadyState, type Sample } from '../../src/lib/schema.ts';
import { describeWarmup, steadyStateOf, warmupShort } from '../../src/lib/measure/warmup-curve.ts';
import { validityFlags } from '../../src/lib/measure/validity.ts';
import { findChangepoints } from '../../src/lib/measure/changepoints.ts';
import { fakeSample } from './fixtures.ts';

/** Multiplicative noise (sd about `sd`) and, with probability `spikeRate`, a 2-7x spike: a busy machine's timings. */
function series(n: number, level: (i: number) => number, seed: number, sd = 0.04, spikeRate = 0.02): number[] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => {
    const noise = Math.exp(sd * 2 * (rng() + rng() + rng() - 1.5));
    const v = level(i) * noise;
    return rng() < spikeRate ? v * (2 + 5 * rng()) : v;
  });
}

describe('steady state by changepoint analysis', () => {
  it('a step down at sample 150 (the ocr-cls shape): warm-up, changepoint within a few samples, the later level', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const a = analyseSteadyState(series(400, (i) => (i < 150 ? 15 : 5), seed));
      expect(a.classification).toBe('warm-up');
      expect(a.changepoints).toHaveLength(1);
      expect(Math.abs(a.changepoints[0]! - 150)).toBeLessThanOrEqual(3);
      expect(a.steadyStart).toBe(a.changepoints[0]);
      expect(Math.abs(a.steadyMedian / 5 - 1)).toBeLessThan(0.02);
    }
  });

  it('a slow slide (tfjs-wasm on tiny-cnn, 0.45 -> 0.31 ms over 150 samples): warm-up, steady once within 2% of the end level', () => {
    for (const seed of [1, 2, 3]) {
      const a = analyseSteadyState(series(500, (i) => (i < 150 ? 0.45 - (0.14 * i) / 150 : 0.31), seed));
      expect(a.classification).toBe('warm-up');
      // The slide is within 2% of 0.31 from sample ~137 on: the steady start lies near there, never at 0.
      expect(a.steadyStart).toBeGreaterThan(90);
      expect(a.steadyStart).toBeLessThan(175);
      expect(Math.abs(a.steadyMedian / 0.31 - 1)).toBeLessThan(0.02);
    }
  });

  it('a slowdown (1.0 -> 1.3 at sample 200): classified slowdown, steady is the slower level, and flagged', () => {
    const a = analyseSteadyState(series(400, (i) => (i < 200 ? 1 : 1.3), 7));
    expect(a.classification).toBe('slowdown');
    expect(Math.abs(a.changepoints[0]! - 200)).toBeLessThanOrEqual(3);
    expect(a.steadyMedian).toBeGreaterThan(1.25);
  });

  it('a slow creep inside tolerance (ocr-cls here: 1.85 ms, then 1.79 from second 7): the front of the creep is trimmed', () => {
    const a = analyseSteadyState(series(1200, (i) => (i < 100 ? 6 : i < 600 ? 1.85 : 1.79), 71, 0.02, 0.01));
    // 1.85 and 1.79 lie within the 5% tolerance, but the stretch from 100 would have thirds 3% apart.
    expect(Math.abs(a.steadyStart - 600)).toBeLessThanOrEqual(5);
    expect(Math.abs(a.steadyMedian / 1.79 - 1)).toBeLessThan(0.01);
    expect(a.classification).toBe('warm-up');
  });

  it('a single spike, and pure noise (with the odd spike): flat, no changepoint', () => {
    const spike = series(400, () => 2, 11, 0.03, 0);
    spike[100] = 50;
    expect(analyseSteadyState(spike)).toMatchObject({ classification: 'flat', changepoints: [], steadyStart: 0 });
    for (const seed of [12, 13, 14]) {
      expect(analyseSteadyState(series(400, () => 2, seed, 0.1)).classification).toBe('flat');
      // Heavy noise (sd ~30%): still no level change invented.
      expect(analyseSteadyState(series(400, () => 2, seed, 0.3)).changepoints).toEqual([]);
    }
  });

  it('a burst of slow passes inside a steady stretch does not restart the steady state', () => {
    const xs = series(600, (i) => (i < 100 ? 3 : 1), 21, 0.03, 0);
    for (let i = 400; i < 412; i++) xs[i] = 2.5; // 12 slow passes (a background job), then back to normal
    const a = analyseSteadyState(xs);
    expect(a.classification).toBe('warm-up');
    expect(Math.abs(a.steadyStart - 100)).toBeLessThanOrEqual(3);
  });

  it('a machine that flips between two levels after warm-up: the mixture is the steady state, flagged as alternating', () => {
    // 3x warm-up for 150 samples, then 100-200 sample stretches at 1.0 or 1.5 (another process on a shared core).
    const xs = series(2000, (i) => (i < 150 ? 3 : Math.floor((i - 150) / 150) % 2 === 0 ? 1 : 1.5), 61, 0.03, 0);
    const a = analyseSteadyState(xs);
    expect(Math.abs(a.steadyStart - 150)).toBeLessThanOrEqual(3);
    expect(a.classification).toBe('warm-up');
    expect(a.alternation).not.toBeNull();
    expect(a.alternation!.lowMs).toBeCloseTo(1, 1);
    expect(a.alternation!.highMs).toBeCloseTo(1.5, 1);
    expect(a.alternation!.switches).toBeGreaterThanOrEqual(8);
    // One level: no alternation.
    expect(analyseSteadyState(series(400, (i) => (i < 150 ? 15 : 5), 1)).alternation).toBeNull();
  });

  it('a change at the very end leaves no steady state', () => {
    const a = analyseSteadyState(series(400, (i) => (i < 385 ? 1 : 2), 31));
    expect(a.classification).toBe('no-steady-state');
  });

  it('long series are searched on bin medians and the changepoint is placed on single samples', () => {
    const xs = series(50_000, (i) => (i < 12_345 ? 3 : 1), 41, 0.1);
    const cps = findChangepoints(xs);
    expect(cps).toHaveLength(1);
    expect(Math.abs(cps[0]! - 12_345)).toBeLessThanOrEqual(5);
  });

  it('short series: nothing to split, flat', () => {
    expect(analyseSteadyState([5, 4, 3])).toMatchObject({ classification: 'flat', steadyStart: 0, changepoints: [] });
    expect(() => analyseSteadyState([])).toThrow(RangeError);
  });
});

describe('the warm-up curve as a result', () => {
  const samples = (totals: number[], iterations = 2): Sample[] =>
    totals.map((total, i) => fakeSample(total, { preprocess: null, iterations, at: 1000 + i }));

  it('times and passes to the steady state count the passes before sampling and each sample`s passes', () => {
    const totals = series(300, (i) => (i < 100 ? 3 : 1), 51, 0.02, 0);
    const { steadyState: s, segmentOf } = steadyStateOf(
      samples(totals),
      { passes: 10, totalMs: 40, passMs: [4, 4, 4, 4, 4, 4, 4, 4, 4, 4] },
      10,
    );
    expect(s.classification).toBe('warm-up');
    const cp = s.steadyStart;
    expect(Math.abs(cp - 100)).toBeLessThanOrEqual(3);
    // 10 passes before sampling, then 2 passes per sample.
    expect(s.warmupPasses).toBe(10 + 2 * cp);
    const expectedMs = 40 + totals.slice(0, cp).reduce((a, t) => a + 2 * t, 0);
    expect(s.warmupMs).toBeCloseTo(expectedMs, 6);
    expect(s.changepoints[0]).toMatchObject({ sample: cp, afterPasses: 10 + 2 * cp, at: 1000 + cp });
    expect(s.changepoints[0]!.ratio).toBeCloseTo(1 / 3, 1);
    expect(s.firstPasses).toMatchObject({ count: 10, medianMs: 4 });
    expect(s.firstPasses!.ratio).toBeCloseTo(4, 1);
    expect(s.steadySamples).toBe(300 - cp);
    expect(segmentOf[0]).toBe(0);
    expect(segmentOf[299]).toBe(1);
    expect(warmupShort(s)).toMatch(/^\d+ ms\/\d+p 4\.0x$/);
    expect(describeWarmup(s)).toMatch(/warm-up: steady after .* first 10 passes 4\.0x/);
    expect(
      validityFlags(
        { pageHidden: false, drift: null, softwareGpu: false, coarseStages: [], unsupportedPercentiles: [] },
        s,
      ),
    ).toEqual([]);
  });

  it('a slowdown is a drift flag, with the time of the change', () => {
    const { steadyState: s } = steadyStateOf(
      samples(
        series(300, (i) => (i < 150 ? 1 : 1.5), 52, 0.02, 0),
        1,
      ),
      { passes: 0, totalMs: 0, passMs: [] },
      10,
    );
    expect(s.classification).toBe('slowdown');
    const flags = validityFlags(
      { pageHidden: false, drift: null, softwareGpu: false, coarseStages: [], unsupportedPercentiles: [] },
      s,
    );
    expect(flags.join(' ')).toMatch(/drift: slowdown \+5\d% from 0\.1 s \(pass 15\d\) on/);
  });
});

describe('passes under one timer tick', () => {
  it('keeps every level-change ratio finite and positive when a segment median is 0 (schema-valid)', () => {
    // A calibration cell asked for no busy time: most passes read 0 ms, some one 5 us tick.
    const totals = Array.from({ length: 300 }, (_, i) => (i < 100 ? 0.005 : i < 200 ? 0 : 0.005));
    const samples = totals.map((total, i) => fakeSample(total, { at: i }));
    const { steadyState } = steadyStateOf(samples, { passes: 0, totalMs: 0, passMs: [] }, 10);
    for (const c of steadyState.changepoints) {
      expect(Number.isFinite(c.ratio)).toBe(true);
      expect(c.ratio).toBeGreaterThan(0);
    }
    expect(() => SteadyState.parse(JSON.parse(JSON.stringify(steadyState)))).not.toThrow();
  });
});
