/**
 * The serving dispatcher driven directly (the simulator hides these paths): batches whose service fails, a run
 * cancelled mid-point, timers that fire late, and a pool size out of range. Virtual time, so each case is exact.
 */
import { describe, expect, it } from 'vitest';
import { BatcherConfig } from '../../src/lib/schema/serving.ts';
import {
  dispatch,
  type AbortLike,
  type DispatchClock,
  type DispatchOutcome,
  type StartService,
} from '../../src/lib/serving/dispatch.ts';
import { VirtualClock } from '../../src/lib/serving/virtual-clock.ts';

const NO_BATCHING = BatcherConfig.parse({ maxBatch: 1, maxWaitMs: 0 });
const BATCH_OF_2 = BatcherConfig.parse({ maxBatch: 2, maxWaitMs: 5 });

/** Each batch takes 1 ms; the batches whose index is in `failing` fail with an error naming the batch. */
function service(clock: VirtualClock, failing: ReadonlySet<number> = new Set()): StartService {
  return (_size, _worker, k, done) =>
    clock.at(clock.now() + 1, () =>
      done(failing.has(k) ? { ok: false, error: `batch ${k} failed` } : { ok: true, ms: 1 }),
    );
}

/** Runs one point on `clock` and returns its outcome, checking it ended once. */
function point(
  arrivals: number[],
  config: BatcherConfig,
  clock: VirtualClock,
  start: StartService,
  signal?: AbortLike,
): DispatchOutcome {
  const outcomes: DispatchOutcome[] = [];
  dispatch(arrivals, config, 1, clock, start, { signal, onDone: (o) => outcomes.push(o) });
  clock.run();
  expect(outcomes).toHaveLength(1);
  return outcomes[0]!;
}

/** An abort signal that can be fired from inside the virtual time. */
function abortable(): AbortLike & { abort(): void } {
  const listeners: (() => void)[] = [];
  const signal = {
    aborted: false,
    addEventListener: (_type: 'abort', fn: () => void) => void listeners.push(fn),
    abort() {
      signal.aborted = true;
      listeners.forEach((fn) => fn());
    },
  };
  return signal;
}

describe('the dispatcher', () => {
  it('counts the requests of failed batches, keeps at most five errors, and records only the ones served', () => {
    const clock = new VirtualClock();
    const arrivals = Array.from({ length: 10 }, (_, i) => i * 10);
    const out = point(arrivals, NO_BATCHING, clock, service(clock, new Set([0, 2, 3, 4, 5, 6])));
    expect(out.failed.requests).toBe(6);
    expect(out.failed.errors).toEqual([
      'batch 0 failed',
      'batch 2 failed',
      'batch 3 failed',
      'batch 4 failed',
      'batch 5 failed',
    ]);
    expect(out.records.map((r) => r.id)).toEqual([1, 7, 8, 9]);
    expect(out.records.length + out.dropped.length + out.failed.requests).toBe(arrivals.length);
  });

  it('a failed batch fails all its requests, and the worker takes the next batch', () => {
    const clock = new VirtualClock();
    const out = point([0, 0, 20, 20], BATCH_OF_2, clock, service(clock, new Set([0])));
    expect(out.batches.map((b) => b.size)).toEqual([2, 2]);
    expect(out.failed.requests).toBe(2);
    expect(out.records.map((r) => [r.id, r.startMs, r.endMs])).toEqual([
      [2, 20, 21],
      [3, 20, 21],
    ]);
  });

  it('a cancelled point takes no more arrivals, lets the batch in service finish, and still ends', () => {
    const clock = new VirtualClock();
    const signal = abortable();
    clock.at(25, () => signal.abort());
    const out = point([0, 10, 20, 30, 40], NO_BATCHING, clock, service(clock), signal);
    expect(out.records.map((r) => r.id)).toEqual([0, 1, 2]);
    expect(out.batches).toHaveLength(3);
    expect(out.lateness).toHaveLength(3);
  });

  it('a cancelled point ends when its last batch does, not before', () => {
    const clock = new VirtualClock();
    const signal = abortable();
    clock.at(0.5, () => signal.abort());
    const ends: number[] = [];
    const start: StartService = (_s, _w, _k, done) => clock.at(clock.now() + 4, () => done({ ok: true, ms: 4 }));
    dispatch([0, 1, 2], NO_BATCHING, 1, clock, start, { signal, onDone: () => ends.push(clock.now()) });
    clock.run();
    expect(ends).toEqual([4]);
  });

  it("records how late each arrival's timer fired, and a request is in the system from its schedule", () => {
    const clock = new VirtualClock();
    // The page's timers: each fires 2 ms after the time it was set for.
    const late: DispatchClock = {
      now: () => clock.now(),
      at: (ms, fn) => clock.at(ms + 2, fn),
      soon: (fn) => clock.soon(fn),
    };
    const outcomes: DispatchOutcome[] = [];
    dispatch([0, 10], NO_BATCHING, 1, late, service(clock), { onDone: (o) => outcomes.push(o) });
    clock.run();
    const out = outcomes[0]!;
    expect(out.lateness).toEqual([2, 2]);
    expect(out.records.map((r) => [r.arrivalMs, r.startMs])).toEqual([
      [0, 2],
      [10, 12],
    ]);
  });

  it('refuses a pool size out of 1..64', () => {
    const clock = new VirtualClock();
    for (const workers of [0, 65, 1.5])
      expect(() => dispatch([0], NO_BATCHING, workers, clock, service(clock), { onDone: () => undefined })).toThrow(
        `workers must be in 1..64, got ${workers}`,
      );
  });
});
