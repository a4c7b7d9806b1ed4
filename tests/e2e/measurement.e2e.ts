/**
 * Measurement you can trust, end to end in headless Chromium (production build): the calibration runtime's known
 * busy-wait comes back as itself, auto sampling stops for a stated reason, interleaving rotates blocks in an order
 * the seed reproduces, cold starts repeat in fresh workers, and a hidden page is flagged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calibrationReports } from '../../src/lib/measure/calibration.ts';
import type { PlanRequest } from '../../src/lib/plan/plan.ts';
import { seededShuffle } from '../../src/lib/rng.ts';
import { median } from '../../src/lib/measure/stats.ts';
import { validityFlags } from '../../src/lib/measure/validity.ts';
import { steadyByInvocation } from '../../src/lib/measure/warmup-curve.ts';
import { okCells, parseRunResult, type OkCellResult, type RunResult } from '../../src/lib/schema.ts';
import { openLab, requireDist, type LabPage } from './harness.ts';

let lab: LabPage;

/** Runs a plan through window.latencyLab.run (plain JS text: see src/cli/driver.ts for why). */
async function run(request: PlanRequest, optionsJs = '{}'): Promise<RunResult> {
  const raw: unknown = await lab.page.evaluate(`window.latencyLab.run(${JSON.stringify(request)}, ${optionsJs})`);
  return parseRunResult(raw);
}

function only(result: RunResult): OkCellResult {
  const cells = okCells(result.cells);
  expect(cells, JSON.stringify(result.cells.map((c) => c.status))).toHaveLength(result.cells.length);
  return cells[0]!;
}

/** Cell ids in the order their blocks ran, from the samples' start times (every block has `blockSize` samples). */
function blockOrder(result: RunResult): string[] {
  const all = okCells(result.cells).flatMap((c) => c.samples.map((s) => ({ id: c.cell.id, at: s.at! })));
  all.sort((a, b) => a.at - b.at);
  const size = result.plan.sampling.blockSize;
  const order: string[] = [];
  for (let i = 0; i < all.length; i += size) {
    const ids = new Set(all.slice(i, i + size).map((s) => s.id));
    expect(ids.size, `samples ${i}..${i + size - 1} come from one block`).toBe(1);
    order.push(all[i]!.id);
  }
  return order;
}

beforeAll(async () => {
  requireDist();
  lab = await openLab();
}, 60_000);
afterAll(async () => {
  await lab?.close();
});

