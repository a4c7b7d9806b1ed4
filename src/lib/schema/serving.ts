/**
 * The serving part of the result file (`serving`) as zod schemas, and nothing that computes: src/lib/schema.ts
 * imports these, and the summaries that fill them (src/lib/serving/report.ts) import the statistics, which import
 * schema.ts' types. Kept apart so the schema has no import cycle through the computation.
 */
import { z } from 'zod';

/** The dynamic batcher's settings (src/lib/serving/batcher.ts runs them). */
export const BatcherConfig = z
  .object({
    /** 1 = no batching. */
    maxBatch: z.number().int().min(1, 'maxBatch must be in 1..1024').max(1024, 'maxBatch must be in 1..1024'),
    /** How long a batch may wait to fill; 0 = send what is there as soon as a worker is free. */
    maxWaitMs: z.number().min(0, 'maxWaitMs must be in 0..10000').max(10_000, 'maxWaitMs must be in 0..10000'),
    /** Requests waiting (not yet in a batch) beyond this are dropped by `dropPolicy`; null = no limit. */
    queueLimit: z.number().int().min(1, 'queueLimit must be in 1..1000000').max(1_000_000).nullable().default(null),
    /** `reject-new`: the arriving request is dropped; `drop-oldest`: the longest-waiting one is. */
    dropPolicy: z.enum(['reject-new', 'drop-oldest']).default('reject-new'),
  })
  .strict();
export type BatcherConfig = z.infer<typeof BatcherConfig>;

export const Pct = z.object({ p50: z.number(), p95: z.number(), p99: z.number(), mean: z.number(), max: z.number() });
export type Pct = z.infer<typeof Pct>;

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
  /** The same for the p95 (the interval a p95 budget is judged with). */
  p95CI: z.tuple([z.number(), z.number()]).nullable().default(null),
  /** Requests whose batch's pass failed in the worker: offered = completed + dropped + failed. */
  failed: z.number().int().nonnegative().default(0),
  /** The first few failures, in the runtime's words. */
  failures: z.array(z.string()).default([]),
  /** Medians per request: waiting for the batch to fill, waiting for a worker, the batch's inference, the rest. */
  breakdown: z.object({ formation: z.number(), queue: z.number(), inference: z.number(), overhead: z.number() }),
  meanBatch: z.number(),
  /**
   * The queue grew during the run: draining what was left after the last arrival took over 10% of the run (or
   * requests were dropped). Past this point latencies depend on how long the run lasts, not just on the load.
   */
  saturated: z.boolean(),
  /**
   * Other measurements of the lab that ran during this point (src/app/overlap.ts), described; its latencies carry
   * their load. [] when none (and in files before version 9).
   */
  overlapped: z.array(z.string()).default([]),
  /** How late the page's arrival timer fired (ms, p99): dispatch delay the harness itself adds. */
  schedulerLateP99: z.number().nullable(),
  /**
   * What the dispatcher predicts in virtual time for this point's arrivals, fed its own measured service times
   * (each batch's start to its result back on the page)
   * (src/lib/serving/predict.ts): the gap to the measurement is what the harness adds.
   */
  predicted: z.object({ p50: z.number(), p99: z.number(), achievedRps: z.number() }).nullable().default(null),
  requests: z.object({
    arrival: z.array(z.number()),
    ready: z.array(z.number()),
    start: z.array(z.number()),
    end: z.array(z.number()),
    inference: z.array(z.number()),
    batch: z.array(z.number()),
    worker: z.array(z.number()),
  }),
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
  /** Other measurements that ran during any of its probes (as a point's `overlapped`); [] when none. */
  overlapped: z.array(z.string()).default([]),
  probes: z.array(
    z.object({
      rate: z.number(),
      value: z.number(),
      ci: z.tuple([z.number(), z.number()]).nullable(),
      pass: z.boolean(),
    }),
  ),
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
