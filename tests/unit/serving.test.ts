import { describe, expect, it } from 'vitest';
import { DynamicBatcher } from '../../src/lib/serving/batcher.ts';
import { BatcherConfig } from '../../src/lib/schema/serving.ts';
import { poissonArrivals, traceArrivals } from '../../src/lib/serving/load.ts';
import { simulate } from '../../src/lib/serving/simulate.ts';
import { monitorWindows, quantileCI, saturationStart, summarizePoint } from '../../src/lib/serving/report.ts';
import { capacityLines, compareServing, servingTable } from '../../src/lib/serving/format.ts';
import { servingSampling } from '../../src/lib/serving/config.ts';
import { searchCapacity } from '../../src/lib/serving/capacity.ts';
import { servingCsv } from '../../src/lib/serving/csv.ts';
import type { ServingReport } from '../../src/lib/schema/serving.ts';

const cfg = (c: Partial<BatcherConfig> & Pick<BatcherConfig, 'maxBatch' | 'maxWaitMs'>) => BatcherConfig.parse(c);

describe('open-loop load', () => {
  it('Poisson arrivals: seeded, the right mean rate, exponential gaps', () => {
    const a = poissonArrivals(200, 60_000, 7);
    expect(poissonArrivals(200, 60_000, 7)).toEqual(a);
    expect(poissonArrivals(200, 60_000, 8)).not.toEqual(a);
    expect(a.length / 60).toBeGreaterThan(190);
    expect(a.length / 60).toBeLessThan(210);
    const gaps = a.slice(1).map((t, i) => t - a[i]!);
    // Exponential: about 1/e of gaps are longer than the mean (5 ms).
    const longer = gaps.filter((g) => g > 5).length / gaps.length;
    expect(longer).toBeGreaterThan(0.34);
    expect(longer).toBeLessThan(0.4);
    expect(a.every((t, i) => i === 0 || t >= a[i - 1]!)).toBe(true);
  });
  it('rejects rates and durations out of range, and bad traces', () => {
    expect(() => poissonArrivals(0, 1000, 1)).toThrow(/rate must be in \(0, 100000\]/);
    expect(() => poissonArrivals(10, -1, 1)).toThrow(/duration/);
    expect(traceArrivals([5, 1, 3])).toEqual([1, 3, 5]);
    expect(() => traceArrivals([1, NaN])).toThrow(/finite/);
    expect(() => BatcherConfig.parse({ maxBatch: 0, maxWaitMs: 1 })).toThrow(/maxBatch must be in 1\.\.1024/);
    expect(() => BatcherConfig.parse({ maxBatch: 4, maxWaitMs: -1 })).toThrow(/maxWaitMs must be in 0\.\.10000/);
  });
});

describe('dynamic batcher', () => {
  it('closes a batch when full, or when the oldest request has waited maxWait; keeps order', () => {
    const b = new DynamicBatcher(cfg({ maxBatch: 3, maxWaitMs: 10 }));
    b.arrive({ id: 0, arrivalMs: 0 });
    b.arrive({ id: 1, arrivalMs: 2 });
    expect(b.take(5)).toBeNull(); // 2 of 3, oldest waited 5 < 10
    expect(b.nextDeadline()).toBe(10);
    b.arrive({ id: 2, arrivalMs: 6 });
    b.arrive({ id: 3, arrivalMs: 7 });
    const full = b.take(7)!;
    expect(full).toMatchObject({ why: 'full', readyMs: 6 });
    expect(full.requests.map((r) => r.id)).toEqual([0, 1, 2]);
    expect(b.take(12)).toBeNull();
    const partial = b.take(17)!;
    expect(partial).toMatchObject({ why: 'max-wait', readyMs: 17 });
    expect(partial.requests.map((r) => r.id)).toEqual([3]);
  });
  it('keeps arrival order when arrivals come in out of order (timers microseconds apart), so none waits past maxWait', () => {
    const b = new DynamicBatcher(cfg({ maxBatch: 4, maxWaitMs: 2 }));
    b.arrive({ id: 1, arrivalMs: 100.004 });
    b.arrive({ id: 0, arrivalMs: 100 });
    expect(b.nextDeadline()).toBe(102);
    const batch = b.take(102.01)!;
    expect(batch.requests.map((r) => r.id)).toEqual([0, 1]);
    for (const r of batch.requests) expect(Math.max(batch.readyMs, r.arrivalMs) - r.arrivalMs).toBeLessThanOrEqual(2);
  });
});

