/**
 * The dispatcher checked against something other than itself: queueing theory where it has closed forms, and a
 * trace worked out by hand where it has none. (The serving e2e test feeds the prediction the measured run's own
 * service times through this same dispatcher, so a dispatcher bug would show on both of its sides.)
 */
import { describe, expect, it } from 'vitest';
import { BatcherConfig } from '../../src/lib/schema/serving.ts';
import { poissonArrivals } from '../../src/lib/serving/load.ts';
import { simulate, type ServiceTime } from '../../src/lib/serving/simulate.ts';
import { mulberry32 } from '../../src/lib/rng.ts';
import { mean, sd } from '../../src/lib/measure/stats.ts';

const NO_BATCHING = BatcherConfig.parse({ maxBatch: 1, maxWaitMs: 0 });
const ARRIVALS = 200_000;
/** Service time s, in ms: the theory's values below are in units of s. */
const S = 1;
const BATCHES = 20;
/** Student's t, 19 degrees of freedom, two-sided 99%. */
const T_19_99 = 2.861;

/**
 * 99% CI of the mean wait from batch means: 20 consecutive batches of ~10,000 requests each. Waits in a queue are
 * strongly autocorrelated (one long wait makes the next long), so their plain standard error would be far too
 * narrow; at rho 0.8 a queue forgets its past within a few hundred requests, so the batch means are close to
 * independent and their spread is honest. The first 2,000 waits are left out: the queue starts empty, below its
 * steady-state length. (Over seeds 1..40, 157 of 160 such intervals held the theory's value.)
 */
function meanWaitCI(waits: readonly number[]): [number, number] {
  const xs = waits.slice(2_000);
  const size = Math.floor(xs.length / BATCHES);
  const means = Array.from({ length: BATCHES }, (_, b) => mean(xs.slice(b * size, (b + 1) * size)));
  const half = (T_19_99 * sd(means)) / Math.sqrt(BATCHES);
  return [mean(means) - half, mean(means) + half];
}

/** Mean wait in queue (arrival to start) for one worker, no batching, Poisson arrivals at load rho. */
function waitCI(rho: number, service: ServiceTime): [number, number] {
  // rho requests per service time: rho * 1000 / S requests a second, long enough for ~200,000 of them.
  const arrivals = poissonArrivals((rho * 1000) / S, (ARRIVALS * S) / rho, 1);
  const out = simulate(arrivals, NO_BATCHING, 1, service);
  expect(out.records).toHaveLength(arrivals.length);
  return meanWaitCI(out.records.map((r) => r.startMs - r.arrivalMs));
}

/** Exponential service times with mean S, from their own seeded generator. */
function exponential(seed: number): ServiceTime {
  const rng = mulberry32(seed);
  // 1 - rng() is in (0, 1]: log() stays finite.
  return () => -Math.log(1 - rng()) * S;
}

// Pollaczek-Khinchine: mean wait in queue rho * s / (2 (1 - rho)) for a fixed service time (M/D/1), twice that,
// rho * s / (1 - rho) = rho / (mu - lambda), for exponential ones (M/M/1).
const md1 = (rho: number) => (rho * S) / (2 * (1 - rho));
const mm1 = (rho: number) => (rho * S) / (1 - rho);

describe('one worker, no batching, against queueing theory', () => {
  for (const rho of [0.5, 0.8]) {
    it(`M/D/1 at rho ${rho}: the mean wait's CI holds rho*s/(2(1-rho)), and is narrow enough to tell it from M/M/1`, () => {
      const [lo, hi] = waitCI(rho, () => S);
      expect(lo).toBeLessThanOrEqual(md1(rho));
      expect(hi).toBeGreaterThanOrEqual(md1(rho));
      expect((hi - lo) / 2).toBeLessThan(0.1 * md1(rho));
      expect(hi).toBeLessThan(mm1(rho));
    });
    it(`M/M/1 at rho ${rho}: the mean wait's CI holds rho*s/(1-rho), and is narrow enough to tell it from M/D/1`, () => {
      const [lo, hi] = waitCI(rho, exponential(1001));
      expect(lo).toBeLessThanOrEqual(mm1(rho));
      expect(hi).toBeGreaterThanOrEqual(mm1(rho));
      expect((hi - lo) / 2).toBeLessThan(0.1 * mm1(rho));
      expect(lo).toBeGreaterThan(md1(rho));
    });
  }
});

