import { describe, expect, it } from 'vitest';
import { SamplingController, warmupDecision } from '../../src/lib/measure/sampling.ts';
import { describeStop, neededAdvice, neededShort } from '../../src/lib/measure/sampling-words.ts';
import { chooseIterations, growIterations } from '../../src/lib/measure/timer-guard.ts';
import { thirdsDisagree } from '../../src/lib/measure/steady-state.ts';
import { SamplingSettings } from '../../src/lib/schema.ts';
import { mulberry32 } from '../../src/lib/rng.ts';

const settings = (over: Record<string, unknown> = {}) => SamplingSettings.parse(over);

/** Drives a controller with samples from `draw`, each sample taking `msPer` of (made-up) time. */
function drive(c: SamplingController, draw: () => number, msPer = 1): number[] {
  const blocks: number[] = [];
  for (let n = c.nextBlock(); n > 0; n = c.nextBlock()) {
    blocks.push(n);
    c.record(Array.from({ length: n }, draw), n * msPer);
  }
  return blocks;
}

describe('SamplingController: fixed mode', () => {
  it('takes exactly the asked count, in blocks', () => {
    const c = new SamplingController(settings({ mode: 'fixed', samples: 25, blockSize: 10 }));
    expect(drive(c, () => 1)).toEqual([10, 10, 5]);
    expect(c.stopReason).toBe('fixed-count');
    const r = c.report({ iterations: 1, why: 'fixed' }, { passes: 5, stop: 'fixed' });
    expect(r).toMatchObject({
      mode: 'fixed',
      stopReason: 'fixed-count',
      precisionReached: null,
      targetCI: null,
      blocks: 3,
    });
  });
});

describe('SamplingController: auto mode', () => {
  it('stops at the minimum when the data are already precise', () => {
    const c = new SamplingController(settings({ minSamples: 10, targetCI: 0.02, minWarmupMs: 0 }));
    let i = 0;
    drive(c, () => 10 + (i++ % 3) * 0.01); // 10.00, 10.01, 10.02: CI half-width well under 2%
    expect(c.count).toBe(10);
    expect(c.stopReason).toBe('precision-reached');
    expect(c.report({ iterations: 1, why: '' }, { passes: 3, stop: 'primed' }).precisionReached).toBe(true);
  });
  it('samples until the CI of the median is within the target on noisy data', () => {
    const rng = mulberry32(7);
    const c = new SamplingController(
      settings({ targetCI: 0.02, maxSamples: 5000, maxSamplingMs: 3_600_000, minWarmupMs: 0 }),
    );
    drive(c, () => 10 * Math.exp(0.2 * (rng() - 0.5)));
    expect(c.stopReason).toBe('precision-reached');
    expect(c.achievedCI()!).toBeLessThanOrEqual(0.02);
    expect(c.count).toBeGreaterThan(10);
  });
  it('says precision was not reached when the sample cap stops it', () => {
    const rng = mulberry32(3);
    const c = new SamplingController(settings({ targetCI: 0.001, maxSamples: 40, maxSamplingMs: 3_600_000 }));
    drive(c, () => 1 + rng());
    expect(c.count).toBe(40);
    expect(c.stopReason).toBe('max-samples');
    const r = c.report({ iterations: 1, why: '' }, { passes: 3, stop: 'primed' });
    expect(r.precisionReached).toBe(false);
    expect(describeStop(r)).toMatch(/sample cap: precision not reached/);
  });
  it('a cell stopped by the time cap says how long the target would take, and that time reaches it', () => {
    // Autocorrelated noise, as this host's timings (AR(1) in log space, lag-1 0.5, about +-25%), 5 ms per sample.
    const series = (seed: number) => {
      const rng = mulberry32(seed);
      let z = 0;
      return () => {
        z = 0.5 * z + 0.3 * (rng() - 0.5) * 2;
        return 10 * Math.exp(z);
      };
    };
    const run = (seed: number, capMs: number) => {
      const c = new SamplingController(
        settings({ targetCI: 0.02, maxSamples: 100_000, maxSamplingMs: Math.ceil(capMs), minWarmupMs: 0 }),
      );
      drive(c, series(seed), 5);
      return c.report({ iterations: 1, why: '' }, { passes: 3, stop: 'primed' });
    };
    const short = run(1, 1_000);
    expect(short.stopReason).toBe('max-time');
    expect(short.neededMs!).toBeGreaterThan(2 * short.samplingMs);
    expect(describeStop(short)).toMatch(/~\d+ s of sampling would reach it/);
    // Given the time a short run named, a fresh series of the same kind meets the target in most seeds (the
    // projection rests on 10 batch medians, so it is +-50%); given a quarter of it, it rarely does.
    let met = 0;
    let metQuarter = 0;
    for (let seed = 20; seed < 28; seed++) {
      const needed = run(seed, 1_000).neededMs!;
      if (run(seed + 100, needed).precisionReached) met++;
      if (run(seed + 100, needed / 4).precisionReached) metQuarter++;
    }
    expect(met).toBeGreaterThanOrEqual(5);
    expect(metQuarter).toBeLessThanOrEqual(1);
    // In words: whole seconds rounded up, never under what the cell already had; past an hour, out of reach.
    expect(neededShort({ neededMs: 25_300, samplingMs: 10_000 })).toBe('~26 s');
    expect(neededShort({ neededMs: 9_000, samplingMs: 10_000 })).toBe('~11 s');
    expect(neededAdvice({ neededMs: 25_300, samplingMs: 10_000 })).toMatch(/a time cap of 26 s: --max-time 26\)/);
    expect(neededShort({ neededMs: 3_700_000, samplingMs: 10_000 })).toBe('over an hour');
    expect(neededShort({ neededMs: null, samplingMs: 10_000 })).toBeNull();
    // No projection when the target was met.
    expect(run(2, 3_600_000)).toMatchObject({ stopReason: 'precision-reached', neededMs: null });
  });
  it('stops at the time cap, but never below the minimum, and sizes blocks to the time left', () => {
    const rng = mulberry32(4);
    const c = new SamplingController(
      settings({ targetCI: 0.001, minSamples: 12, maxSamples: 1000, maxSamplingMs: 100, blockSize: 10 }),
    );
    const blocks = drive(c, () => 1 + rng(), 6); // 6 ms per sample: the minimum alone takes 72 ms
    expect(blocks[0]).toBe(10);
    expect(blocks[1]).toBe(2); // just what the minimum still needs
    expect(blocks[2]).toBe(4); // ~100 ms blocks, but only the 28 ms left
    expect(c.count).toBeGreaterThanOrEqual(12);
    expect(c.count).toBeLessThanOrEqual(18); // 100 ms / 6 ms, plus at most one sample over
    expect(c.stopReason).toBe('max-time');
  });
  it('sizes blocks to about 100 ms once the minimum is in, so the analysis runs per 100 ms, not per 10 samples', () => {
    const c = new SamplingController(settings({ minSamples: 10, maxSamplingMs: 10_000, targetCI: 0.0001 }));
    const blocks = drive(c, () => 1, 0.5);
    expect(blocks.slice(0, 3)).toEqual([10, 200, 200]);
  });
});