describe('serving simulation (deterministic time)', () => {
  const arrivals = poissonArrivals(100, 20_000, 3); // ~2000 requests
  const service = (size: number) => 4 + 1 * size; // 5 ms alone, 12 ms for 8: batching pays

  it('no batching: every batch has one request; nothing dropped; order kept per worker', () => {
    const out = simulate(arrivals, cfg({ maxBatch: 1, maxWaitMs: 0 }), 1, service);
    expect(out.records).toHaveLength(arrivals.length);
    expect(out.dropped).toEqual([]);
    expect(new Set(out.batches.map((b) => b.size))).toEqual(new Set([1]));
    const starts = out.records.map((r) => r.startMs);
    expect(starts.every((t, i) => i === 0 || t >= starts[i - 1]!)).toBe(true); // FIFO
    for (const r of out.records) {
      expect(r.startMs).toBeGreaterThanOrEqual(r.arrivalMs);
      expect(r.endMs - r.startMs).toBeCloseTo(5, 9);
    }
  });

  it('batching: sizes up to maxBatch, batch-formation waits never beyond maxWait', () => {
    const c = cfg({ maxBatch: 8, maxWaitMs: 4 });
    const out = simulate(arrivals, c, 1, service);
    expect(out.records).toHaveLength(arrivals.length);
    expect(Math.max(...out.batches.map((b) => b.size))).toBeLessThanOrEqual(8);
    expect(out.batches.some((b) => b.size > 1)).toBe(true);
    for (const r of out.records) {
      expect(r.readyMs - r.arrivalMs).toBeLessThanOrEqual(4 + 1e-9);
      expect(r.readyMs).toBeGreaterThanOrEqual(r.arrivalMs);
      expect(r.startMs).toBeGreaterThanOrEqual(r.readyMs);
    }
    expect(out.batches.reduce((a, b) => a + b.size, 0)).toBe(arrivals.length);
  });

  it('a batch that fills while every worker is busy was ready at its max-wait deadline, not when it filled', () => {
    // One slow batch keeps the only worker busy while eight more requests trickle in past the deadline.
    const trickle = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => i * 3);
    const out = simulate(trickle, cfg({ maxBatch: 8, maxWaitMs: 2 }), 1, (_size, _w, k) => (k === 0 ? 100 : 1));
    for (const r of out.records) expect(r.readyMs - r.arrivalMs).toBeLessThanOrEqual(2 + 1e-9);
    expect(out.batches[1]).toMatchObject({ size: 8, why: 'full' });
  });

  it('past saturation, batching keeps up where single requests fall behind', () => {
    const heavy = poissonArrivals(300, 10_000, 5); // 300/s against 200/s one-by-one capacity
    const single = simulate(heavy, cfg({ maxBatch: 1, maxWaitMs: 0 }), 1, service);
    const batched = simulate(heavy, cfg({ maxBatch: 8, maxWaitMs: 2 }), 1, service);
    const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(0.99 * (xs.length - 1))]!;
    const lat = (o: typeof single) => o.records.map((r) => r.endMs - r.arrivalMs);
    expect(p99(lat(single))).toBeGreaterThan(1000); // the queue grows without bound
    expect(p99(lat(batched))).toBeLessThan(100);
  });

  it('a queue limit drops by the stated policy and counts every drop', () => {
    const heavy = poissonArrivals(400, 5_000, 9);
    const reject = simulate(
      heavy,
      cfg({ maxBatch: 1, maxWaitMs: 0, queueLimit: 10, dropPolicy: 'reject-new' }),
      1,
      service,
    );
    expect(reject.dropped.length).toBeGreaterThan(0);
    expect(reject.records.length + reject.dropped.length).toBe(heavy.length);
    const oldest = simulate(
      heavy,
      cfg({ maxBatch: 1, maxWaitMs: 0, queueLimit: 10, dropPolicy: 'drop-oldest' }),
      1,
      service,
    );
    expect(oldest.records.length + oldest.dropped.length).toBe(heavy.length);
    // drop-oldest serves the newest: the requests it served waited less than under reject-new.
    const wait = (o: typeof reject) => o.records.reduce((a, r) => a + (r.startMs - r.arrivalMs), 0) / o.records.length;
    expect(wait(oldest)).toBeLessThanOrEqual(wait(reject) + 1e-9);
  });

  it('a pool of workers shares the load', () => {
    const heavy = poissonArrivals(300, 10_000, 5);
    const two = simulate(heavy, cfg({ maxBatch: 1, maxWaitMs: 0 }), 2, service);
    expect(new Set(two.batches.map((b) => b.worker))).toEqual(new Set([0, 1]));
    expect(two.records).toHaveLength(heavy.length);
    expect(() => simulate(heavy, cfg({ maxBatch: 1, maxWaitMs: 0 }), 0, service)).toThrow(/workers must be in 1\.\.64/);
  });
});

