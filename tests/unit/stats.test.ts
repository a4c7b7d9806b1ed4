import { describe, expect, it } from 'vitest';
import {
  batchMedianCI,
  binomialHalfCdf,
  mad,
  median,
  medianInPlace,
  selectInPlace,
  medianCI,
  medianCIRanks,
  orderedMedianCI,
  quantile,
  sortSamples,
  summarize,
  summarizeStages,
} from '../../src/lib/measure/stats.ts';
import { mulberry32 } from '../../src/lib/rng.ts';
import type { Sample } from '../../src/lib/schema.ts';

describe('summarize: hand-checked values', () => {
  it('1..10', () => {
    const s = summarize([10, 3, 1, 7, 2, 9, 4, 8, 6, 5]);
    expect(s.n).toBe(10);
    expect(s.min).toBe(1);
    expect(s.max).toBe(10);
    expect(s.mean).toBe(5.5);
    // var = 82.5 / 9
    expect(s.sd).toBeCloseTo(Math.sqrt(82.5 / 9), 12);
    expect(s.median).toBe(5.5);
    // type 7: h = (n-1) q; p90 -> h = 8.1 -> 9 + 0.1 * (10 - 9)
    expect(s.p90).toBeCloseTo(9.1, 12);
    expect(s.p95).toBeCloseTo(9.55, 12);
    expect(s.p99).toBeCloseTo(9.91, 12);
    // |x - 5.5| sorted: .5 .5 1.5 1.5 2.5 2.5 3.5 3.5 4.5 4.5
    expect(s.mad).toBe(2.5);
    // n = 10: [x(2), x(9)] covers 1 - 2 * 11/1024 = 97.85%; [x(3), x(8)] only 1 - 2 * 56/1024 = 89.06%.
    // Interpolation: I = (0.978515625 - 0.95) / (0.978515625 - 0.890625) = 73/225;
    // lambda = 8 I / (2 + 6 I) = 584/888; lo = 2 + lambda, hi = 9 - lambda.
    const lambda = 584 / 888;
    expect(s.medianCI95![0]).toBeCloseTo(2 + lambda, 12);
    expect(s.medianCI95![1]).toBeCloseTo(9 - lambda, 12);
  });

  it('skewed data: median and MAD resist the outlier, the mean does not', () => {
    const s = summarize([1, 1, 2, 3, 100]);
    expect(s.median).toBe(2);
    expect(s.mean).toBe(21.4);
    expect(s.mad).toBe(1);
    expect(s.medianCI95).toBeNull(); // 5 samples can't give 95%
  });

  it('a single value', () => {
    const s = summarize([4.2]);
    expect([s.min, s.max, s.median, s.p99, s.sd, s.mad]).toEqual([4.2, 4.2, 4.2, 4.2, 0, 0]);
  });

  it('rejects empty and non-finite input', () => {
    expect(() => summarize([])).toThrow(/no samples/);
    expect(() => summarize([1, NaN])).toThrow(/finite/);
  });
});

describe('quantile and MAD', () => {
  it('interpolates between order statistics', () => {
    const s = sortSamples([0, 10]);
    expect(quantile(s, 0.25)).toBe(2.5);
    expect(quantile(s, 0)).toBe(0);
    expect(quantile(s, 1)).toBe(10);
    expect(() => quantile(s, 1.5)).toThrow(RangeError);
  });
  it('MAD of an even-length set', () => {
    expect(mad(sortSamples([1, 2, 4, 8]))).toBe(1.5); // median 3; deviations 2 1 1 5 -> 1 1 2 5 -> 1.5
  });
});