describe('passes before sampling, and the timer guard', () => {
  it('auto mode only primes: enough passes (or time) to size the samples, never a verdict on warm-up', () => {
    const s = settings({ warmup: 3 });
    expect(warmupDecision(s, [50, 20], 1)).toBeNull(); // below the least passes
    expect(warmupDecision(s, [50, 20, 12], 10)).toBeNull(); // neither 10 passes nor 300 ms yet
    expect(warmupDecision(s, [50, 20, 12], 301)).toBe('primed');
    expect(
      warmupDecision(
        s,
        Array.from({ length: 10 }, () => 1),
        10,
      ),
    ).toBe('primed');
  });
  it('honours the minimum and the caps', () => {
    expect(warmupDecision(settings({ warmup: 4 }), [1, 1, 1], 1e9)).toBeNull();
    expect(warmupDecision(settings({ warmup: 0, maxWarmup: 0 }), [], 0)).toBe('max-passes');
    expect(warmupDecision(settings({ warmup: 0, maxWarmupMs: 0 }), [], 0)).toBe('max-time');
    expect(warmupDecision(settings({ mode: 'fixed', warmup: 2 }), [100, 1], 1)).toBe('fixed');
    expect(warmupDecision(settings({ mode: 'fixed', warmup: 2 }), [100], 1)).toBeNull();
  });
  it('times several passes per sample when a pass is under 50 ticks', () => {
    const auto = settings();
    expect(chooseIterations(auto, 2, 0.1).iterations).toBe(3); // 50 ticks of 0.1 ms = 5 ms over 2 ms passes
    expect(chooseIterations(auto, 0.01, 0.005).iterations).toBe(25);
    expect(chooseIterations(auto, 5, 0.1).iterations).toBe(1);
    expect(chooseIterations(settings({ mode: 'fixed' }), 0.001, 0.1).iterations).toBe(1);
    expect(chooseIterations(settings({ iterations: 7 }), 100, 0.1).iterations).toBe(7);
  });
  it('keeps a sample at least 0.25 ms long under a fine clock (Node, for native cells)', () => {
    const auto = settings();
    // 50 ticks of 1 ns would be 50 ns: one 20 us pass would do, and a 10 s budget would take 500,000 samples.
    expect(chooseIterations(auto, 0.02, 1e-6).iterations).toBe(13); // 0.25 ms / 0.02 ms
    expect(chooseIterations(auto, 0.02, 1e-6).why).toMatch(/at least 0\.25 ms/);
    expect(chooseIterations(auto, 0.3, 1e-6).iterations).toBe(1);
    expect(growIterations(13, 0.2, 1e-6)).not.toBeNull();
    expect(growIterations(13, 0.26, 1e-6)).toBeNull();
  });
  it('grows a guess that fell short until k passes span 50 ticks', () => {
    expect(growIterations(13, 0.3, 0.005)).toBeNull(); // 0.3 ms >= 50 x 5 us
    expect(growIterations(13, 0.05, 0.005)).toBe(78); // 13 x 0.25 / 0.05 x 1.2
    expect(growIterations(10, 0.24, 0.005)).toBe(20); // at least doubles
    expect(growIterations(10_000, 0, 0.005)).toBeNull(); // capped
  });
});