describe('serving summaries', () => {
  const arrivals = poissonArrivals(100, 10_000, 11);
  const measured = (o: ReturnType<typeof simulate>) =>
    o.records.map((r) => ({ ...r, inferenceMs: r.endMs - r.startMs }));
  it('a load point: percentiles, breakdown, throughput, and saturation only when the queue grows', () => {
    const light = simulate(arrivals, BatcherConfig.parse({ maxBatch: 1, maxWaitMs: 0 }), 1, () => 2);
    const p = summarizePoint(
      100,
      BatcherConfig.parse({ maxBatch: 1, maxWaitMs: 0 }),
      1,
      arrivals.length,
      measured(light),
      0,
      [0.1, 0.2],
    );
    expect(p.saturated).toBe(false);
    expect(p.achievedRps).toBeGreaterThan(90);
    expect(p.latency.p50).toBeGreaterThanOrEqual(2);
    expect(p.breakdown.inference).toBe(2);
    expect(p.breakdown.formation).toBe(0);
    expect(p.requests.arrival).toHaveLength(arrivals.length);
    const heavy = simulate(arrivals, BatcherConfig.parse({ maxBatch: 1, maxWaitMs: 0 }), 1, () => 15); // 66/s capacity
    expect(
      summarizePoint(
        100,
        BatcherConfig.parse({ maxBatch: 1, maxWaitMs: 0 }),
        1,
        arrivals.length,
        measured(heavy),
        0,
        [],
      ).saturated,
    ).toBe(true);
    expect(
      saturationStart([
        { ...p, rate: 50, saturated: false },
        { ...p, rate: 200, saturated: true },
        { ...p, rate: 400, saturated: true },
      ]),
    ).toBe(200);
  });
  it('a p99 CI from order statistics', () => {
    const xs = Array.from({ length: 1000 }, (_, i) => i);
    const ci = quantileCI(xs, 0.99)!;
    expect(ci[0]).toBeLessThan(990);
    expect(ci[1]).toBeGreaterThan(990);
    expect(quantileCI([1, 2, 3], 0.99)).toBeNull();
  });
  it('monitor windows flag a window that departs from the baseline; the warm-up window is not judged', () => {
    const at = Array.from({ length: 400 }, (_, i) => i * 100); // 40 s at 10/s, 10 s windows
    // Window 0 is slow (warm-up), windows 1-2 steady, window 3 slower again.
    const ms = at.map((t, i) => (t < 10_000 ? 4 : t >= 30_000 ? 5 : 2) + (i % 5) * 0.01);
    const w = monitorWindows(at, ms, 10_000, 0.1, () => ({ jsHeapBytes: 1, wasmHeapBytes: null, tfjsTensors: null }));
    expect(w.map((x) => x.flagged)).toEqual([false, false, false, true]);
    // Window 1 is the baseline: window 2 (steady, a different window) is ~1 against it, the warm-up window 2x but
    // not judged, window 3 2.5x and flagged. (A window compared with itself would say nothing.)
    expect(w[2]!.ratio).toBeCloseTo(1, 2);
    expect(w[0]!.ratio).toBeCloseTo(2, 1);
    expect(w[3]!.ratio).toBeCloseTo(2.5, 1);
    // Two windows only: the first is the baseline, so the second (twice as fast) is 0.5 and flagged.
    const short = monitorWindows(at.slice(0, 200), ms.slice(0, 200), 10_000, 0.1, () => ({
      jsHeapBytes: null,
      wasmHeapBytes: null,
      tfjsTensors: null,
    }));
    expect(short[1]!.ratio).toBeCloseTo(0.5, 1);
    expect(short[1]!.flagged).toBe(true);
  });
});

describe('serving runs compared', () => {
  it('matches load points by setting, pool size and rate', () => {
    const b1 = BatcherConfig.parse({ maxBatch: 1, maxWaitMs: 0 });
    const point = (rate: number, p99: number) =>
      ({
        rate,
        batcher: b1,
        workers: 1,
        latency: { p50: 1, p95: 1, p99, mean: 1, max: 1 },
        achievedRps: rate,
      }) as never;
    const a = { points: [point(100, 2), point(200, 4)] } as never;
    const b = { points: [point(100, 3), point(300, 9)] } as never;
    expect(compareServing(a, b)).toEqual([
      { setting: 'no batching, 1 worker', rate: 100, baseP99: 2, otherP99: 3, ratio: 1.5, baseRps: 100, otherRps: 100 },
    ]);
  });
});