describe('batching with max wait on two workers, against a trace worked out by hand', () => {
  it('gives every request the start, end, worker and batch the rules give it', () => {
    // Max batch 3, max wait 4 ms, two workers; a batch of n takes 4 + 2n ms (6, 8 or 10). The rules (batcher.ts,
    // dispatch.ts): a free worker, lowest index first, takes the first 3 waiting once there are 3 (full), or all
    // waiting once the oldest has waited 4 ms (max wait); requests arriving at one instant are all in before any
    // worker looks; a free worker with requests waiting looks again at the oldest's deadline.
    //   t=0,1   ids 0, 1 arrive; deadline 4.
    //   t=2     id 2 arrives: 3 waiting, full. Worker 0 takes 0-2 (ready 2), busy until 12.
    //   t=3     id 3 arrives; worker 1 is free, so it looks again at 3 + 4 = 7.
    //   t=5     id 4 arrives (deadline still 7: the oldest's).
    //   t=7     id 3 has waited 4 ms: worker 1 takes 3-4 (max wait, ready 7), busy until 15.
    //   t=8,9,9 ids 5, 6, 7 arrive (6 and 7 at once): full at 9, ready 9, but both workers are busy.
    //   t=12    worker 0 is free and takes 5-7 (full, ready 9: they queued 3 ms for a worker), busy until 22.
    //   t=13    id 8 arrives; both busy, so no deadline is set.
    //   t=15    worker 1 is free; id 8 has waited 2 ms, not 4: it looks again at 13 + 4 = 17.
    //   t=17    worker 1 takes 8 alone (max wait, ready 17), busy until 23.
    const arrivals = [0, 1, 2, 3, 5, 8, 9, 9, 13];
    const out = simulate(arrivals, BatcherConfig.parse({ maxBatch: 3, maxWaitMs: 4 }), 2, (n) => 4 + 2 * n);
    // id, arrival, ready, start, end, worker, batch size, the batch's service time
    const rows = out.records.map((r) => [
      r.id,
      r.arrivalMs,
      r.readyMs,
      r.startMs,
      r.endMs,
      r.worker,
      r.batchSize,
      r.inferenceMs,
    ]);
    expect(rows).toEqual([
      [0, 0, 2, 2, 12, 0, 3, 10],
      [1, 1, 2, 2, 12, 0, 3, 10],
      [2, 2, 2, 2, 12, 0, 3, 10],
      [3, 3, 7, 7, 15, 1, 2, 8],
      [4, 5, 7, 7, 15, 1, 2, 8],
      [5, 8, 9, 12, 22, 0, 3, 10],
      [6, 9, 9, 12, 22, 0, 3, 10],
      [7, 9, 9, 12, 22, 0, 3, 10],
      [8, 13, 17, 17, 23, 1, 1, 6],
    ]);
    expect(out.batches).toEqual([
      { size: 3, why: 'full', worker: 0, startMs: 2, endMs: 12 },
      { size: 2, why: 'max-wait', worker: 1, startMs: 7, endMs: 15 },
      { size: 3, why: 'full', worker: 0, startMs: 12, endMs: 22 },
      { size: 1, why: 'max-wait', worker: 1, startMs: 17, endMs: 23 },
    ]);
    expect(out.dropped).toEqual([]);
  });
  it('batches requests that arrive at one instant together, even with no max wait', () => {
    // Max batch 3, max wait 0, one worker, 5 ms a batch; four arrive at t=0. The worker looks once all four are in
    // (the clock runs an instant's timed events before its 'soon' ones) and takes the first three, full; the
    // fourth has waited its 0 ms by then and goes alone when the worker is free again, at 5.
    const out = simulate([0, 0, 0, 0], BatcherConfig.parse({ maxBatch: 3, maxWaitMs: 0 }), 1, () => 5);
    expect(out.batches).toEqual([
      { size: 3, why: 'full', worker: 0, startMs: 0, endMs: 5 },
      { size: 1, why: 'max-wait', worker: 0, startMs: 5, endMs: 10 },
    ]);
  });
});