describe('SamplingController: the steady state decides', () => {
  /** The ocr-cls shape: 15 ms passes until V8 optimises the wasm, 5 ms after; each sample's time is its value. */
  const tierUp = (at: number) => {
    const rng = mulberry32(9);
    let i = 0;
    return () => (i++ < at ? 15 : 5) * Math.exp(0.03 * (rng() - 0.5));
  };
  const drive2 = (c: SamplingController, draw: () => number) => {
    for (let n = c.nextBlock(); n > 0; n = c.nextBlock()) {
      const xs = Array.from({ length: n }, draw);
      c.record(
        xs,
        xs.reduce((a, b) => a + b, 0),
      );
    }
  };

  it('does not stop on a flat-looking first phase before the least warm-up time, and reports the later level', () => {
    const c = new SamplingController(settings({ minWarmupMs: 3000, maxSamplingMs: 20_000 }));
    drive2(c, tierUp(166)); // ~2.5 s of 15 ms passes, then 5 ms
    expect(c.stopReason).toBe('precision-reached');
    const a = c.steady()!;
    expect(a.classification).toBe('warm-up');
    expect(Math.abs(a.steadyStart - 166)).toBeLessThanOrEqual(3);
    expect(a.steadyMedian).toBeGreaterThan(4.9);
    expect(a.steadyMedian).toBeLessThan(5.1);
    expect(c.achievedCI()!).toBeLessThanOrEqual(0.02);
  });
  it('without the least warm-up time it would have stopped in the slow phase: the setting is what guards it', () => {
    const c = new SamplingController(settings({ minWarmupMs: 0, maxSamplingMs: 20_000 }));
    drive2(c, tierUp(166));
    expect(c.steady()!.steadyMedian).toBeGreaterThan(14);
  });
  it('counts the passes before sampling towards the least warm-up time', () => {
    const c = new SamplingController(settings({ minWarmupMs: 3000, maxSamplingMs: 20_000 }), {
      passes: 100,
      totalMs: 2990,
    });
    drive2(c, () => 1);
    expect(c.stopReason).toBe('precision-reached');
    expect(c.count).toBeLessThanOrEqual(20);
  });
  it('a steady stretch that still moves (its thirds disagree) is not precise yet', () => {
    const rng = mulberry32(17);
    const rising = Array.from({ length: 300 }, (_, i) => (i < 150 ? 1 : 1.1) * Math.exp(0.02 * (rng() - 0.5)));
    expect(thirdsDisagree(rising, 0.05)).toBe(true);
    expect(
      thirdsDisagree(
        rising.map((_, i) => 1 + (0.02 * ((i * 7919) % 13)) / 13),
        0.05,
      ),
    ).toBe(false);
  });
  it('the time cap rules: a series that never settles stops there, precision not reached', () => {
    let i = 0;
    const c = new SamplingController(settings({ minWarmupMs: 0, maxSamplingMs: 2000 }));
    drive2(c, () => 1 + 0.3 * Math.sin(i++ / 10)); // a level that keeps swinging by ±30%
    expect(c.stopReason).toBe('max-time');
    expect(c.report({ iterations: 1, why: '' }, { passes: 0, stop: 'primed' }).precisionReached).toBe(false);
  });
});
