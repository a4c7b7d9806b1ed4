/**
 * Validity flags of a cell: reasons to doubt its numbers, judged from what was measured. Pure.
 */
import { ratioOfMedians } from './compare.ts';
import type { Percentile, Sample, StageSummaries, SteadyState, Validity } from '../schema.ts';
import { PERCENTILES } from '../schema.ts';
import { COARSE_TICKS } from './sampling.ts';
import { median } from './stats.ts';
import { slowdownRatio } from './steady-state.ts';
import { STAGES } from '../stages.ts';

/** A drift whose CI excludes 1 and that is larger than this (relative) is flagged. */
export const DRIFT_THRESHOLD = 0.05;

/**
 * Least samples a percentile needs: at least two samples above it (n (1 - p) >= 2), else it is just the maximum
 * or an interpolation towards it. So no p99 from 20 samples.
 */
export const PERCENTILE_MIN_SAMPLES: Record<Percentile, number> = { p90: 20, p95: 40, p99: 200 };

export function unsupportedPercentiles(n: number): Percentile[] {
  return PERCENTILES.filter((p) => n < PERCENTILE_MIN_SAMPLES[p]);
}

/** First third of the samples against the last third (ratio last / first); null below 9 samples. */
export function driftOf(totals: readonly number[], seed = 1): Validity['drift'] {
  const third = Math.floor(totals.length / 3);
  if (third < 3) return null;
  // Floored at 1 ns: samples of a pass under one tick read 0, and a ratio over 0 (Infinity, NaN) has no place in
  // a result file (JSON can't hold it, and the whole file would fail validation).
  const first = totals.slice(0, third).map((t) => Math.max(t, 1e-6));
  const last = totals.slice(totals.length - third).map((t) => Math.max(t, 1e-6));
  const r = ratioOfMedians(last, first, seed, 1000);
  const excludesOne = r.ci95[0] > 1 || r.ci95[1] < 1;
  return {
    firstMedian: median(first),
    lastMedian: median(last),
    ratio: r.ratio,
    ci95: r.ci95,
    flagged: excludesOne && Math.abs(r.ratio - 1) > DRIFT_THRESHOLD,
  };
}

export interface ValidityContext {
  pageHidden: boolean;
  /** null: not watched (left out of the result, which then doesn't claim the cell ran alone). */
  overlapped: string[] | null;
  softwareGpu: boolean;
  tickMs: number;
  iterations: number;
}

/** `samples` are the steady ones: drift is judged inside the steady state (warm-up is reported apart). */
export function assessValidity(samples: readonly Sample[], summary: StageSummaries, ctx: ValidityContext): Validity {
  // A sample of k passes spans k times the per-pass value: that is what the timer resolved.
  const coarse = (m: number) => m * ctx.iterations < COARSE_TICKS * ctx.tickMs;
  const coarseStages: Validity['coarseStages'] = [];
  for (const stage of STAGES) {
    const s = summary[stage];
    if (s && coarse(s.median)) coarseStages.push(stage);
  }
  if (coarse(summary.total.median)) coarseStages.push('total');
  return {
    pageHidden: ctx.pageHidden,
    ...(ctx.overlapped ? { overlapped: ctx.overlapped } : {}),
    drift: driftOf(samples.map((s) => s.total)),
    softwareGpu: ctx.softwareGpu,
    coarseStages,
    unsupportedPercentiles: unsupportedPercentiles(samples.length),
  };
}

/** "measured while a run in another tab of the lab ran": what overlapped a measurement, in one phrase. */
export function measuredWhile(overlapped: readonly string[]): string {
  return `measured while ${overlapped.join(' and ')} ran`;
}

/** The flag of a measurement that overlapped others (a cell's, a monitor's). */
export function overlapFlag(overlapped: readonly string[]): string {
  return `${measuredWhile(overlapped)}: they shared the cores`;
}

/**
 * Short flags for tables ("drift +7%", ...); empty when nothing is wrong. Tiny side stages (a 10 us copy) are
 * almost always under 20 ticks, so only a coarse inference or total is a flag; tables mark the other stages.
 * Drift is flagged only inside the steady state, or when the cell got slower or never settled: warm-up before
 * the steady state is not drift (the warm-up curve reports it).
 */
export function validityFlags(v: Validity, steady?: SteadyState): string[] {
  const flags: string[] = [];
  if (v.pageHidden) flags.push('page hidden while sampling: browsers throttle hidden pages');
  if (v.overlapped?.length) flags.push(overlapFlag(v.overlapped));
  if (steady?.classification === 'slowdown') {
    // How much slower the steady level is than the fastest level before it (the measure classification used).
    const segments = steady.segments.map((g) => ({ start: g.start, end: g.end, median: g.medianMs }));
    const ratio = slowdownRatio(segments, steady.steadyStart, segments[segments.length - 1]?.end ?? 0);
    const pct = ratio === null ? '' : `+${((ratio - 1) * 100).toFixed(0)}% `;
    flags.push(`drift: slowdown ${pct}from ${(steady.warmupMs / 1000).toFixed(1)} s (pass ${steady.warmupPasses}) on`);
  }
  if (steady?.classification === 'no-steady-state')
    flags.push(
      `drift: no steady state (level still changing at ${(steady.warmupMs / 1000).toFixed(1)} s, pass ${steady.warmupPasses})`,
    );
  if (steady?.alternation) {
    const a = steady.alternation;
    flags.push(
      `noisy: the steady state flips between ${a.lowMs.toPrecision(3)} and ${a.highMs.toPrecision(3)} ms (${a.switches} switches; the machine, not the model; the median mixes them)`,
    );
  }
  if (v.drift?.flagged)
    flags.push(
      `drift ${v.drift.ratio > 1 ? '+' : ''}${((v.drift.ratio - 1) * 100).toFixed(0)}% inside the steady state (its last third vs first)`,
    );
  if (v.softwareGpu) flags.push('software GPU: correctness, not GPU speed');
  const key = v.coarseStages.filter((s) => s === 'total' || s === 'inference');
  if (key.length) flags.push(`${key.join(' and ')} under ${COARSE_TICKS} timer ticks: coarse`);
  return flags;
}
