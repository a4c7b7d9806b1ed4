/**
 * The sampling decisions of one cell, as pure code: how long to warm up, how many passes to time per sample (the
 * timer guard), how many samples the next block takes, and when to stop. The page drives the cell's worker with
 * these decisions; keeping them here (no clocks, no I/O) makes them testable with made-up timings.
 */
import type { SamplingReport, SamplingSettings, StopReason, WarmupStop } from './schema.ts';
import { medianCI, quantile, relativeHalfWidth, sortSamples } from './stats.ts';

/** Warm-up passes are judged in windows of this many: the pass time has settled when two windows agree. */
export const SETTLE_WINDOW = 3;
/** Two consecutive warm-up windows whose medians differ by at most this much (relative) count as settled. */
export const SETTLE_TOLERANCE = 0.05;
/** A stage median under this many timer ticks is too coarse to trust (the cell says so). */
export const COARSE_TICKS = 20;
/** The timer guard makes one sample span at least this many ticks. */
export const GUARD_TICKS = 50;
export const MAX_ITERATIONS = 10_000;

/**
 * Decides, after each warm-up pass, whether warm-up is over. `passMs` are the wall times of the passes so far;
 * `elapsedMs` the warm-up time so far. Null: keep warming up.
 */
export function warmupDecision(settings: SamplingSettings, passMs: readonly number[], elapsedMs: number): WarmupStop | null {
  const n = passMs.length;
  if (settings.mode === 'fixed') return n >= settings.warmup ? 'fixed' : null;
  // The minimum is kept even past the time cap (the cell timeout still bounds it).
  if (n < settings.warmup) return null;
  if (n >= 2 * SETTLE_WINDOW && elapsedMs >= settings.minWarmupMs) {
    const last = windowMedian(passMs.slice(n - SETTLE_WINDOW));
    const before = windowMedian(passMs.slice(n - 2 * SETTLE_WINDOW, n - SETTLE_WINDOW));
    if (before > 0 && Math.abs(last - before) / before <= SETTLE_TOLERANCE) return 'settled';
  }
  if (n >= settings.maxWarmup) return 'max-passes';
  if (elapsedMs >= settings.maxWarmupMs) return 'max-time';
  return null;
}

function windowMedian(xs: readonly number[]): number {
  return quantile(sortSamples(xs), 0.5);
}

/**
 * The timer guard's first guess: passes per sample so that a sample spans at least GUARD_TICKS ticks, from a
 * typical pass time (the median of the last warm-up window). Auto mode then checks the guess with `growIterations`.
 */
export function chooseIterations(settings: SamplingSettings, passMs: number | null, tickMs: number): { iterations: number; why: string } {
  if (settings.iterations !== null) return { iterations: settings.iterations, why: 'set in the sampling settings' };
  if (settings.mode === 'fixed') return { iterations: 1, why: 'fixed mode: one pass per sample' };
  if (passMs === null || tickMs <= 0) return { iterations: 1, why: 'no warm-up pass to size samples by' };
  if (passMs >= GUARD_TICKS * tickMs) return { iterations: 1, why: `a pass (${passMs.toPrecision(3)} ms) spans >= ${GUARD_TICKS} timer ticks of ${tickMs} ms` };
  const k = Math.min(MAX_ITERATIONS, Math.ceil((GUARD_TICKS * tickMs) / Math.max(passMs, tickMs / 10)));
  return { iterations: k, why: `timer guard: a pass (${passMs.toPrecision(3)} ms) is under ${GUARD_TICKS} ticks of ${tickMs} ms, so each sample times ${k} passes` };
}

/**
 * Checks a guess the way microbenchmark harnesses calibrate their batch size: `spanMs` is what `k` passes in a
 * row took. Null when that span is at least GUARD_TICKS ticks (k is enough); otherwise a larger k to try, scaled
 * from the span with 20% headroom. Warm-up passes can be slower than warm ones, so the first guess may fall short.
 */
export function growIterations(k: number, spanMs: number, tickMs: number): number | null {
  const want = GUARD_TICKS * tickMs;
  if (spanMs >= want || k >= MAX_ITERATIONS) return null;
  const scaled = spanMs > 0 ? Math.ceil((k * want * 1.2) / spanMs) : k * 10;
  return Math.min(MAX_ITERATIONS, Math.max(k * 2, scaled));
}

