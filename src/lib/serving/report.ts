/**
 * What a serving run stores (inside the result file, `serving`) and how a load point is summarised: latency
 * percentiles with a CI, the per-request breakdown (batch formation, queueing, inference), achieved throughput and
 * whether the point is past saturation. Also monitor windows with drift flags. Pure.
 */
import { z } from 'zod';
import { ratioOfMedians } from '../compare.ts';
import { medianCI, quantile, sortSamples } from '../stats.ts';
import { BatcherConfig } from './batcher.ts';
import type { RequestRecord } from './simulate.ts';

const Pct = z.object({ p50: z.number(), p95: z.number(), p99: z.number(), mean: z.number(), max: z.number() });

export const ServingPoint = z.object({
  rate: z.number().positive(),
  batcher: BatcherConfig,
  workers: z.number().int().positive(),
  offered: z.number().int().nonnegative(),
  completed: z.number().int().nonnegative(),
  dropped: z.number().int().nonnegative(),
  /** Completed requests per second over the span from the first arrival to the last completion. */
  achievedRps: z.number().nonnegative(),
  /** End-to-end latency per request (arrival -> result back on the page), ms. */
  latency: Pct,
  /** Bootstrap-free CI of the p99: order statistics around it (distribution-free, like the median's). */
  p99CI: z.tuple([z.number(), z.number()]).nullable(),
  /** Medians per request: waiting for the batch to fill, waiting for a worker, the batch's inference, the rest. */
  breakdown: z.object({ formation: z.number(), queue: z.number(), inference: z.number(), overhead: z.number() }),
  meanBatch: z.number(),
  /**
   * The queue grew during the run: draining what was left after the last arrival took over 10% of the run (or
   * requests were dropped). Past this point latencies depend on how long the run lasts, not just on the load.
   */
  saturated: z.boolean(),
  /** How late the page's arrival timer fired (ms, p99): dispatch delay the harness itself adds. */
  schedulerLateP99: z.number().nullable(),
  requests: z.object({ arrival: z.array(z.number()), ready: z.array(z.number()), start: z.array(z.number()), end: z.array(z.number()), inference: z.array(z.number()), batch: z.array(z.number()), worker: z.array(z.number()) }),
});
export type ServingPoint = z.infer<typeof ServingPoint>;

export const CapacityResult = z.object({
  batcher: BatcherConfig,
  workers: z.number().int().positive(),
  percentile: z.enum(['p95', 'p99']),
  budgetMs: z.number().positive(),
  /** Highest rate found whose percentile met the budget; null when even the lowest probe failed. */
  rate: z.number().nullable(),
  /** The bracket the search ended in: [highest passing, lowest failing] rates, both measured; null otherwise. */
  bracket: z.tuple([z.number(), z.number()]).nullable(),
  /**
   * `bracketed`: a failing rate was measured above `rate`; `at-least`: none failed up to the highest rate tried, so
   * `rate` is a lower bound; `none`: every rate tried missed the budget.
   */
  bound: z.enum(['bracketed', 'at-least', 'none']).default('bracketed'),
  probes: z.array(z.object({ rate: z.number(), value: z.number(), ci: z.tuple([z.number(), z.number()]).nullable(), pass: z.boolean() })),
});
export type CapacityResult = z.infer<typeof CapacityResult>;

export const MonitorWindow = z.object({
  startMs: z.number(),
  n: z.number().int(),
  p50: z.number(),
  p95: z.number(),
  p99: z.number(),
  /** Median of this window over the baseline window's (the second; the first when there are under 3), bootstrap CI. */
  ratio: z.number(),
  ci95: z.tuple([z.number(), z.number()]),
  flagged: z.boolean(),
  jsHeapBytes: z.number().nullable(),
  wasmHeapBytes: z.number().nullable(),
  tfjsTensors: z.number().nullable(),
});
export type MonitorWindow = z.infer<typeof MonitorWindow>;

