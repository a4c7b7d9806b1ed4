/**
 * Measurement you can trust, end to end in headless Chromium (production build): the calibration runtime's known
 * busy-wait comes back as itself, auto sampling stops for a stated reason, interleaving rotates blocks in an order
 * the seed reproduces, cold starts repeat in fresh workers, and a hidden page is flagged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calibrationReports } from '../../src/lib/calibration.ts';
import type { PlanRequest } from '../../src/lib/plan.ts';
import { seededShuffle } from '../../src/lib/rng.ts';
import { validityFlags } from '../../src/lib/validity.ts';
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
  // On this shared 2-core machine a whole run now and then sits ~20 us high (the worker sharing a core); a harness
  // that really adds that much fails all three tries.
  it(
    'reports a 2 ms busy-wait within max(1%, 2 timer ticks), and the harness overhead per pass',
    { retry: 2 },
    async () => {
      const result = await run({
        models: ['calibration'],
        targets: ['calib:cpu'],
        batches: [1],
        inputOverrides: { calibration: { busy_ms: { values: { kind: 'constant', value: 2 } } } },
        // Fixed and plenty: the median of 60 is robust to the odd preempted pass on a busy 2-core machine.
        sampling: { mode: 'fixed', samples: 60, warmup: 10 },
      });
      const cell = only(result);
      const [report] = calibrationReports([cell]);
      expect(report!.requestedMs).toBe(2);
      expect(cell.timerResolutionMs).toBeLessThanOrEqual(0.1);
      // Clock readings are multiples of the tick held in floats (2.02 - 2 = 0.0200000014): a nanosecond of slack.
      expect(Math.abs(report!.errorMs), `inference median ${report!.measuredMs} ms`).toBeLessThanOrEqual(
        Math.max(0.02, 2 * cell.timerResolutionMs) + 1e-6,
      );
      expect(report!.withinTolerance).toBe(true);
      // What the pipeline adds around the work: small, and never negative.
      expect(report!.overheadMs).toBeGreaterThanOrEqual(0);
      expect(report!.overheadMs).toBeLessThan(0.5);
    },
  );

  // Steady-state detection end to end: the calibration model busy-waits 1 ms, then 0.5 ms from pass 401 on.
  it(
    'finds the level change, reports the later level within max(1%, 2 ticks), and marks every sample with its segment',
    { retry: 2 },
    async () => {
      const constant = (value: number) => ({ values: { kind: 'constant' as const, value } });
      const result = await run({
        models: ['calibration'],
        targets: ['calib:cpu'],
        batches: [1],
        inputOverrides: {
          calibration: { busy_ms: constant(1), later_busy_ms: constant(0.5), change_after: constant(400) },
        },
        sampling: { minWarmupMs: 1000, maxSamplingMs: 6000 },
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
      expect(s.warmupPasses).toBe(change!.afterPasses);
      expect(s.warmupMs).toBeGreaterThan(390); // ~399 passes of 1 ms
      const tolerance = Math.max(0.01 * 0.5, 2 * cell.timerResolutionMs) + 1e-6;
      expect(
        Math.abs(cell.summary.inference!.median - 0.5),
        `inference median ${cell.summary.inference!.median}`,
      ).toBeLessThanOrEqual(tolerance);
      // The summary describes the steady samples only; every sample is kept, marked with its segment.
      expect(cell.summary.total.n).toBe(s.steadySamples);
      expect(cell.samples.length).toBe(s.steadyStart + s.steadySamples);
      expect(cell.samples.every((x) => x.segment !== null)).toBe(true);
      expect(cell.samples[0]!.segment).toBe(0);
      expect(cell.samples[cell.samples.length - 1]!.segment).toBe(s.segments.length - 1);
      expect(s.firstPasses!.ratio).toBeGreaterThan(1.8); // the first passes ran at 1 ms against 0.5 steady
      expect(validityFlags(cell.validity, s).filter((f) => f.startsWith('drift'))).toEqual([]);
    },
  );

  it('a no-op pass is under 50 ticks, so auto mode times k passes per sample and reports per-pass values', async () => {
    const cell = only(
      await run({
        models: ['calibration'],
        targets: ['calib:cpu'],
        batches: [1],
        sampling: { maxSamples: 60, maxSamplingMs: 3000 },
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
  it('is the default and says why it stopped, with the CI it reached', async () => {
    const cell = only(
      await run({ models: ['tiny-cnn'], targets: ['ort:wasm'], batches: [1], sampling: { maxSamplingMs: 4000 } }),
    );
    const s = cell.sampling;
    expect(s.mode).toBe('auto');
    expect(['precision-reached', 'max-samples', 'max-time']).toContain(s.stopReason);
    expect(cell.samples.length).toBeGreaterThanOrEqual(10);
    expect(cell.summary.total.medianCI95).not.toBeNull();
    if (s.stopReason === 'precision-reached') expect(s.achievedCI!).toBeLessThanOrEqual(0.02);
    else expect(s.precisionReached).toBe(false);
    expect(s.warmupPasses).toBeGreaterThanOrEqual(5);
    expect(['primed', 'max-passes', 'max-time']).toContain(s.warmupStop);
    expect(cell.coldStart.warmupCount).toBe(s.warmupPasses);
    // Precision is judged on the steady samples, which the summary describes.
    expect(cell.summary.total.n).toBe(cell.steadyState.steadySamples);
    if (s.stopReason === 'precision-reached') expect(cell.steadyState.steadySamples).toBeGreaterThanOrEqual(10);
  });

  it('a cell that hits its cap says precision was not reached', async () => {
    const cell = only(
      await run({
        models: ['tiny-cnn'],
        targets: ['tfjs:cpu'],
        batches: [1],
        sampling: { targetCI: 0.0001, minSamples: 6, maxSamples: 12 },
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
