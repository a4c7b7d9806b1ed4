/**
 * The timer guard, as pure code: how many passes one sample times so that it spans enough timer ticks to be read
 * (a 0.1 ms pass under a 5 us clock is 20 ticks: too coarse). Auto mode guesses k from a warm-up pass, then checks
 * it on warm passes and grows it, as microbenchmark harnesses calibrate their batch size. Values stay per pass.
 */
import type { SamplingSettings } from '../schema.ts';

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
