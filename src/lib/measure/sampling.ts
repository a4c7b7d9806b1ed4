/**
 * The sampling decisions of one cell, as pure code: when sampling may begin, how many samples the next block takes,
 * and when to stop (steady state found and precise), and what a cap that came first cost. How many passes a sample
 * times is the timer guard (timer-guard.ts). The page drives the cell's worker with these decisions; keeping them
 * here (no clocks, no I/O) makes them testable with made-up timings.
 */
import { type SamplingReport, type SamplingSettings, type StopReason, type WarmupStop } from '../schema.ts';
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
      neededMs: auto && stopReason !== 'precision-reached' ? this.neededMs() : null,
    };
  }

  /**
   * About how much sampling time the target needs, from what the cell showed: the time before its steady state as
   * it was, and its steady time scaled by (achieved / target)^2 (the median's CI narrows as 1/sqrt(samples), and its
   * batch medians' spread as 1/sqrt(time)). Null when there is no CI, or it already meets the target (the cell
   * missed on another rule). The steady share of the wall time is its share of the samples' own time.
   */
  private neededMs(): number | null {
    const a = this.steady();
    const rhw = this.achievedCI();
    const target = this.settings.targetCI;
    if (!a || rhw === null || rhw <= target) return null;
    let own = 0;
    let steadyOwn = 0;
    for (const [i, ms] of this.ownMs.entries()) {
      own += ms;
      if (i >= a.steadyStart) steadyOwn += ms;
    }
    if (own <= 0) return null;
    const steadyWall = (this.samplingMs * steadyOwn) / own;
    return this.samplingMs - steadyWall + steadyWall * (rhw / target) ** 2;
  }

  private end(reason: StopReason): 0 {
    this.stop = reason;
    return 0;
  }
}
