/**
 * A cell's invocations made into one cell result: samples marked with their invocation, a summary whose medians
 * and CIs are across invocations (percentiles pool the steady samples), each invocation's steady state and level
 * kept, and the level's variance within and between. The first invocation stays the face of the cell (its cold
 * start, warm-up curve, proof, outputs): it is the coldest start, the one a visitor meets. Pure.
 */
import type { InvocationFacts } from './invocations.ts';
import { acrossInvocations, levelCI, relativeHalf } from './invocations.ts';
import type { Invocation, OkCellResult, Sample, Stage, StageSummaries, StopReason, Summary } from '../schema.ts';
import { STAGES } from '../stages.ts';
import { PRECISION_WARNING, precisionWarning } from './sampling-words.ts';
import { summarizeStages } from './stats.ts';
import { unsupportedPercentiles } from './validity.ts';

/** What one invocation contributes to the planner: its level, its own CI and what it cost. */
export function invocationFacts(r: OkCellResult): InvocationFacts {
  const steady = r.samples.slice(r.steadyState.steadyStart);
  const steadyOwn = steady.reduce((t, s) => t + s.total * s.iterations, 0);
  const c = r.coldStart;
  return {
    medianMs: r.summary.total.median,
    ci95: r.summary.total.medianCI95,
    steadySamples: steady.length,
    warmupMs: r.steadyState.warmupMs,
    freshStartMs: c.sessionCreateMs + c.firstInferenceMs + r.steadyState.warmupMs,
    sampleMs: steady.length ? steadyOwn / steady.length : 0,
  };
}

function invocationOf(r: OkCellResult, index: number, firstSample: number): Invocation {
  return {
    index,
    startedAt: r.startedAt,
    firstSample,
    samples: r.samples.length,
    steadyStart: firstSample + r.steadyState.steadyStart,
    classification: r.steadyState.classification,
    medianMs: r.summary.total.median,
    ci95: r.summary.total.medianCI95,
    warmupMs: r.steadyState.warmupMs,
    samplingMs: r.sampling.samplingMs,
    coldStartMs: r.coldStart.sessionCreateMs + r.coldStart.firstInferenceMs,
    stopReason: r.sampling.stopReason,
  };
}

/** A stage's summary over pooled samples, with its median and CI replaced by the level across invocations. */
function acrossLevels(pooled: Summary, levels: readonly number[], tickPerPassMs: number): Summary {
  const { level, ci95 } = levelCI(levels);
  return { ...pooled, median: level, medianCI95: ci95 && widenToTick(ci95, level, tickPerPassMs) };
}

/**
 * A CI no narrower than what the timer can resolve: samples quantised to ticks can all read the same value, and a
 * zero-width CI would claim a precision the clock never had. Half a tick per pass either side, at least.
 */
export function widenToTick(ci95: readonly [number, number], centre: number, tickPerPassMs: number): [number, number] {
  const half = tickPerPassMs / 2;
  return [Math.min(ci95[0], centre - half), Math.max(ci95[1], centre + half)];
}

/** Every stage's summary with its median's CI at least the timer's half tick per pass wide. */
export function summariesWidenedToTick(summary: StageSummaries, tickPerPassMs: number): StageSummaries {
  const widen = (s: Summary): Summary =>
    s.medianCI95 ? { ...s, medianCI95: widenToTick(s.medianCI95, s.median, tickPerPassMs) } : s;
  const out = { ...summary, total: widen(summary.total) };
  for (const stage of STAGES) {
    const s = summary[stage];
    out[stage] = s ? widen(s) : null;
  }
  return out;
}

/**
 * The timer's tick per pass over `samples`: a sample of k passes resolves a per-pass value to tick / k, and the most
 * passes any sample timed is the finest resolution reached.
 */
export function tickPerPass(samples: readonly Sample[], timerResolutionMs: number): number {
  return timerResolutionMs / samples.reduce((k, s) => Math.max(k, s.iterations), 1);
}

