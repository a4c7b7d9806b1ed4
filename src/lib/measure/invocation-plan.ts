/**
 * How a cell spreads its sampling over invocations (fresh starts): how many, and each one's time budget. The run
 * (src/app/plan-run.ts) asks before every round; the decisions are pure, so they are tested with made-up facts.
 *
 * The cell's time budget (`maxSamplingMs`) is for all its invocations together. Auto mode runs a pilot of
 * PILOT_INVOCATIONS, each with an equal share (PILOT_SHARES); from their variance within and between, each further invocation is
 * given the time to its steady state plus the samples that buy the most precision (acrossInvocations'
 * suggestedSamples), while the level's CI is wider than the target and time is left.
 */
import {
  acrossInvocations,
  MAX_AUTO_INVOCATIONS,
  PILOT_INVOCATIONS,
  relativeHalf,
  type InvocationFacts,
} from './invocations.ts';
import type { SamplingSettings, StopReason } from '../schema.ts';

/**
 * The pilot's invocations each get 1 / (PILOT_SHARES x PILOT_INVOCATIONS) of the cell's time budget. 1: the pilot
 * takes the whole default budget. Measured both ways with bench:rerun (5 runs of ocr-cls and tiny-cnn on ort:wasm and
 * tfjs:wasm, quiet moments of this 2-core VM): 1 gave another run's median inside a run's CI in 50 of 60 pairs (83%)
 * with CIs of ±8-65%; 2 (half the budget to the pilot, the rest to 2-5 more, shorter invocations) gave ±10-25% but
 * 43 of 60 (72%): shorter invocations pin each level less, and the run's invocations span less of the machine's
 * drift over minutes. Honest first: 1. More time (--max-time) buys more invocations either way.
 */
export const PILOT_SHARES = 1;

/** No invocation is given less sampling time than this: below it a fresh start can't reach a steady state. */
export const MIN_INVOCATION_MS = 100;

export class InvocationPlanner {
  constructor(readonly settings: SamplingSettings) {}

  /** A fixed count (given, or fixed mode's 1), or null for auto mode's adaptive count. */
  get fixedCount(): number | null {
    const n = this.settings.invocations;
    if (n !== 'auto') return n;
    return this.settings.mode === 'fixed' ? 1 : null;
  }

  /** Whether the cell takes another invocation, given those done and the sampling time they spent. */
  wantsAnother(done: readonly InvocationFacts[], spentMs: number): boolean {
    const fixed = this.fixedCount;
    if (fixed !== null) return done.length < fixed;
    if (done.length < PILOT_INVOCATIONS) return true;
    if (done.length >= MAX_AUTO_INVOCATIONS) return false;
    // Another invocation only with the time one needs (to its steady state and its samples): a sliver of time
    // left over gives a fresh start that never settles, whose level would only add noise to the cell's.
    if (this.settings.maxSamplingMs - spentMs < this.wantedMs(done)) return false;
    return !this.precise(done);
  }

  /** Sampling time an invocation after the pilot needs: its time to steady state plus the samples worth taking. */
  private wantedMs(done: readonly InvocationFacts[]): number {
    const s = this.settings;
    const n = acrossInvocations(done).suggestedSamples ?? s.minSamples;
    const pre = done.reduce((t, f) => t + f.warmupMs, 0) / done.length;
    const perSample = done.reduce((t, f) => t + f.sampleMs, 0) / done.length;
    return Math.max(MIN_INVOCATION_MS, pre + Math.max(n, s.minSamples) * perSample);
  }

  /** The sampling settings of the next invocation: its share of the cell's time budget. */
  settingsFor(done: readonly InvocationFacts[], spentMs: number): SamplingSettings {
    const s = this.settings;
    if (s.mode === 'fixed') return s;
    const fixed = this.fixedCount;
    const share = (n: number) => Math.max(MIN_INVOCATION_MS, Math.floor(s.maxSamplingMs / n));
    if (fixed !== null) return { ...s, maxSamplingMs: share(fixed) };
    if (done.length < PILOT_INVOCATIONS) return { ...s, maxSamplingMs: share(PILOT_SHARES * PILOT_INVOCATIONS) };
    const left = Math.max(MIN_INVOCATION_MS, s.maxSamplingMs - spentMs);
    return { ...s, maxSamplingMs: Math.round(Math.min(left, this.wantedMs(done))) };
  }

  /** Why the cell's invocations ended (read once wantsAnother said no). */
  stopReason(done: readonly InvocationFacts[], _spentMs: number): StopReason {
    if (this.settings.mode === 'fixed') return 'fixed-count';
    if (this.precise(done)) return 'precision-reached';
    const fixed = this.fixedCount;
    if (fixed !== null || done.length >= MAX_AUTO_INVOCATIONS) return 'max-invocations';
    // Auto mode stops short of its cap only when the time left can't hold another invocation.
    return 'max-time';
  }

  /**
   * About how much sampling time the target needs, once the invocations missed it: the invocations the level's CI
   * would need (it narrows as 1/sqrt(invocations)) at the sampling time each took. Null when there is no CI or it
   * already meets the target.
   */
  neededMs(done: readonly InvocationFacts[], spentMs: number): number | null {
    if (done.length < 2 || this.settings.mode === 'fixed') return null;
    const a = acrossInvocations(done);
    const rhw = relativeHalf(a.levelMs, a.ci95);
    if (rhw === null || rhw <= this.settings.targetCI) return null;
    const needed = Math.ceil(done.length * (rhw / this.settings.targetCI) ** 2);
    return (spentMs / done.length) * needed;
  }

  private precise(done: readonly InvocationFacts[]): boolean {
    if (done.length < 2) return false;
    const a = acrossInvocations(done);
    const rhw = relativeHalf(a.levelMs, a.ci95);
    return rhw !== null && rhw <= this.settings.targetCI;
  }
}