describe('capacity search', () => {
  /** A service that meets the budget up to `limit` req/s. */
  const service = (limit: number) => async (rate: number) => ({
    rate,
    value: rate <= limit ? 10 : 90,
    ci: null,
    pass: rate <= limit,
  });
  const sweepAt = (rates: number[], limit: number) =>
    rates.map((rate) => ({ rate, value: rate <= limit ? 10 : 90, ci: null, pass: rate <= limit }));

  it('keeps raising the rate until one fails, then brackets the capacity between two measured rates', async () => {
    const found = await searchCapacity(sweepAt([20, 50], 1234), service(1234), 8);
    expect(found.bound).toBe('bracketed');
    expect(found.rate).toBeLessThanOrEqual(1234);
    expect(found.rate).toBeGreaterThan(1234 * 0.95);
    // Both ends of the bracket were measured: a passing probe at the low end, a failing one at the high end.
    expect(found.probes.find((p) => p.rate === found.bracket![0])?.pass).toBe(true);
    expect(found.probes.find((p) => p.rate === found.bracket![1])?.pass).toBe(false);
  });
  it('says "at least" when no rate failed within the raises allowed, and brackets nothing', async () => {
    const found = await searchCapacity(sweepAt([20, 50], 1e9), service(1e9), 5, 3);
    expect(found).toMatchObject({ bound: 'at-least', rate: 400, bracket: null });
    expect(found.probes.every((p) => p.pass)).toBe(true);
    const line = capacityLines({
      capacity: [{ batcher: { maxBatch: 1, maxWaitMs: 0 }, workers: 1, percentile: 'p99', budgetMs: 50, ...found }],
    } as unknown as ServingReport)[0];
    expect(line).toMatch(/at least 400\.0 req\/s \(no failing rate found up to 400\.0; 5 probes\)/);
  });
  it('reports none when every rate fails, and bisects between a measured pass and fail inside the sweep', async () => {
    expect(await searchCapacity(sweepAt([20, 50], 1), service(1), 2)).toMatchObject({ bound: 'none', rate: null });
    const inside = await searchCapacity(sweepAt([20, 50, 100], 70), service(70), 8);
    expect(inside.bound).toBe('bracketed');
    expect(inside.probes.filter((p) => p.rate > 100)).toEqual([]); // a failing rate was already measured: no raise
  });
});

describe('serving points that lose requests', () => {
  const batcher = BatcherConfig.parse({ maxBatch: 1, maxWaitMs: 0 });
  const request = (i: number) => ({
    id: i,
    arrivalMs: i,
    readyMs: i,
    startMs: i,
    endMs: i + 2,
    batchSize: 1,
    worker: 0,
    inferenceMs: 1.5,
  });
  it('counts requests of failed batches, so offered = completed + dropped + failed, and every report shows them', () => {
    const p = summarizePoint(
      100,
      batcher,
      1,
      10,
      Array.from({ length: 7 }, (_, i) => request(i)),
      1,
      [],
      { requests: 2, errors: ['sampling: out of memory'] },
    );
    expect(p.completed + p.dropped + p.failed).toBe(p.offered);
    expect(p.failures).toEqual(['sampling: out of memory']);
    const report = { points: [p], capacity: [], serviceByBatch: [] } as unknown as ServingReport;
    expect(servingTable(report)).toMatch(/failed[\s\S]*\s2\s+.*FAILED: sampling: out of memory/);
    expect(servingCsv(report).split('\n')[0]).toContain('dropped,failed');
  });
  it('keeps the p95 interval for a p95 budget, and summarises 200,000 requests without spreading them', () => {
    const many = Array.from({ length: 200_000 }, (_, i) => ({ ...request(i), endMs: i + 1 + (i % 100) / 10 }));
    const p = summarizePoint(1000, batcher, 1, many.length, many, 0, []);
    expect(p.p95CI).not.toBeNull();
    expect(p.p95CI![0]).toBeLessThanOrEqual(p.latency.p95);
    expect(p.p95CI![1]).toBeGreaterThanOrEqual(p.latency.p95);
    expect(p.completed).toBe(200_000);
  });
  it('gives a long monitor a worker timeout longer than the run', () => {
    expect(servingSampling(24 * 3_600_000).cellTimeoutMs).toBeGreaterThan(24 * 3_600_000);
    expect(servingSampling(3_000).cellTimeoutMs).toBe(3_600_000);
  });
});
