/**
 * The sampling decisions of one cell, as pure code: when sampling may begin, how many passes to time per sample
 * (the timer guard), how many samples the next block takes, and when to stop (steady state found and precise). The page drives the cell's worker with
 * these decisions; keeping them here (no clocks, no I/O) makes them testable with made-up timings.
 */
import type { SamplingReport, SamplingSettings, StopReason, WarmupStop } from './schema.ts';
import { orderedMedianCI, quantile, relativeHalfWidth, sortSamples } from './stats.ts';
import {
  analyseSteadyState,
  DEFAULT_STEADY_OPTIONS,
  steadyLongEnough,
  thirdsDisagree,
  type SteadyAnalysis,
} from './steady-state.ts';

/** Auto mode: passes before sampling stop once there are this many (and `warmup`), or after PRIME_MS. */
export const PRIME_PASSES = 10;
export const PRIME_MS = 300;
/** A stage median under this many timer ticks is too coarse to trust (the cell says so). */
export const COARSE_TICKS = 20;
/** The timer guard makes one sample span at least this many ticks. */
export const GUARD_TICKS = 50;
/**
 * The least span of a sample, whatever the clock: 50 ticks of a cross-origin-isolated browser's 5 us. Node's clock
 * (native reference cells) ticks in nanoseconds, and 50 of those would let a 20 us model take 100,000 samples in a
 * 10 s budget: the analysis after every block and the result file grow with n, and the memory guard cuts it short.
 */
export const MIN_SAMPLE_MS = 0.25;

/** The guard's rule in words, for the `why` of a sample size: "50 timer ticks of 0.005 ms (at least 0.25 ms)". */
export function guardRule(tickMs: number): string {
  return `${GUARD_TICKS} timer ticks of ${tickMs} ms${guardSpanMs(tickMs) > GUARD_TICKS * tickMs ? ` (at least ${MIN_SAMPLE_MS} ms)` : ''}`;
}

/** The span a sample must reach: GUARD_TICKS ticks, and at least MIN_SAMPLE_MS. */
export function guardSpanMs(tickMs: number): number {
  return Math.max(GUARD_TICKS * tickMs, MIN_SAMPLE_MS);
}
export const MAX_ITERATIONS = 10_000;
/** Auto mode sizes blocks to about this much time, so the steady-state analysis after each block costs little. */
export const BLOCK_TARGET_MS = 100;

/**
 * Decides, after each pass before sampling, whether sampling may begin. Auto mode needs only enough passes to
 * size the samples (the timer guard): where warm-up really ends is found later, by changepoint analysis of the
 * samples, because a few passes that agree prove nothing (V8 optimises wasm in the background for seconds).
 * `passMs` are the wall times of the passes so far; `elapsedMs` their time. Null: keep going.
 */
export function warmupDecision(
  settings: SamplingSettings,
  passMs: readonly number[],
  elapsedMs: number,
): WarmupStop | null {
  const n = passMs.length;
  if (settings.mode === 'fixed') return n >= settings.warmup ? 'fixed' : null;
  // The minimum is kept even past the caps (the cell timeout still bounds it).
  if (n < settings.warmup) return null;
  if (n >= 1 && (n >= PRIME_PASSES || elapsedMs >= PRIME_MS)) return 'primed';
  if (n >= settings.maxWarmup) return 'max-passes';
  if (elapsedMs >= settings.maxWarmupMs) return 'max-time';
  return null;
}

/**
 * The timer guard's first guess: passes per sample so that a sample spans at least GUARD_TICKS ticks, from a
 * typical pass time (the median of the last warm-up window). Auto mode then checks the guess with `growIterations`.
 */
export function chooseIterations(
  settings: SamplingSettings,
  passMs: number | null,
  tickMs: number,
): { iterations: number; why: string } {
  if (settings.iterations !== null) return { iterations: settings.iterations, why: 'set in the sampling settings' };
  if (settings.mode === 'fixed') return { iterations: 1, why: 'fixed mode: one pass per sample' };
  if (passMs === null || tickMs <= 0) return { iterations: 1, why: 'no warm-up pass to size samples by' };
  const span = guardSpanMs(tickMs);
  const rule = guardRule(tickMs);
  if (passMs >= span) return { iterations: 1, why: `a pass (${passMs.toPrecision(3)} ms) spans >= ${rule}` };
  const k = Math.min(MAX_ITERATIONS, Math.ceil(span / Math.max(passMs, tickMs / 10, 1e-6)));
  return {
    iterations: k,
    why: `timer guard: a pass (${passMs.toPrecision(3)} ms) is under ${rule}, so each sample times ${k} passes`,
  };
}

/**
 * Checks a guess the way microbenchmark harnesses calibrate their batch size: `spanMs` is what `k` passes in a
 * row took. Null when that span is at least GUARD_TICKS ticks (k is enough); otherwise a larger k to try, scaled
 * from the span with 20% headroom. Warm-up passes can be slower than warm ones, so the first guess may fall short.
 */
