/** Invocations as a level of sampling: the level's CI, paired ratios, the planner, the merge into one cell. */
import { describe, expect, it } from 'vitest';
import { compareCells } from '../../src/lib/measure/compare.ts';
import { invocationFacts, mergeInvocations, widenToTick } from '../../src/lib/measure/invocation-merge.ts';
import { InvocationPlanner } from '../../src/lib/measure/invocation-plan.ts';
import {
  acrossInvocations,
  levelCI,
  pairedRatio,
  tQuantile975,
  unpairedRatio,
  type InvocationFacts,
} from '../../src/lib/measure/invocations.ts';
import { mulberry32, type Rng } from '../../src/lib/rng.ts';
import { SamplingSettings } from '../../src/lib/schema.ts';
import { orderedMedianCI, sortSamples, quantile, summarize } from '../../src/lib/measure/stats.ts';
import { steadySamples } from '../../src/lib/measure/warmup-curve.ts';
import { okCell } from './fixtures.ts';

/** A standard normal draw (Box-Muller) from a seeded generator. */
function normal(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/** One invocation's passes: its own level, then each pass scattered around it. */
function invocation(rng: Rng, trueLevel: number, betweenSd: number, withinSd: number, n: number): number[] {
  const level = trueLevel * (1 + betweenSd * normal(rng));
  return Array.from({ length: n }, () => level * (1 + withinSd * normal(rng)));
}

function factsOf(xs: number[]): InvocationFacts {
  const s = summarize(xs);
  return {
    medianMs: s.median,
    ci95: s.medianCI95,
    steadySamples: xs.length,
    warmupMs: 50,
    freshStartMs: 500,
    sampleMs: s.median,
  };
}

describe('the level across invocations', () => {
  it('covers the true level in 90-98% of trials with two-level data (between sd 5%, within 1%), where a one-level CI covers under half', () => {
    const rng = mulberry32(2024);
    const trials = 400;
    let twoLevel = 0;
    let oneInvocation = 0;
    for (let t = 0; t < trials; t++) {
      const runs = Array.from({ length: 4 }, () => invocation(rng, 1, 0.05, 0.01, 60));
      const across = acrossInvocations(runs.map(factsOf));
      if (across.ci95![0] <= 1 && 1 <= across.ci95![1]) twoLevel++;
      // What the lab said before: one invocation's passes.
      const one = orderedMedianCI(runs[0]!)!;
      if (one[0] <= 1 && 1 <= one[1]) oneInvocation++;
    }
    expect(twoLevel / trials).toBeGreaterThanOrEqual(0.9);
    expect(twoLevel / trials).toBeLessThanOrEqual(0.98);
    expect(oneInvocation / trials).toBeLessThan(0.5);
  });

  it('uses Student t with invocations - 1 degrees of freedom', () => {
    expect(tQuantile975(1)).toBeCloseTo(12.706, 3);
    expect(tQuantile975(2)).toBeCloseTo(4.303, 3);
    expect(tQuantile975(20)).toBeCloseTo(2.086, 2);
    expect(tQuantile975(30)).toBeCloseTo(2.042, 2);
    expect(tQuantile975(1000)).toBeCloseTo(1.962, 2);
    const { level, ci95, df } = levelCI([1, 2, 3]);
    expect(level).toBe(2);
    expect(df).toBe(2);
    expect(ci95![1] - 2).toBeCloseTo((4.303 * 1) / Math.sqrt(3), 3);
    expect(levelCI([5]).ci95).toBeNull();
    // A fractional df (Welch's) takes the wider interval below it; a time's CI never goes below 0.
    expect(tQuantile975(1.55)).toBe(12.706);
    expect(levelCI([1, 1.3]).ci95![0]).toBe(0);
  });

  it('splits variance into within and between, suggests samples per invocation, and flags levels that disagree', () => {
    const rng = mulberry32(5);
    const apart = [0.16, 0.163, 0.273].map((l) => factsOf(invocation(rng, l, 0, 0.01, 100)));
    const a = acrossInvocations(apart);
    expect(a.disagree).toBe(true);
    expect(a.betweenVar).toBeGreaterThan(a.withinVar * 10);
    // Kalibera & Jones: sqrt((fresh start / sample) x (per-sample within var / between var)).
    const perSample = apart.reduce((t, f) => t + ((f.ci95![1] - f.ci95![0]) / 3.92) ** 2 * f.steadySamples, 0) / 3;
    const sample = apart.reduce((t, f) => t + f.sampleMs, 0) / 3;
    const expected = Math.max(1, Math.round(Math.sqrt((500 / sample) * (perSample / a.betweenVar))));
    expect(a.suggestedSamples).toBe(expected);
    const alike = [1, 1, 1].map(() => factsOf(invocation(rng, 1, 0, 0.01, 100)));
    expect(acrossInvocations(alike).disagree).toBe(false);
  });
});

describe('ratios of invocations', () => {
  it('paired by round: shared wander cancels, so the CI is narrower than unpaired and still covers the true ratio', () => {
    const rng = mulberry32(11);
    let covered = 0;
    let narrower = 0;
    const trials = 300;
    for (let t = 0; t < trials; t++) {
      // Each round the machine sits at its own level (sd 8%) for both cells; the cells' own scatter is 1%.
      const machine = Array.from({ length: 5 }, () => 1 + 0.08 * normal(rng));
      const a = machine.map((m) => 1.2 * m * (1 + 0.01 * normal(rng)));
      const b = machine.map((m) => m * (1 + 0.01 * normal(rng)));
      const p = pairedRatio(a, b)!;
      const u = unpairedRatio(a, b)!;
      if (p.ci95[0] <= 1.2 && 1.2 <= p.ci95[1]) covered++;
      if (p.ci95[1] - p.ci95[0] < u.ci95[1] - u.ci95[0]) narrower++;
    }
    expect(covered / trials).toBeGreaterThan(0.9);
    expect(narrower / trials).toBeGreaterThan(0.9);
    expect(pairedRatio([1], [1])).toBeNull();
  });

  it("compareCells pairs the invocations of one run's cells, and falls back to the passes with one invocation", () => {
    const rng = mulberry32(3);
    const cellOf = (id: string, levels: number[]) => {
      const runs = levels.map((l, k) => okCell(id, l, 100 + k + Math.floor(rng() * 1000)));
      return mergeInvocations(runs, { stopReason: 'max-time', neededMs: null, warnings: [] });
    };
    const a = cellOf('m/ort:wasm/b1', [1.1, 1.3, 1.0]);
    const b = cellOf('m/tfjs:wasm/b1', [1.0, 1.18, 0.91]);
    const paired = compareCells(a, b, { paired: true });
    expect(paired.method).toBe('paired');
    expect(paired.pairs).toBe(3);
    const unpaired = compareCells(a, b);
    expect(unpaired.method).toBe('invocations');
    expect(paired.ci95[1] - paired.ci95[0]).toBeLessThan(unpaired.ci95[1] - unpaired.ci95[0]);
    const single = compareCells(okCell('m/ort:wasm/b1', 1.1, 1), okCell('m/tfjs:wasm/b1', 1, 2), { paired: true });
    expect(single.method).toBe('samples');
  });
});

describe('InvocationPlanner', () => {
  const settings = (over: Record<string, unknown> = {}) => SamplingSettings.parse({ maxSamplingMs: 9000, ...over });
  const fact = (medianMs: number, half = 0.01): InvocationFacts => ({
    medianMs,
    ci95: [medianMs - half, medianMs + half],
    steadySamples: 100,
    warmupMs: 200,
    freshStartMs: 800,
    sampleMs: 1,
  });

  it('auto mode: a pilot of three sharing the budget, then more only while the CI is wide and time is left', () => {
    const p = new InvocationPlanner(settings());
    expect(p.fixedCount).toBeNull();
    expect(p.settingsFor([], 0).maxSamplingMs).toBe(3000); // the pilot: the budget in three
    expect(p.wantsAnother([fact(1), fact(1.01)], 6000)).toBe(true); // still the pilot
    // Levels 1.00-1.02: t(2) x sd / sqrt(3) = ±2.5%, wider than ±2%; time is left.
    const wide = [fact(1), fact(1.02), fact(1.01)];
    expect(p.wantsAnother(wide, 5000)).toBe(true);
    const next = p.settingsFor(wide, 5000).maxSamplingMs;
    expect(next).toBeGreaterThanOrEqual(100);
    expect(next).toBeLessThanOrEqual(4000);
    expect(p.wantsAnother(wide, 9000)).toBe(false); // budget spent
    expect(p.stopReason(wide, 9000)).toBe('max-time');
    expect(p.neededMs(wide, 9000)).toBeGreaterThan(9000);
    const tight = [fact(1), fact(1.001), fact(1.002)];
    expect(p.wantsAnother(tight, 3000)).toBe(false);
    expect(p.stopReason(tight, 3000)).toBe('precision-reached');
  });

  it('a fixed count, and fixed mode (one invocation unless asked)', () => {
    const four = new InvocationPlanner(settings({ invocations: 4 }));
    expect(four.settingsFor([], 0).maxSamplingMs).toBe(2250);
    expect(four.wantsAnother([fact(1), fact(1), fact(1)], 100)).toBe(true);
    expect(four.wantsAnother([fact(1), fact(1), fact(1), fact(1.5)], 100)).toBe(false);
    expect(four.stopReason([fact(1), fact(1.2), fact(1), fact(1.5)], 100)).toBe('max-invocations');
    const fixed = new InvocationPlanner(settings({ mode: 'fixed' }));
    expect(fixed.fixedCount).toBe(1);
    expect(fixed.wantsAnother([fact(1)], 0)).toBe(false);
    expect(fixed.stopReason([fact(1)], 0)).toBe('fixed-count');
    expect(new InvocationPlanner(settings({ mode: 'fixed', invocations: 3 })).fixedCount).toBe(3);
  });
});

describe('mergeInvocations', () => {
  it('marks samples, lists invocations, and gives the level and its t-interval as the summary', () => {
    const auto = (c: ReturnType<typeof okCell>) => ({ ...c, sampling: { ...c.sampling, mode: 'auto' as const } });
    const runs = [okCell('m/ort:wasm/b1', 1, 1), okCell('m/ort:wasm/b1', 1.1, 2), okCell('m/ort:wasm/b1', 0.95, 3)].map(
      auto,
    );
    const merged = mergeInvocations(runs, { stopReason: 'max-time', neededMs: 20_000, warnings: ['w'] });
    expect(merged.samples).toHaveLength(180);
    expect(merged.samples.map((s) => s.invocation)).toEqual([0, 1, 2].flatMap((k) => Array(60).fill(k)));
    expect(merged.invocations.map((i) => [i.index, i.firstSample, i.samples])).toEqual([
      [0, 0, 60],
      [1, 60, 60],
      [2, 120, 60],
    ]);
    const medians = runs.map((r) => r.summary.total.median);
    const level = levelCI(medians);
    expect(merged.summary.total.median).toBeCloseTo(level.level, 12);
    expect(merged.summary.total.medianCI95).toEqual(level.ci95);
    expect(merged.acrossInvocations?.invocations).toBe(3);
    expect(merged.coldStarts).toHaveLength(3);
    expect(merged.sampling.stopReason).toBe('max-time');
    expect(merged.sampling.neededMs).toBe(20_000);
    expect(merged.warnings).toContain('w');
    expect(steadySamples(merged)).toHaveLength(180);
    // Percentiles pool the steady samples of every invocation.
    const pooled = sortSamples(merged.samples.map((s) => s.total));
    expect(merged.summary.total.p90).toBeCloseTo(quantile(pooled, 0.9), 12);
    expect(invocationFacts(runs[0]!).medianMs).toBe(runs[0]!.summary.total.median);
  });

  it('no CI narrower than half a timer tick per pass either side', () => {
    expect(widenToTick([1, 1], 1, 0.005)).toEqual([0.9975, 1.0025]);
    expect(widenToTick([0.9, 1.1], 1, 0.005)).toEqual([0.9, 1.1]);
  });
});