/**
 * Auto and fixed sampling as a small state machine: `nextBlock()` says how many samples to take next (0: stop),
 * `record()` takes what a block measured. Precision is judged on the total per pass.
 */
export class SamplingController {
  private readonly totals: number[] = [];
  private samplingMs = 0;
  private blocks = 0;
  private stop: StopReason | null = null;

  constructor(readonly settings: SamplingSettings) {}

  get count(): number {
    return this.totals.length;
  }

  get stopReason(): StopReason | null {
    return this.stop;
  }

  /** The most samples this cell can still take: the progress bar's denominator. */
  get plannedMax(): number {
    return this.settings.mode === 'fixed' ? this.settings.samples : this.settings.maxSamples;
  }

  nextBlock(): number {
    if (this.stop) return 0;
    const s = this.settings;
    const n = this.totals.length;
    if (s.mode === 'fixed') {
      if (n >= s.samples) return this.end('fixed-count');
      return Math.min(s.blockSize, s.samples - n);
    }
    if (n >= s.minSamples) {
      const rhw = this.achievedCI();
      if (rhw !== null && rhw <= s.targetCI) return this.end('precision-reached');
      if (n >= s.maxSamples) return this.end('max-samples');
      if (this.samplingMs >= s.maxSamplingMs) return this.end('max-time');
    }
    let block = Math.min(s.blockSize, s.maxSamples - n);
    // Below the minimum, take just what is missing; above it, no more than the time left allows (at least one).
    if (n < s.minSamples) block = Math.min(block, s.minSamples - n);
    else if (n > 0 && this.samplingMs > 0) {
      const perSample = this.samplingMs / n;
      block = Math.max(1, Math.min(block, Math.floor((s.maxSamplingMs - this.samplingMs) / perSample)));
    }
    return block;
  }

  /** A block's per-pass totals and the wall time the block took. */
  record(totals: readonly number[], blockMs: number): void {
    this.totals.push(...totals);
    this.samplingMs += blockMs;
    this.blocks++;
  }

  achievedCI(): number | null {
    if (this.totals.length === 0) return null;
    const sorted = sortSamples(this.totals);
    return relativeHalfWidth({ median: quantile(sorted, 0.5), medianCI95: medianCI(sorted) });
  }

  report(iterations: { iterations: number; why: string }, warmup: { passes: number; stop: WarmupStop; passMs?: number[] }): SamplingReport {
    const auto = this.settings.mode === 'auto';
    const stopReason = this.stop ?? (auto ? 'max-samples' : 'fixed-count');
    return {
      mode: this.settings.mode,
      stopReason,
      targetCI: auto ? this.settings.targetCI : null,
      achievedCI: this.achievedCI(),
      precisionReached: auto ? stopReason === 'precision-reached' : null,
      iterations: iterations.iterations,
      iterationsWhy: iterations.why,
      warmupPasses: warmup.passes,
      warmupPassesMs: warmup.passMs ?? [],
      warmupStop: warmup.stop,
      blocks: this.blocks,
      samplingMs: this.samplingMs,
    };
  }

  private end(reason: StopReason): 0 {
    this.stop = reason;
    return 0;
  }
}

/** One line for tables: why sampling stopped, and how precise the median is. */
export function describeStop(r: SamplingReport): string {
  const ci = r.achievedCI === null ? 'no CI' : `±${(r.achievedCI * 100).toFixed(1)}%`;
  switch (r.stopReason) {
    case 'fixed-count':
      return `fixed count (${ci})`;
    case 'precision-reached':
      return `precision reached (${ci} <= ±${((r.targetCI ?? 0) * 100).toFixed(1)}%)`;
    case 'max-samples':
      return `sample cap: precision not reached (${ci}, target ±${((r.targetCI ?? 0) * 100).toFixed(1)}%)`;
    case 'max-time':
      return `time cap: precision not reached (${ci}, target ±${((r.targetCI ?? 0) * 100).toFixed(1)}%)`;
    default: {
      const never: never = r.stopReason;
      return String(never);
    }
  }
}