/** How the invocations ended, decided by the planner. */
export interface InvocationsEnd {
  stopReason: StopReason;
  neededMs: number | null;
  /** Warnings of the run about the invocations (one that failed after others succeeded, say). */
  warnings: readonly string[];
}

function mergedSummary(runs: readonly OkCellResult[], steady: readonly Sample[]): StageSummaries {
  const pooled = summarizeStages(steady);
  const tick = Math.max(...runs.map((r) => tickPerPass(r.samples, r.timerResolutionMs)));
  const level = (stage: Stage | 'total') => runs.map((r) => (stage === 'total' ? r.summary.total : r.summary[stage]));
  const out = {
    ...pooled,
    total: acrossLevels(
      pooled.total,
      level('total').map((s) => s!.median),
      tick,
    ),
  };
  for (const stage of STAGES) {
    const each = level(stage);
    const p = pooled[stage];
    out[stage] =
      p && each.every((s) => s)
        ? acrossLevels(
            p,
            each.map((s) => s!.median),
            tick,
          )
        : p;
  }
  return out;
}

function levelsWarning(runs: readonly OkCellResult[]): string {
  const levels = runs.map((r) => r.summary.total.median.toPrecision(3)).join(', ');
  return `invocations settle at different levels: ${levels} ms (fresh starts of this cell; some exclude each other's medians from their own CIs, so the cell's CI is across them)`;
}

/** One cell result from its invocations, in the order they ran (at least one). */
export function mergeInvocations(runs: readonly OkCellResult[], end: InvocationsEnd): OkCellResult {
  const first = runs[0];
  if (!first) throw new RangeError('a cell needs at least one invocation');
  const samples: Sample[] = [];
  const invocations: Invocation[] = [];
  for (const [k, r] of runs.entries()) {
    invocations.push(invocationOf(r, k, samples.length));
    for (const s of r.samples) samples.push({ ...s, invocation: k });
  }
  if (runs.length === 1)
    return { ...first, samples, invocations, acrossInvocations: null, warnings: [...first.warnings, ...end.warnings] };
  const steady = invocations.flatMap((inv) => samples.slice(inv.steadyStart, inv.firstSample + inv.samples));
  const summary = mergedSummary(runs, steady);
  const across = acrossInvocations(runs.map(invocationFacts));
  const achievedCI = relativeHalf(summary.total.median, summary.total.medianCI95);
  const auto = first.sampling.mode === 'auto';
  // Each invocation judged its own precision against its share of the time; the cell's is the level's, below.
  const warnings = [...new Set(runs.flatMap((r) => r.warnings))].filter((w) => !w.startsWith(PRECISION_WARNING));
  if (across.disagree) warnings.push(levelsWarning(runs));
  const merged: OkCellResult = {
    ...first,
    durationMs: runs.reduce((t, r) => t + r.durationMs, 0),
    coldStarts: runs.map((r) => r.coldStart),
    sampling: {
      ...first.sampling,
      stopReason: end.stopReason,
      achievedCI,
      precisionReached: auto ? end.stopReason === 'precision-reached' : null,
      blocks: runs.reduce((t, r) => t + r.sampling.blocks, 0),
      samplingMs: runs.reduce((t, r) => t + r.sampling.samplingMs, 0),
      neededMs: auto && end.stopReason !== 'precision-reached' ? end.neededMs : null,
    },
    validity: {
      ...first.validity,
      pageHidden: runs.some((r) => r.validity.pageHidden),
      // Watched only if every invocation was: an unwatched one could have overlapped anything.
      ...(runs.every((r) => r.validity.overlapped)
        ? { overlapped: [...new Set(runs.flatMap((r) => r.validity.overlapped!))] }
        : {}),
      coarseStages: [...new Set(runs.flatMap((r) => r.validity.coarseStages))],
      unsupportedPercentiles: unsupportedPercentiles(steady.length),
    },
    samples,
    summary,
    invocations,
    acrossInvocations: across,
    warnings: [...warnings, ...end.warnings],
  };
  const precision = precisionWarning(merged.sampling, steady.length);
  if (precision) merged.warnings.unshift(precision);
  return merged;
}
