/**
 * How a serving load point is summarised: latency percentiles with a CI, the per-request breakdown (batch
 * formation, queueing, inference), achieved throughput and whether the point is past saturation. Also monitor
 * windows with drift flags. Pure. The schemas of what is stored live in src/lib/schema/serving.ts.
 */
import { ratioOfMedians } from '../measure/compare.ts';
import { quantile, sortSamples } from '../measure/stats.ts';
import type { RequestRecord } from './dispatch.ts';
import type { BatcherConfig, MonitorWindow, Pct, ServingPoint } from '../schema/serving.ts';

/** A request as the real-time runner records it: RequestRecord plus the worker-timed inference. */
/** A request as served (the dispatcher's record: its batch's service time included). */
export type MeasuredRequest = RequestRecord;

function pct(xs: readonly number[]): Pct {
  if (!xs.length) return { p50: 0, p95: 0, p99: 0, mean: 0, max: 0 };
  const s = sortSamples(xs);
  return {
    p50: quantile(s, 0.5),
    p95: quantile(s, 0.95),
    p99: quantile(s, 0.99),
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    max: s[s.length - 1]!,
  };
}

/** Distribution-free CI of a quantile q: order statistics at n q -+ 1.96 sqrt(n q (1 - q)) (normal approximation). */
export function quantileCI(xs: readonly number[], q: number): [number, number] | null {
  const n = xs.length;
  if (n < 20) return null;
  const s = sortSamples(xs);
  const half = 1.96 * Math.sqrt(n * q * (1 - q));
  const lo = Math.max(0, Math.floor(n * q - half));
  const hi = Math.min(n - 1, Math.ceil(n * q + half));
  return [s[lo]!, s[hi]!];
}

/** Requests lost to failed passes at a load point, and the first few reasons. */
export interface PointFailures {
  requests: number;
  errors: string[];
}

/** Min and max of a long array by a loop: spreading 100k+ values into Math.min/max throws RangeError. */
function extent(xs: Iterable<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const x of xs) {
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return { min, max };
}

export function summarizePoint(
  rate: number,
  batcher: BatcherConfig,
  workers: number,
  offered: number,
  records: readonly MeasuredRequest[],
  dropped: number,
  lateness: readonly number[],
  failures: PointFailures = { requests: 0, errors: [] },
): ServingPoint {
  const latency = records.map((r) => r.endMs - r.arrivalMs);
  const arrivals = extent(records.map((r) => r.arrivalMs));
  const first = arrivals.min;
  const last = extent(records.map((r) => r.endMs)).max;
  const achievedRps = records.length > 1 ? (records.length / (last - first)) * 1000 : 0;
  const median = (xs: number[]) => (xs.length ? quantile(sortSamples(xs), 0.5) : 0);
  return {
    rate,
    batcher,
    workers,
    offered,
    completed: records.length,
    dropped,
    failed: failures.requests,
    failures: failures.errors,
    achievedRps,
    latency: pct(latency),
    p99CI: quantileCI(latency, 0.99),
    p95CI: quantileCI(latency, 0.95),
    breakdown: {
      formation: median(records.map((r) => r.readyMs - r.arrivalMs)),
      queue: median(records.map((r) => r.startMs - r.readyMs)),
      inference: median(records.map((r) => r.inferenceMs)),
      overhead: median(records.map((r) => Math.max(0, r.endMs - r.startMs - r.inferenceMs))),
    },
    meanBatch: records.length ? records.reduce((a, r) => a + r.batchSize, 0) / records.length : 0,
    saturated: dropped > 0 || (records.length > 1 && last - arrivals.max > 0.1 * Math.max(1, arrivals.max - first)),
    schedulerLateP99: lateness.length ? quantile(sortSamples(lateness), 0.99) : null,
    // Set by the page, which alone hears the lab's other measurements (src/app/overlap.ts).
    overlapped: [],
    predicted: null,
    requests: {
      arrival: records.map((r) => r.arrivalMs),
      ready: records.map((r) => r.readyMs),
      start: records.map((r) => r.startMs),
      end: records.map((r) => r.endMs),
      inference: records.map((r) => r.inferenceMs),
      batch: records.map((r) => r.batchSize),
      worker: records.map((r) => r.worker),
    },
  };
}

/** The lowest offered rate at which a batcher setting saturates, or null. */
export function saturationStart(points: readonly ServingPoint[]): number | null {
  const sat = points.filter((p) => p.saturated).map((p) => p.rate);
  return sat.length ? Math.min(...sat) : null;
}

/** Monitor windows: percentiles per window, ratio of medians against the baseline window, flagged past `threshold`. */
export function monitorWindows(
  at: readonly number[],
  ms: readonly number[],
  windowMs: number,
  threshold: number,
  memory: (startMs: number) => Pick<MonitorWindow, 'jsHeapBytes' | 'wasmHeapBytes' | 'tfjsTensors'>,
): MonitorWindow[] {
  if (!at.length) return [];
  const t0 = at[0]!;
  const groups = new Map<number, number[]>();
  at.forEach((t, i) => {
    const w = Math.floor((t - t0) / windowMs);
    const xs = groups.get(w) ?? [];
    xs.push(ms[i]!);
    groups.set(w, xs);
  });
  // The first window still carries warm-up (JIT tiers, caches): with three or more windows the second one is the
  // baseline, and the first is shown but not judged.
  const baseIndex = groups.size >= 3 && (groups.get(1)?.length ?? 0) >= 3 ? 1 : 0;
  const base = groups.get(baseIndex) ?? [];
  return [...groups.entries()]
    .sort((a, b) => a[0] - b[0])
    .filter(([, xs]) => xs.length >= 3)
    .map(([w, xs]) => {
      const s = sortSamples(xs);
      const r = ratioOfMedians(xs, base, w + 1, 500);
      const excludes = r.ci95[0] > 1 || r.ci95[1] < 1;
      return {
        startMs: w * windowMs,
        n: xs.length,
        p50: quantile(s, 0.5),
        p95: quantile(s, 0.95),
        p99: quantile(s, 0.99),
        ratio: r.ratio,
        ci95: r.ci95,
        flagged: w > baseIndex && excludes && Math.abs(r.ratio - 1) > threshold,
        ...memory(w * windowMs),
      };
    });
}