export const MonitorResult = z.object({
  cadenceMs: z.number().positive(),
  durationMs: z.number().positive(),
  windowMs: z.number().positive(),
  threshold: z.number(),
  samples: z.object({ at: z.array(z.number()), ms: z.array(z.number()) }),
  windows: z.array(MonitorWindow),
  /** Heap growth from the first to the last window, per hour (bytes); null without heap readings. */
  heapGrowthPerHour: z.number().nullable(),
  flags: z.array(z.string()),
});
export type MonitorResult = z.infer<typeof MonitorResult>;

export const ServingReport = z.object({
  modelId: z.string(),
  target: z.string(),
  threads: z.number().int().positive(),
  durationMs: z.number().positive(),
  seed: z.number().int(),
  /** Median inference time per batch size, measured on the workers during the run. */
  serviceByBatch: z.array(z.object({ batch: z.number().int(), medianMs: z.number(), n: z.number().int() })),
  points: z.array(ServingPoint),
  capacity: z.array(CapacityResult),
  monitor: MonitorResult.nullable(),
});
export type ServingReport = z.infer<typeof ServingReport>;

/** A request as the real-time runner records it: RequestRecord plus the worker-timed inference. */
export interface MeasuredRequest extends RequestRecord {
  inferenceMs: number;
}

function pct(xs: readonly number[]): z.infer<typeof Pct> {
  if (!xs.length) return { p50: 0, p95: 0, p99: 0, mean: 0, max: 0 };
  const s = sortSamples(xs);
  return { p50: quantile(s, 0.5), p95: quantile(s, 0.95), p99: quantile(s, 0.99), mean: s.reduce((a, b) => a + b, 0) / s.length, max: s[s.length - 1]! };
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

export function summarizePoint(rate: number, batcher: BatcherConfig, workers: number, offered: number, records: readonly MeasuredRequest[], dropped: number, lateness: readonly number[]): ServingPoint {
  const latency = records.map((r) => r.endMs - r.arrivalMs);
  const first = Math.min(...records.map((r) => r.arrivalMs));
  const last = Math.max(...records.map((r) => r.endMs));
  const achievedRps = records.length > 1 ? (records.length / (last - first)) * 1000 : 0;
  const median = (xs: number[]) => (xs.length ? quantile(sortSamples(xs), 0.5) : 0);
  return {
    rate,
    batcher,
    workers,
    offered,
    completed: records.length,
    dropped,
    achievedRps,
    latency: pct(latency),
    p99CI: quantileCI(latency, 0.99),
    breakdown: {
      formation: median(records.map((r) => r.readyMs - r.arrivalMs)),
      queue: median(records.map((r) => r.startMs - r.readyMs)),
      inference: median(records.map((r) => r.inferenceMs)),
      overhead: median(records.map((r) => Math.max(0, r.endMs - r.startMs - r.inferenceMs))),
    },
    meanBatch: records.length ? records.reduce((a, r) => a + r.batchSize, 0) / records.length : 0,
    saturated: dropped > 0 || (records.length > 1 && last - Math.max(...records.map((r) => r.arrivalMs)) > 0.1 * Math.max(1, Math.max(...records.map((r) => r.arrivalMs)) - first)),
    schedulerLateP99: lateness.length ? quantile(sortSamples(lateness), 0.99) : null,
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
export function monitorWindows(at: readonly number[], ms: readonly number[], windowMs: number, threshold: number, memory: (startMs: number) => Pick<MonitorWindow, 'jsHeapBytes' | 'wasmHeapBytes' | 'tfjsTensors'>): MonitorWindow[] {
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
      return { startMs: w * windowMs, n: xs.length, p50: quantile(s, 0.5), p95: quantile(s, 0.95), p99: quantile(s, 0.99), ratio: r.ratio, ci95: r.ci95, flagged: w > baseIndex && excludes && Math.abs(r.ratio - 1) > threshold, ...memory(w * windowMs) };
    });
}

export { medianCI };
