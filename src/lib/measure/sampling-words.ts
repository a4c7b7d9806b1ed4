/**
 * A cell's sampling in words: why it stopped, how precise it got, and what it would take to reach its target
 * ("time cap, ±3.4% (target ±2.0%; ~8 s)"). The decisions themselves are sampling.ts and invocation-plan.ts.
 */
import { MAX_SAMPLING_MS, type SamplingReport, type StopReason } from '../schema.ts';

/**
 * The sampling time a cell would need, as people set it (`--max-time`): whole seconds, rounded up, and at least one
 * more than it had; null without a projection, Infinity past the longest budget a plan may give.
 */
export function neededSeconds(r: Pick<SamplingReport, 'neededMs' | 'samplingMs'>): number | null {
  if (r.neededMs === null) return null;
  const s = Math.max(Math.ceil(r.neededMs / 1000), Math.floor(r.samplingMs / 1000) + 1);
  return s * 1000 > MAX_SAMPLING_MS ? Infinity : s;
}

/** The projection in a few words: "~31 s", "over an hour"; null without one. */
export function neededShort(r: Pick<SamplingReport, 'neededMs' | 'samplingMs'>): string | null {
  const s = neededSeconds(r);
  return s === null ? null : s === Infinity ? 'over an hour' : `~${s} s`;
}

/** The projection as advice: the time cap to give (`--max-time 31`), or, past an hour, that the target is out of reach. */
export function neededAdvice(r: Pick<SamplingReport, 'neededMs' | 'samplingMs'>): string | null {
  const s = neededSeconds(r);
  if (s === null) return null;
  if (s === Infinity)
    return 'over an hour of sampling would reach it (more than a time cap may be: loosen the target, --target-ci)';
  return `about ${s} s of sampling would reach it (a time cap of ${s} s: --max-time ${s})`;
}

/** The stop reasons in a word or two, for table cells. */
export const STOP_SHORT: Record<StopReason, string> = {
  'precision-reached': 'target met',
  'max-time': 'time cap',
  'max-samples': 'sample cap',
  'fixed-count': 'fixed',
  'max-invocations': 'invocation cap',
};

/** A relative CI half-width as people read it: "±1.6%" ("no CI" when there is none). */
const plusMinus = (x: number | null) => (x === null ? 'no CI' : `±${(x * 100).toFixed(1)}%`);

/**
 * A table cell's words for why sampling stopped: "target met (±1.6%)", "time cap, ±3.4% (target ±2.0%; ~8 s)".
 * describeStop says it in full (the page's tooltip, the reports).
 */
export function stopShort(r: SamplingReport): string {
  const ci = plusMinus(r.achievedCI);
  if (r.stopReason === 'fixed-count') return `fixed count (${ci})`;
  if (r.stopReason === 'precision-reached') return `${STOP_SHORT[r.stopReason]} (${ci})`;
  const needed = neededShort(r);
  return `${STOP_SHORT[r.stopReason]}, ${ci} (target ${plusMinus(r.targetCI ?? 0)}${needed === null ? '' : `; ${needed}`})`;
}

/** One line for tables: why sampling stopped, and how precise the median is. */
export function describeStop(r: SamplingReport): string {
  const ci = plusMinus(r.achievedCI);
  const target = plusMinus(r.targetCI ?? 0);
  const needed = neededShort(r);
  const reach = needed === null ? '' : `; ${needed} of sampling would reach it`;
  switch (r.stopReason) {
    case 'fixed-count':
      return `fixed count (${ci})`;
    case 'precision-reached':
      return `precision reached (${ci} <= ${target})`;
    case 'max-samples':
      return `sample cap: precision not reached (${ci}, target ${target}${reach})`;
    case 'max-time':
      return `time cap: precision not reached (${ci}, target ${target}${reach})`;
    case 'max-invocations':
      return `invocation cap: precision not reached (${ci}, target ${target}${reach})`;
    default: {
      const never: never = r.stopReason;
      return String(never);
    }
  }
}

/** The words that start a precision warning (a merged cell replaces its invocations' own with its own). */
export const PRECISION_WARNING = 'precision not reached';

/** A cell's warning when auto sampling stopped at a cap with its CI wider than the target; null otherwise. */
export function precisionWarning(sampling: SamplingReport, steadyCount: number): string | null {
  if (sampling.precisionReached !== false) return null;
  const { achievedCI, targetCI } = sampling;
  const cap =
    sampling.stopReason === 'max-time' ? 'time' : sampling.stopReason === 'max-invocations' ? 'invocation' : 'sample';
  const ci =
    achievedCI === null
      ? `no CI (${steadyCount} steady samples; a CI needs 6)`
      : `median ±${(achievedCI * 100).toFixed(1)}%`;
  // The CI can meet the target while the other stop rules (least warm-up time, a steady stretch whose thirds
  // agree) are not met yet: say which, so a narrow CI isn't read as a missed target.
  const met = achievedCI !== null && targetCI !== null && achievedCI <= targetCI;
  const advice = neededAdvice(sampling);
  const reach = advice === null ? '' : `; ${advice}`;
  return `${PRECISION_WARNING}: ${ci} ${met ? 'met' : 'missed'} the ±${((targetCI ?? 0) * 100).toFixed(1)}% target${met ? ', but the steady state was not confirmed (least warm-up time, thirds that agree)' : ''} before the ${cap} cap${reach}`;
}