describe('calibration runtime', () => {
  // On this shared 2-core machine a fresh worker now and then sits ~20 us high for its whole life (it shares a core
  // with something). So the check is over three invocations (fresh workers): the best one must be within
  // max(1%, 2 ticks) of 2 ms, and every one within a looser 0.1 ms; a harness that really adds time makes all of
  // them high and fails, with no retry.
  it('reports a 2 ms busy-wait within max(1%, 2 timer ticks), and the harness overhead per pass', async () => {
    const result = await run({
      models: ['calibration'],
      targets: ['calib:cpu'],
      batches: [1],
      inputOverrides: { calibration: { busy_ms: { values: { kind: 'constant', value: 2 } } } },
      // Fixed and plenty: the median of 60 is robust to the odd preempted pass on a busy 2-core machine.
      sampling: { mode: 'fixed', samples: 60, warmup: 10, invocations: 3 },
    });
    const cell = only(result);
    expect(cell.invocations).toHaveLength(3);
    const levels = steadyByInvocation(cell).map((xs) => median(xs.map((x) => x.inference!)));
    // Clock readings are multiples of the tick held in floats (2.02 - 2 = 0.0200000014): a nanosecond of slack.
    const tolerance = Math.max(0.02, 2 * cell.timerResolutionMs) + 1e-6;
    const errors = levels.map((l) => Math.abs(l - 2));
    expect(Math.min(...errors), `inference medians ${levels.join(', ')} ms`).toBeLessThanOrEqual(tolerance);
    for (const e of errors) expect(e, `inference medians ${levels.join(', ')} ms`).toBeLessThan(0.1);
    const [report] = calibrationReports([cell]);
    expect(report!.requestedMs).toBe(2);
    expect(cell.timerResolutionMs).toBeLessThanOrEqual(0.1);
    // What the pipeline adds around the work: small, and never negative.
    expect(report!.overheadMs).toBeGreaterThanOrEqual(0);
    expect(report!.overheadMs).toBeLessThan(0.5);
  });

  // Steady-state detection end to end: the calibration model busy-waits 1 ms, then 0.5 ms from pass 401 on.
  // One invocation: this checks the steady-state analysis of one worker's series, pass by pass. The level is held
  // to max(1%, 2 ticks) when the worker had its core (its fastest stretch of steady samples), and to 0.1 ms always.
  it('finds the level change, reports the later level within max(1%, 2 ticks), and marks every sample with its segment', async () => {
    const constant = (value: number) => ({ values: { kind: 'constant' as const, value } });
    const result = await run({
      models: ['calibration'],
      targets: ['calib:cpu'],
      batches: [1],
      inputOverrides: {
        calibration: { busy_ms: constant(1), later_busy_ms: constant(0.5), change_after: constant(400) },
      },
      sampling: { minWarmupMs: 1000, maxSamplingMs: 6000, invocations: 1 },
    });
    const cell = only(result);
    const s = cell.steadyState;
    expect(s.classification, JSON.stringify(s.segments)).toBe('warm-up');
    expect(cell.sampling.iterations).toBe(1);
    // Session pass 1 is the first inference (cold start); own passes count from the first warm-up pass, so the
    // first 0.5 ms pass is own pass 399 (0-based). Within a few samples of it:
    const change = s.changepoints.find((c) => c.ratio < 0.75);
    expect(change, JSON.stringify(s.changepoints)).toBeDefined();
    expect(Math.abs(change!.afterPasses - 399)).toBeLessThanOrEqual(3);
    // The steady stretch starts at the change, or at the first long segment after it when a short excursion (a
    // preempted pass or a few, on a shared 2-core machine) sat right at the change: short segments start nothing.
    const n = cell.samples.length;
    expect(s.warmupPasses, JSON.stringify(s.segments)).toBeGreaterThanOrEqual(change!.afterPasses);
    expect(s.warmupPasses - change!.afterPasses, JSON.stringify(s.segments)).toBeLessThanOrEqual(
      Math.max(3, Math.floor(0.03 * n)),
    );
    expect(s.warmupMs).toBeGreaterThan(390); // ~399 passes of 1 ms
    const tolerance = Math.max(0.01 * 0.5, 2 * cell.timerResolutionMs) + 1e-6;
    // A busy-wait can only end late: the least of the steady stretch's tenth-medians is its undisturbed level.
    const steady = cell.samples.slice(s.steadyStart).map((x) => x.inference!);
    const tenth = Math.floor(steady.length / 10);
    const best = Math.min(...Array.from({ length: 10 }, (_, k) => median(steady.slice(k * tenth, (k + 1) * tenth))));
    expect(Math.abs(best - 0.5), `inference ${best} ms at best`).toBeLessThanOrEqual(tolerance);
    expect(
      Math.abs(cell.summary.inference!.median - 0.5),
      `inference median ${cell.summary.inference!.median}`,
    ).toBeLessThan(0.1);
    // The summary describes the steady samples only; every sample is kept, marked with its segment.
    expect(cell.summary.total.n).toBe(s.steadySamples);
    expect(cell.samples.length).toBe(s.steadyStart + s.steadySamples);
    expect(cell.samples.every((x) => x.segment !== null)).toBe(true);
    expect(cell.samples[0]!.segment).toBe(0);
    expect(cell.samples[cell.samples.length - 1]!.segment).toBe(s.segments.length - 1);
    expect(s.firstPasses!.ratio).toBeGreaterThan(1.8); // the first passes ran at 1 ms against 0.5 steady
    expect(validityFlags(cell.validity, s).filter((f) => f.startsWith('drift'))).toEqual([]);
  });

  it('a no-op pass is under 50 ticks, so auto mode times k passes per sample and reports per-pass values', async () => {
    const cell = only(
      await run({
        models: ['calibration'],
        targets: ['calib:cpu'],
        batches: [1],
        // One invocation: the timer guard sizes one worker's samples.
        sampling: { maxSamples: 60, maxSamplingMs: 3000, invocations: 1 },
      }),
    );
    expect(cell.sampling.mode).toBe('auto');
    expect(cell.sampling.iterations).toBeGreaterThan(1);
    expect(cell.sampling.iterationsWhy).toMatch(/timer guard/);
    // k may grow between blocks as passes get faster; each sample records its own, never more than the final k.
    for (const s of cell.samples) {
      expect(s.iterations).toBeGreaterThan(1);
      expect(s.iterations).toBeLessThanOrEqual(cell.sampling.iterations);
    }
    // The timer guard sizes k so that a sample spans >= 50 ticks of timed stages. A no-op pass gets several times
    // faster after the first blocks (JIT), so k is regrown between blocks; the samples at the last k used must span
    // >= 50 ticks, and a pass can get faster within a block, so their median spans at least 90% of that.
    const kLast = Math.max(...cell.samples.map((s) => s.iterations));
    const atFinal = cell.samples.filter((s) => s.iterations === kLast);
    expect(atFinal.length).toBeGreaterThanOrEqual(5);
    const spans = atFinal.map((s) => (s.total * s.iterations) / cell.timerResolutionMs).sort((a, b) => a - b);
    // Either they do, or the guard saw they didn't and grew k again after that block (a pass that kept speeding up
    // after the last regrowth): what it must never do is leave short samples without growing k.
    const median = spans[Math.floor(spans.length / 2)]!;
    if (median < 45)
      expect(
        cell.sampling.iterations,
        `median span ${median} ticks at k=${kLast}, and k was not grown after`,
      ).toBeGreaterThan(kLast);
    expect(cell.summary.total.median).toBeLessThan(cell.timerResolutionMs * 10);
  });
});

