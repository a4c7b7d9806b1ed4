import { describe, expect, it } from 'vitest';
import {
  compareCells,
  compareToFastest,
  comparisonGroup,
  describeComparison,
  pairedInRun,
  ratioOfMedians,
  verdictOf,
} from '../../src/lib/measure/compare.ts';
import { mulberry32 } from '../../src/lib/rng.ts';
import type { OkCellResult, Sample } from '../../src/lib/schema.ts';
import { driftOf, unsupportedPercentiles, validityFlags, assessValidity } from '../../src/lib/measure/validity.ts';
import { summarizeStages } from '../../src/lib/measure/stats.ts';
import { fakeSample, okCell } from './fixtures.ts';

const noisy = (seed: number, centre: number, n = 60) => {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, () => centre * (1 + 0.05 * (rng() - 0.5)));
};
const sample = (total: number): Sample => fakeSample(total);
const cell = (id: string, totals: number[]) =>
  ({ cell: { id }, samples: totals.map(sample), steadyState: { steadyStart: 0 } }) as unknown as OkCellResult;

describe('ratio of medians and verdict', () => {
  it('a clear difference gets a verdict, with a CI around the true ratio', () => {
    const a = noisy(1, 10);
    const b = noisy(2, 20);
    const r = ratioOfMedians(a, b);
    expect(r.ratio).toBeGreaterThan(0.47);
    expect(r.ratio).toBeLessThan(0.53);
    expect(r.ci95[0]).toBeLessThanOrEqual(r.ratio);
    expect(r.ci95[1]).toBeGreaterThanOrEqual(r.ratio);
    const c = compareCells(cell('a', a), cell('b', b));
    expect(c.verdict).toBe('faster');
    expect(compareCells(cell('b', b), cell('a', a)).verdict).toBe('slower');
    expect(describeComparison(c)).toMatch(/^a is 2\.\d\dx faster than b/);
  });
  it('same distribution: indistinguishable', () => {
    expect(compareCells(cell('a', noisy(3, 10)), cell('b', noisy(4, 10))).verdict).toBe('indistinguishable');
  });
  it('a 1% difference is indistinguishable at a 2% threshold, but not at 0', () => {
    expect(verdictOf([0.985, 0.995], 0.02)).toBe('indistinguishable');
    expect(verdictOf([0.985, 0.995], 0)).toBe('faster');
    expect(verdictOf([1.021, 1.05], 0.02)).toBe('slower');
    expect(() => verdictOf([1, 1], -0.1)).toThrow(/threshold/);
  });
  it('is reproducible from its seed, and the seed is what draws the resamples', () => {
    const a = noisy(5, 3);
    const b = noisy(6, 4);
    const seeded = ratioOfMedians(a, b, 9);
    expect(ratioOfMedians(a, b, 9)).toEqual(seeded);
    // Another seed draws other resamples: the same point estimate, a CI that differs at its ends. (Compared with
    // itself only, a bootstrap that ignored its seed, drawing from Math.random or a fixed stream, would pass.)
    const reseeded = ratioOfMedians(a, b, 10);
    expect(reseeded.ratio).toBe(seeded.ratio);
    expect(reseeded.ci95).not.toEqual(seeded.ci95);
  });
  it('refuses a stage the cell folded into another', () => {
    expect(() => compareCells(cell('a', [1, 2]), cell('b', [1, 2]), { stage: 'upload' })).toThrow(
      /no separate 'upload' stage/,
    );
  });
});

describe('validity', () => {
  it('flags drift between the first and last third, and not steady data', () => {
    const rising = Array.from({ length: 60 }, (_, i) => 10 + i * 0.1 + (i % 3) * 0.01);
    const d = driftOf(rising)!;
    expect(d.flagged).toBe(true);
    expect(d.ratio).toBeGreaterThan(1.3);
    expect(driftOf(noisy(8, 10))!.flagged).toBe(false);
    // A pass under one timer tick reads 0: the drift stays finite, so the result file stays valid JSON.
    const ticks = Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? 0 : 0.005));
    const z = driftOf(ticks)!;
    expect(Number.isFinite(z.ratio) && Number.isFinite(z.ci95[0]) && Number.isFinite(z.ci95[1])).toBe(true);
    expect(driftOf([1, 2, 3, 4, 5, 6, 7, 8])).toBeNull();
  });
  it('no p99 from 20 samples', () => {
    expect(unsupportedPercentiles(20)).toEqual(['p95', 'p99']);
    expect(unsupportedPercentiles(19)).toEqual(['p90', 'p95', 'p99']);
    expect(unsupportedPercentiles(200)).toEqual([]);
  });
  it('marks stages under 20 timer ticks, counting passes per sample', () => {
    const samples = Array.from({ length: 10 }, () => ({ ...sample(1), preprocess: 0.02 }));
    const v = assessValidity(samples, summarizeStages(samples), {
      pageHidden: false,
      overlapped: [],
      softwareGpu: false,
      tickMs: 0.1,
      iterations: 1,
    });
    expect(v.coarseStages).toEqual(['preprocess', 'inference', 'total']);
    const v10 = assessValidity(samples, summarizeStages(samples), {
      pageHidden: true,
      overlapped: ['a serving load sweep in another tab of the lab'],
      softwareGpu: true,
      tickMs: 0.1,
      iterations: 10,
    });
    expect(v10.coarseStages).toEqual(['preprocess']);
    expect(validityFlags(v10)).toEqual([
      'page hidden while sampling: browsers throttle hidden pages',
      'measured while a serving load sweep in another tab of the lab ran: they shared the cores',
      'software GPU: correctness, not GPU speed',
    ]);
    expect(validityFlags(v).some((f) => f.startsWith('measured while'))).toBe(false);
    expect(validityFlags(v).at(-1)).toBe('inference and total under 20 timer ticks: coarse');
  });
});

describe('comparison groups', () => {
  const withDims = (id: string, centre: number, seed: number, seq: number) => {
    const c = okCell(id, centre, seed);
    c.cell = { ...c.cell, id: `${id}/seq=${seq}`, dims: { seq } };
    return c;
  };
  it('another batch size or sequence length is other work: each has its own fastest, and only they pair', () => {
    const cells = [
      withDims('m/ort:wasm/b1', 1, 1, 16),
      withDims('m/ort:webgpu/b1', 2, 2, 16),
      withDims('m/ort:wasm/b1', 9, 3, 256),
      withDims('m/ort:webgpu/b1', 5, 4, 256),
    ];
    const vs = compareToFastest(cells);
    expect(vs.get('m/ort:wasm/b1/seq=16')).toBeNull();
    expect(vs.get('m/ort:webgpu/b1/seq=256')).toBeNull();
    expect(vs.get('m/ort:wasm/b1/seq=256')!.b).toBe('m/ort:webgpu/b1/seq=256');
    expect(comparisonGroup(cells[0]!.cell)).toBe('m/b1/seq=16');
    expect(pairedInRun(cells[0]!, cells[1]!)).toBe(true);
    expect(pairedInRun(cells[0]!, cells[2]!)).toBe(false);
  });
});