describe('median confidence interval (order statistics)', () => {
  it('binomial CDF matches exact fractions', () => {
    expect(binomialHalfCdf(10, 2)).toBeCloseTo(56 / 1024, 14);
    expect(binomialHalfCdf(10, 0)).toBeCloseTo(1 / 1024, 14);
    expect(binomialHalfCdf(10, 10)).toBe(1);
    expect(binomialHalfCdf(10, -1)).toBe(0);
  });
  it('ranks for known n', () => {
    expect(medianCIRanks(5)).toBeNull();
    expect(medianCIRanks(6)).toEqual([1, 6]); // 1 - 2/64 = 96.9%
    expect(medianCIRanks(10)).toEqual([2, 9]);
    expect(medianCIRanks(100)).toEqual([40, 61]); // the textbook interval for n = 100
  });
  it('covers the true median 93-97% of the time on skewed (log-normal) data (Monte Carlo)', () => {
    const rng = mulberry32(12345);
    // Box-Muller; 1 - rng() keeps log() away from 0.
    const normal = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    const trueMedian = 1; // exp(mu) with mu = 0, sigma = 1: heavily right-skewed
    const trials = 4000; // binomial SE at 95%: 0.34 points
    for (const n of [10, 25, 50, 101]) {
      let covered = 0;
      for (let t = 0; t < trials; t++) {
        const xs = Array.from({ length: n }, () => Math.exp(normal()));
        const ci = medianCI(sortSamples(xs))!;
        if (ci[0] <= trueMedian && trueMedian <= ci[1]) covered++;
      }
      const rate = covered / trials;
      expect(rate, `n = ${n}`).toBeGreaterThanOrEqual(0.93);
      expect(rate, `n = ${n}`).toBeLessThanOrEqual(0.97);
    }
  });
  it('on autocorrelated timings (AR(1), a speed that wanders) the ordered CI still covers the median; the iid one does not', () => {
    const rng = mulberry32(777);
    const normal = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    const phi = 0.98; // correlation time ~50 samples: a level that wanders over a tenth of a 500-sample run
    const trials = 600;
    let iidCovered = 0;
    let orderedCovered = 0;
    for (let t = 0; t < trials; t++) {
      // Stationary from the first value: log level x ~ N(0, 0.05^2), so the true median is exp(0) = 1.
      let x = 0.05 * normal();
      const xs = Array.from({ length: 1000 }, () => {
        x = phi * x + 0.05 * Math.sqrt(1 - phi * phi) * normal();
        return Math.exp(x + 0.01 * normal());
      });
      const sorted = sortSamples(xs);
      const iid = medianCI(sorted)!;
      const ordered = orderedMedianCI(xs, sorted)!;
      if (iid[0] <= 1 && 1 <= iid[1]) iidCovered++;
      if (ordered[0] <= 1 && 1 <= ordered[1]) orderedCovered++;
      expect(ordered[0]).toBeLessThanOrEqual(iid[0]);
      expect(ordered[1]).toBeGreaterThanOrEqual(iid[1]);
    }
    // Measured: iid 0.20, ordered 0.87 (batches of 100 are only twice the correlation time, so a little under 95%).
    expect(iidCovered / trials).toBeLessThan(0.6);
    expect(orderedCovered / trials).toBeGreaterThanOrEqual(0.83);
    expect(orderedCovered / trials).toBeGreaterThan(iidCovered / trials + 0.3);
  });
  it('the batch-median CI needs 10 batches of 10: below that the order-statistic interval stands alone', () => {
    const xs = Array.from({ length: 99 }, (_, i) => 1 + (i % 7) / 10);
    expect(batchMedianCI(xs, 1.3)).toBeNull();
    expect(orderedMedianCI(xs)).toEqual(medianCI(sortSamples(xs)));
    // A series whose first half sits at 1 and second half at 2: batch medians differ, the interval widens.
    const step = Array.from({ length: 200 }, (_, i) => (i < 100 ? 1 : 2) + (i % 5) / 1000);
    const b = batchMedianCI(step, 1.5)!;
    expect(b[1] - b[0]).toBeGreaterThan(0.5);
  });
  it('an interval is never wider than the exact order-statistic one, nor narrower than the next', () => {
    const xs = sortSamples(Array.from({ length: 37 }, (_, i) => (i * 7919) % 101));
    const [k, j] = medianCIRanks(37)!;
    const ci = medianCI(xs)!;
    expect(ci[0]).toBeGreaterThanOrEqual(xs[k - 1]!);
    expect(ci[0]).toBeLessThanOrEqual(xs[k]!);
    expect(ci[1]).toBeLessThanOrEqual(xs[j - 1]!);
    expect(ci[1]).toBeGreaterThanOrEqual(xs[j - 2]!);
  });
});

describe('summarizeStages', () => {
  it('summarises each stage and leaves folded stages null', () => {
    const samples: Sample[] = [1, 2, 3].map((v) => ({
      preprocess: v,
      upload: null,
      inference: v * 10,
      readback: null,
      postprocess: 0.5,
      total: v * 11 + 0.5,
      iterations: 1,
      at: null,
      segment: null,
      parts: null,
      invocation: 0,
    }));
    const s = summarizeStages(samples);
    expect(s.upload).toBeNull();
    expect(s.readback).toBeNull();
    expect(s.inference!.median).toBe(20);
    expect(s.total.max).toBe(33.5);
    expect(s.postprocess!.sd).toBe(0);
  });
});

describe('medianInPlace and selectInPlace', () => {
  it('agree with the sorting median on random, tied, sorted and reversed series', () => {
    const rng = mulberry32(7);
    const series: number[][] = [[5], [2, 1], [3, 3, 3, 3], [1, 2, 3, 4, 5, 6], [9, 8, 7, 6, 5, 4, 3]];
    for (let t = 0; t < 200; t++) {
      const n = 1 + Math.floor(rng() * 300);
      const levels = 1 + Math.floor(rng() * 6); // few distinct values: many ties
      series.push(Array.from({ length: n }, () => (t % 2 ? Math.floor(rng() * levels) : rng())));
    }
    for (const xs of series) {
      expect(medianInPlace([...xs])).toBe(median(xs));
      const sorted = [...xs].sort((a, b) => a - b);
      const k = Math.floor(xs.length / 3);
      expect(selectInPlace([...xs], k)).toBe(sorted[k]);
    }
  });
});
