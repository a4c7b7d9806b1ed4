/**
 * Invocations as a level of sampling (Kalibera & Jones, "Rigorous Benchmarking in Reasonable Time", ISMM 2013).
 * A cell's passes vary within one fresh start of its runtime, and its fresh starts settle at different levels; a
 * CI from one start's passes covers only the first kind, so the lab's reruns landed outside each other's CIs (23-31%
 * of pairs inside, ~80% expected). Here: the CI of a level over several invocations, ratios of two cells paired
 * by invocation (invocation k of both ran in round k, side by side, so the machine's wander falls on both), and how
 * many samples an invocation is worth. Pure: no clocks, no I/O.
 */
import type { AcrossInvocations } from '../schema.ts';
import { mean, sd } from './stats.ts';

/** Auto mode's first invocations, before their variance can size the rest (two give a variance; three a usable one). */
export const PILOT_INVOCATIONS = 3;
/** Auto mode never runs more than this many invocations of a cell. */
export const MAX_AUTO_INVOCATIONS = 30;

/** 97.5% quantiles of Student's t for df 1..10; beyond, the Cornish-Fisher expansion (within 0.002 of the table). */
const T_975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228];

export function tQuantile975(df: number): number {
  if (!(df >= 1)) throw new RangeError(`degrees of freedom must be >= 1, got ${df}`);
  // A fractional df (Welch's) takes the table's value below it: the wider interval, never a narrower one.
  if (df < T_975.length + 1) return T_975[Math.floor(df) - 1]!;
  const z = 1.959964;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df * df);
}

/** Mean of the levels and its Student-t 95% CI (df = n - 1); null CI for one level. */
export function levelCI(levels: readonly number[]): { level: number; ci95: [number, number] | null; df: number } {
  if (!levels.length) throw new RangeError('no invocation levels');
  const level = mean(levels);
  const df = levels.length - 1;
  if (df < 1) return { level, ci95: null, df };
  const half = (tQuantile975(df) * sd(levels)) / Math.sqrt(levels.length);
  // A time is never below 0: two far-apart levels can put the symmetric interval's lower end there.
  return { level, ci95: [Math.max(0, level - half), level + half], df };
}

export interface LevelRatio {
  ratio: number;
  ci95: [number, number];
  /** Invocation pairs (paired) or the smaller invocation count (unpaired) the CI rests on. */
  pairs: number;
  df: number;
}

/** Levels floored at 1 ns: a pass under one timer tick reads 0, and a log of 0 has no place in a ratio. */
const logOf = (x: number) => Math.log(Math.max(x, 1e-6));

/**
 * a/b from invocation levels taken in rounds (a[k] and b[k] side by side): the geometric mean of the per-round
 * ratios, with a Student-t CI on their logs (df = rounds - 1). Pairing removes what the rounds share (the machine's
 * level at the time) from the comparison. Null below two rounds.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): LevelRatio | null {
  const n = Math.min(a.length, b.length);
  if (n < 2) return null;
  const logs = Array.from({ length: n }, (_, k) => logOf(a[k]!) - logOf(b[k]!));
  const m = mean(logs);
  const half = (tQuantile975(n - 1) * sd(logs)) / Math.sqrt(n);
  return { ratio: Math.exp(m), ci95: [Math.exp(m - half), Math.exp(m + half)], pairs: n, df: n - 1 };
}

/**
 * a/b from invocation levels that did not run side by side (two runs, a baseline): ratio of geometric means with a
 * Welch t CI on the logs. Null unless both have two levels or more.
 */
export function unpairedRatio(a: readonly number[], b: readonly number[]): LevelRatio | null {
  if (a.length < 2 || b.length < 2) return null;
  const la = a.map(logOf);
  const lb = b.map(logOf);
  const va = sd(la) ** 2 / la.length;
  const vb = sd(lb) ** 2 / lb.length;
  const m = mean(la) - mean(lb);
  const se = Math.sqrt(va + vb);
  // Welch-Satterthwaite degrees of freedom; with no spread on either side, the smaller count's.
  const df =
    se > 0
      ? (va + vb) ** 2 / (va ** 2 / (la.length - 1) + vb ** 2 / (lb.length - 1))
      : Math.min(la.length, lb.length) - 1;
  const half = tQuantile975(Math.max(1, df)) * se;
  return {
    ratio: Math.exp(m),
    ci95: [Math.exp(m - half), Math.exp(m + half)],
    pairs: Math.min(a.length, b.length),
    df: Math.max(1, Math.floor(df)),
  };
}

/** What one invocation tells about its level: its median, that median's own CI, its steady samples and costs. */
export interface InvocationFacts {
  medianMs: number;
  ci95: [number, number] | null;
  steadySamples: number;
  /** Its own time before its steady state (warm-up passes and unsteady samples). */
  warmupMs: number;
  /** Cost of getting a fresh start to its steady state: cold start plus warmupMs. */
  freshStartMs: number;
  /** Own time of one steady sample. */
  sampleMs: number;
}

/** The variance of one invocation's median from its own CI (a 95% CI spans about 2 x 1.96 standard errors). */
function medianVariance(f: InvocationFacts): number {
  if (!f.ci95) return 0;
  const se = (f.ci95[1] - f.ci95[0]) / (2 * 1.96);
  return se * se;
}

/**
 * The level across invocations, the variance within and between them, and the steady samples per invocation
 * that buy the most precision for the time: n* = sqrt((fresh start / sample) x (per-sample within var / between
 * var)), Kalibera & Jones' optimum for a two-level design. Disagreement: some invocation's median lies outside
 * another's own CI both ways round (levels that each claim to be pinned, and differ).
 */
export function acrossInvocations(facts: readonly InvocationFacts[]): AcrossInvocations {
  const levels = facts.map((f) => f.medianMs);
  const { level, ci95, df } = levelCI(levels);
  const withinVar = mean(facts.map(medianVariance));
  const observed = levels.length > 1 ? sd(levels) ** 2 : 0;
  const betweenVar = Math.max(0, observed - withinVar);
  const perSampleWithin = mean(facts.map((f) => medianVariance(f) * f.steadySamples));
  const freshStart = mean(facts.map((f) => f.freshStartMs));
  const sample = mean(facts.map((f) => f.sampleMs));
  const suggested =
    betweenVar > 0 && sample > 0 && perSampleWithin > 0
      ? Math.max(1, Math.round(Math.sqrt((freshStart / sample) * (perSampleWithin / betweenVar))))
      : null;
  const outside = (a: InvocationFacts, b: InvocationFacts) =>
    a.ci95 !== null && (b.medianMs < a.ci95[0] || b.medianMs > a.ci95[1]);
  const disagree = facts.some((a, i) => facts.some((b, j) => i < j && outside(a, b) && outside(b, a)));
  return {
    invocations: facts.length,
    levelMs: level,
    ci95,
    df,
    withinVar,
    betweenVar,
    suggestedSamples: suggested,
    disagree,
  };
}

/** Relative half-width of a CI around a level; null without a CI or a level. */
export function relativeHalf(level: number, ci95: readonly [number, number] | null): number | null {
  if (!ci95 || level <= 0) return null;
  return (ci95[1] - ci95[0]) / 2 / level;
}
