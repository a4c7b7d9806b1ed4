/**
 * A cell's warm-up curve as a result: the steady-state analysis of its samples (steady-state.ts) turned
 * into the result file's `steadyState`, with times and pass counts a person can read ("steady after 2.4 s / 150
 * passes; first 10 passes 3.0x slower"). Pure.
 */
import type { OkCellResult, Sample, SteadyState } from '../schema.ts';
import { median } from './stats.ts';
import { analyseSteadyState, DEFAULT_STEADY_OPTIONS } from './steady-state.ts';
import { MAX_POINTS, MIN_SEGMENT_POINTS, PENALTY_PER_LOG_N } from './changepoints.ts';

/** "First N passes" compares at most this many of the first passes with the steady median. */
export const FIRST_PASSES = 10;

export interface WarmupPasses {
  /** Passes before sampling and their own time; `passMs`: wall times of the first of them, in order. */
  passes: number;
  totalMs: number;
  passMs: readonly number[];
}

/** The steady state of a cell's samples, and each sample's segment index. */
/** The least level a ratio divides by: 1 ns (a median of 0 is a pass under one timer tick). */
const RATIO_FLOOR_MS = 1e-6;

export function steadyStateOf(
  samples: readonly Sample[],
  warm: WarmupPasses,
  minSamples: number,
): { steadyState: SteadyState; segmentOf: number[] } {
  const options = { ...DEFAULT_STEADY_OPTIONS, minSteady: minSamples };
  const a = analyseSteadyState(
    samples.map((s) => s.total),
    options,
    samples.map((s) => s.total * s.iterations),
  );
  // Own time and passes before sample i: warm-up passes, then each sample's passes (total per pass x passes).
  const ownMsBefore: number[] = [warm.totalMs];
  const passesBefore: number[] = [warm.passes];
  for (const s of samples) {
    ownMsBefore.push(ownMsBefore[ownMsBefore.length - 1]! + s.total * s.iterations);
    passesBefore.push(passesBefore[passesBefore.length - 1]! + s.iterations);
  }
  const segmentOf = new Array<number>(samples.length);
  a.segments.forEach((seg, k) => segmentOf.fill(k, seg.start, seg.end));
  const changepoints = a.changepoints.map((sample, k) => ({
    sample,
    afterMs: ownMsBefore[sample]!,
    afterPasses: passesBefore[sample]!,
    at: samples[sample]?.at ?? null,
    // Medians can be 0 (passes under one timer tick): floored at 1 ns so the ratio stays finite and positive.
    ratio: Math.max(a.segments[k + 1]!.median, RATIO_FLOOR_MS) / Math.max(a.segments[k]!.median, RATIO_FLOOR_MS),
  }));
  // The first passes: warm-up passes when there were any, else the first samples (per pass).
  const head =
    warm.passMs.length > 0 ? warm.passMs.slice(0, FIRST_PASSES) : samples.slice(0, FIRST_PASSES).map((s) => s.total);
  const firstMedian = head.length ? median(head) : null;
  const steadyState: SteadyState = {
    classification: a.classification,
    method: `PELT on log per-pass times (bin medians of at most ${MAX_POINTS}, spikes filtered), penalty ${PENALTY_PER_LOG_N} ln n, segments >= ${MIN_SEGMENT_POINTS} points; steady = segments within ±${options.tolerance * 100}% of the last`,
    tolerance: options.tolerance,
    segments: a.segments.map((s) => ({ start: s.start, end: s.end, medianMs: s.median })),
    changepoints,
    steadyStart: a.steadyStart,
    steadySamples: samples.length - a.steadyStart,
    warmupMs: ownMsBefore[a.steadyStart]!,
    warmupPasses: passesBefore[a.steadyStart]!,
    steadyMs: ownMsBefore[samples.length]! - ownMsBefore[a.steadyStart]!,
    alternation: a.alternation,
    firstPasses:
      firstMedian === null || a.steadyMedian <= 0
        ? null
        : { count: head.length, medianMs: firstMedian, ratio: firstMedian / a.steadyMedian },
  };
  return { steadyState, segmentOf };
}

/** What the steady samples are read from (invocations absent: a cell made before they were listed). */
type CellSamples = Pick<OkCellResult, 'samples' | 'steadyState'> & Partial<Pick<OkCellResult, 'invocations'>>;

/**
 * The samples the cell's summary describes: the steady samples of each of its invocations (all samples for files
 * that predate the steady state; the one steady state for files that predate invocations).
 */
export function steadySamples(cell: CellSamples): Sample[] {
  if (cell.invocations && cell.invocations.length > 1)
    return cell.invocations.flatMap((inv) => cell.samples.slice(inv.steadyStart, inv.firstSample + inv.samples));
  return cell.samples.slice(cell.steadyState.steadyStart);
}

/** Each invocation's steady samples, in the order they ran (one list for a cell of one invocation). */
export function steadyByInvocation(cell: CellSamples): Sample[][] {
  if (cell.invocations && cell.invocations.length > 1)
    return cell.invocations.map((inv) => cell.samples.slice(inv.steadyStart, inv.firstSample + inv.samples));
  return [cell.samples.slice(cell.steadyState.steadyStart)];
}

function seconds(ms: number): string {
  return ms >= 10_000
    ? `${(ms / 1000).toFixed(0)} s`
    : ms >= 1000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${ms.toFixed(0)} ms`;
}

/** A short column for tables: "flat", "2.4 s/150p 3.0x", "slowdown +30%", "no steady state". */
export function warmupShort(s: SteadyState): string {
  const first = s.firstPasses && s.firstPasses.ratio >= 1.05 ? ` ${s.firstPasses.ratio.toFixed(1)}x` : '';
  switch (s.classification) {
    case 'flat':
      return `flat${first}`;
    case 'warm-up':
      return `${seconds(s.warmupMs)}/${s.warmupPasses}p${first}`;
    case 'slowdown':
      return `slowdown at ${seconds(s.warmupMs)}`;
    case 'no-steady-state':
      return 'no steady state';
    default: {
      const never: never = s.classification;
      return String(never);
    }
  }
}

/** "1 pass", "10 passes". */
const passes = (n: number) => `${n} ${n === 1 ? 'pass' : 'passes'}`;

/** One sentence for reports and the page. */
export function describeWarmup(s: SteadyState): string {
  const first = s.firstPasses
    ? `; first ${passes(s.firstPasses.count)} ${s.firstPasses.ratio.toFixed(1)}x the steady median`
    : '';
  const steady = `${s.steadySamples} steady ${s.steadySamples === 1 ? 'sample' : 'samples'} over ${seconds(s.steadyMs)}`;
  switch (s.classification) {
    case 'flat':
      return `flat: no level change after the first ${passes(s.warmupPasses)}${first}; ${steady}`;
    case 'warm-up':
      return `warm-up: steady after ${seconds(s.warmupMs)} / ${passes(s.warmupPasses)}${first}; ${steady}`;
    case 'slowdown':
      return `slowdown: got slower, steady (slower) level from ${seconds(s.warmupMs)} / ${passes(s.warmupPasses)}${first}; ${steady}`;
    case 'no-steady-state':
      return `no steady state: the level still changed ${seconds(s.warmupMs)} in (at pass ${s.warmupPasses}), leaving too few samples after it${first}`;
    default: {
      const never: never = s.classification;
      return String(never);
    }
  }
}