describe('auto sampling', () => {
  it('is the default and says why it stopped, with the CI it reached across its invocations', async () => {
    const result = await run({
      models: ['tiny-cnn'],
      targets: ['ort:wasm', 'tfjs:wasm'],
      batches: [1],
      sampling: { maxSamplingMs: 4000, minWarmupMs: 500 },
    });
    const cells = okCells(result.cells);
    expect(cells).toHaveLength(2);
    for (const cell of cells) {
      const s = cell.sampling;
      expect(s.mode).toBe('auto');
      expect(['precision-reached', 'max-invocations', 'max-time']).toContain(s.stopReason);
      if (s.stopReason === 'precision-reached') expect(s.achievedCI!).toBeLessThanOrEqual(0.02);
      else expect(s.precisionReached).toBe(false);
      expect(s.warmupPasses).toBeGreaterThanOrEqual(5);
      expect(['primed', 'max-passes', 'max-time']).toContain(s.warmupStop);
      expect(cell.coldStart.warmupCount).toBe(s.warmupPasses);
      // A pilot of three invocations (fresh workers), each to its own steady state; every sample says whose.
      const inv = cell.invocations;
      expect(inv.length).toBeGreaterThanOrEqual(3);
      expect(cell.coldStarts.length).toBe(inv.length);
      expect(inv.map((i) => i.index)).toEqual(inv.map((_, k) => k));
      for (const i of inv) {
        const mine = cell.samples.slice(i.firstSample, i.firstSample + i.samples);
        expect(mine.every((x) => x.invocation === i.index)).toBe(true);
        expect(i.steadyStart).toBeGreaterThanOrEqual(i.firstSample);
      }
      // The summary describes every invocation's steady samples; its median is the mean of their levels, the CI
      // a t-interval over them.
      expect(cell.summary.total.n).toBe(inv.reduce((n, i) => n + i.firstSample + i.samples - i.steadyStart, 0));
      const level = inv.reduce((t, i) => t + i.medianMs, 0) / inv.length;
      expect(cell.summary.total.median).toBeCloseTo(level, 9);
      expect(cell.acrossInvocations!.invocations).toBe(inv.length);
      expect(cell.acrossInvocations!.df).toBe(inv.length - 1);
    }
    // Rounds: invocation k of both cells started before invocation k + 1 of either.
    const [a, b] = cells;
    const rounds = Math.min(a!.invocations.length, b!.invocations.length);
    for (let k = 0; k + 1 < rounds; k++) {
      const lastOfK = Math.max(Date.parse(a!.invocations[k]!.startedAt), Date.parse(b!.invocations[k]!.startedAt));
      const firstOfNext = Math.min(
        Date.parse(a!.invocations[k + 1]!.startedAt),
        Date.parse(b!.invocations[k + 1]!.startedAt),
      );
      expect(lastOfK).toBeLessThanOrEqual(firstOfNext);
    }
  });

  it('a cell that hits its cap says precision was not reached', async () => {
    const cell = only(
      await run({
        models: ['tiny-cnn'],
        targets: ['tfjs:cpu'],
        batches: [1],
        sampling: { targetCI: 0.0001, minSamples: 6, maxSamples: 12, invocations: 1 },
      }),
    );
    expect(cell.sampling.stopReason).toBe('max-samples');
    expect(cell.sampling.precisionReached).toBe(false);
    expect(cell.samples).toHaveLength(12);
    expect(cell.warnings.join(' ')).toMatch(/precision not reached/);
    // ±0.01% is out of reach: the projection says so rather than naming a budget no plan may give.
    expect(cell.sampling.neededMs!).toBeGreaterThan(3_600_000);
    expect(cell.warnings.join(' ')).toMatch(/over an hour of sampling would reach it \(more than a time cap may be/);
    expect(cell.validity.unsupportedPercentiles).toEqual(['p90', 'p95', 'p99']);
  });
});

describe('seeded interleaving and cold starts', () => {
  const request = (seed: number): PlanRequest => ({
    models: ['tiny-cnn'],
    targets: ['ort:wasm', 'tfjs:wasm', 'tfjs:cpu'],
    batches: [1],
    seed,
    schedule: 'interleaved',
    sampling: { mode: 'fixed', samples: 12, warmup: 2, blockSize: 3 },
  });

  it('rotates blocks of samples across live cells, in an order the seed reproduces', async () => {
    const a = await run(request(11));
    const b = await run(request(11));
    const orderA = blockOrder(a);
    // 4 rounds; in round r every live cell takes one block, in the order seededShuffle(cells, seed + r).
    const ids = a.plan.cells.map((c) => c.id);
    const expected = [0, 1, 2, 3].flatMap((r) => seededShuffle(ids, 11 + r));
    expect(orderA).toEqual(expected);
    expect(blockOrder(b)).toEqual(orderA);
    expect(b.plan.cells.map((c) => c.id)).toEqual(a.plan.cells.map((c) => c.id));
    const other = await run(request(12));
    expect(blockOrder(other)).not.toEqual(orderA);
  });

  it('repeats the cold start in fresh workers', async () => {
    const cell = only(
      await run({
        models: ['tiny-cnn'],
        targets: ['ort:wasm'],
        batches: [1],
        sampling: { mode: 'fixed', samples: 6, warmup: 1, coldStarts: 3 },
      }),
    );
    expect(cell.coldStarts).toHaveLength(3);
    expect(cell.coldStarts[0]).toEqual(cell.coldStart);
    for (const c of cell.coldStarts) {
      expect(c.sessionCreateMs).toBeGreaterThan(0);
      expect(c.firstInferenceMs).toBeGreaterThan(0);
      expect(c.fetchedBytes).toBe(cell.coldStart.fetchedBytes);
    }
  });
});

describe('validity flags', () => {
  it('flags a cell whose page went hidden while it sampled', async () => {
    // At the first batch of samples, the page goes hidden and comes back (as a tab switch would) during sampling.
    const hideOnce = `{ onCellEvent: (i, e) => {
      if (e.type !== 'samples' || window.__hid) return;
      window.__hid = true;
      const set = (v) => { Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => v }); document.dispatchEvent(new Event('visibilitychange')); };
      set('hidden');
      set('visible');
    } }`;
    const cell = only(
      await run(
        {
          models: ['tiny-cnn'],
          targets: ['tfjs:cpu'],
          batches: [1],
          sampling: { mode: 'fixed', samples: 30, warmup: 1 },
        },
        hideOnce,
      ),
    );
    expect(cell.validity.pageHidden).toBe(true);
    expect(validityFlags(cell.validity).join(' ')).toMatch(/page hidden while sampling/);
    const visible = only(
      await run({
        models: ['tiny-cnn'],
        targets: ['tfjs:cpu'],
        batches: [1],
        sampling: { mode: 'fixed', samples: 10, warmup: 1 },
      }),
    );
    expect(visible.validity.pageHidden).toBe(false);
  });
});