export function growIterations(k: number, spanMs: number, tickMs: number): number | null {
  const want = guardSpanMs(tickMs);
  if (spanMs >= want || k >= MAX_ITERATIONS) return null;
  const scaled = spanMs > 0 ? Math.ceil((k * want * 1.2) / spanMs) : k * 10;
  return Math.min(MAX_ITERATIONS, Math.max(k * 2, scaled));
}

/**
 * The timer guard on warm passes: grows k (at most 8 times) until k passes in a row span enough ticks. `spanOf(k)`
 * times k passes and gives their span (ms). The k found, and the passes the check ran.
 */
export async function guardIterations(
  k: number,
  spanOf: (k: number) => Promise<number>,
  tickMs: number,
): Promise<{ k: number; passes: number }> {
  let passes = 0;
  for (let tries = 0; tries < 8; tries++) {
    const span = await spanOf(k);
    passes += k;
    const next = growIterations(k, span, tickMs);
    if (next === null) break;
    k = next;
  }
  return { k, passes };
}

/** What the passes before sampling took: auto mode counts their time towards the least warm-up time. */
export interface WarmupFacts {
  passes: number;
  totalMs: number;
}

/**
 * Auto and fixed sampling as a small state machine: `nextBlock()` says how many samples to take next (0: stop),
 * `record()` takes what a block measured. After each block, changepoint analysis of the totals per pass finds
 * where the steady state begins; precision is judged on the steady samples alone.
 */
export class SamplingController {
  private readonly totals: number[] = [];
  /** Each sample's own time (total per pass x passes): the steady share is a share of time. */
  private readonly ownMs: number[] = [];
  private samplingMs = 0;
  private blocks = 0;
  private stop: StopReason | null = null;
  private analysis: SteadyAnalysis | null = null;

  constructor(
    readonly settings: SamplingSettings,
    private readonly warm: WarmupFacts = { passes: 0, totalMs: 0 },
  ) {}

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

  /** The steady state as the samples so far show it (null before any sample). */
  steady(): SteadyAnalysis | null {
    if (!this.analysis && this.totals.length)
      this.analysis = analyseSteadyState(this.totals, this.steadyOptions(), this.ownMs);
    return this.analysis;
  }

  private steadyOptions() {
    return { ...DEFAULT_STEADY_OPTIONS, minSteady: this.settings.minSamples };
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
      if (this.steadyPrecise()) return this.end('precision-reached');
      if (n >= s.maxSamples) return this.end('max-samples');
      if (this.samplingMs >= s.maxSamplingMs) return this.end('max-time');
    }
    let block = Math.min(s.blockSize, s.maxSamples - n);
    // Below the minimum, take just what is missing; above it, blocks of about BLOCK_TARGET_MS (the analysis runs
    // once per block), but no more than the time left allows (at least one).
    if (n < s.minSamples) block = Math.min(block, s.minSamples - n);
    else if (n > 0 && this.samplingMs > 0) {
      const perSample = this.samplingMs / n;
      block = Math.max(block, Math.floor(BLOCK_TARGET_MS / perSample));
      block = Math.min(block, s.maxSamples - n);
      block = Math.max(1, Math.min(block, Math.floor((s.maxSamplingMs - this.samplingMs) / perSample)));
    }
    return block;
  }

  /**
   * Precision is reached when the cell has run its passes for the least warm-up time (capped by the time budget),
   * the steady stretch holds enough samples (minSamples) and a quarter of the sampling time (a level that changed
   * a moment ago may change again), and its median's CI is within target.
   */
  private steadyPrecise(): boolean {
    const s = this.settings;
    const ownMs = this.warm.totalMs + this.samplingMs;
    if (ownMs < Math.min(s.minWarmupMs, s.maxSamplingMs)) return false;
    const a = this.steady();
    if (!a) return false;
    if (!steadyLongEnough(this.totals.length, a.steadyStart, this.steadyOptions(), this.ownMs)) return false;
    const rhw = this.achievedCI();
    if (rhw === null || rhw > s.targetCI) return false;
    // The steady stretch must agree with itself (the analysis trims a slide's front; one that slides to the end
    // is still moving).
    return !thirdsDisagree(this.totals.slice(a.steadyStart), this.steadyOptions().settle);
  }

  /** A block's per-pass totals, the wall time the block took, and the passes per sample in it. */
  record(totals: readonly number[], blockMs: number, iterations = 1): void {
    for (const t of totals) {
      this.totals.push(t);
      this.ownMs.push(t * iterations);
    }
    this.samplingMs += blockMs;
    this.blocks++;
    this.analysis = null;
  }

  /** Relative half-width of the steady samples' median CI. */
  achievedCI(): number | null {
    const a = this.steady();
    if (!a) return null;
    const steady = this.totals.slice(a.steadyStart);
    const sorted = sortSamples(steady);
    return relativeHalfWidth({ median: quantile(sorted, 0.5), medianCI95: orderedMedianCI(steady, sorted) });
  }

  report(
    iterations: { iterations: number; why: string },
    warmup: { passes: number; stop: WarmupStop; passMs?: number[] },
  ): SamplingReport {
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
