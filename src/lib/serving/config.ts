/**
 * Settings of the serving simulator and monitor mode, validated the same way by the page and the CLI (before any
 * browser starts): every out-of-range value is named with its valid range.
 */
import { z } from 'zod';
import { SamplingSettings } from '../schema.ts';
import { BatcherConfig } from '../schema/serving.ts';
import { MONITOR_DEFAULTS, SERVING_DEFAULTS as S } from '../plan/defaults.ts';

export const ServingConfig = z
  .object({
    model: z.string().min(1),
    target: z.string().min(1),
    threads: z.number().int().min(1).max(64).default(S.threads),
    /** Offered loads to sweep, requests per second. */
    rates: z
      .array(z.number().gt(0, 'rates must be > 0 requests/s').max(100_000, 'rates must be <= 100000 requests/s'))
      .min(1)
      .max(50),
    /** Seconds of arrivals per load point (the queue then drains). */
    durationS: z
      .number()
      .min(0.2, 'durationS must be in 0.2..600')
      .max(600, 'durationS must be in 0.2..600')
      .default(S.durationS),
    batchers: z.array(BatcherConfig).min(1).max(10),
    workers: z
      .array(z.number().int().min(1, 'workers must be in 1..16').max(16, 'workers must be in 1..16'))
      .min(1)
      .default([...S.workers]),
    seed: z.number().int().default(S.seed),
    /** A recorded trace of arrival times (ms from the start) to replay instead of Poisson arrivals at `rates`. */
    trace: z
      .array(z.number().nonnegative('trace times must be >= 0 ms'))
      .min(1)
      .max(1_000_000)
      .nullable()
      .default(null),
    /** Capacity search: the highest rate whose p99 (or p95) stays within this many ms. */
    budgetMs: z.number().positive().nullable().default(null),
    percentile: z.enum(['p95', 'p99']).default(S.percentile),
    /** Probes of the capacity search, each durationS long. */
    capacityProbes: z.number().int().min(1).max(20).default(S.capacityProbes),
  })
  .strict();
export type ServingConfig = z.input<typeof ServingConfig>;

export const MonitorConfig = z
  .object({
    model: z.string().min(1),
    target: z.string().min(1),
    threads: z.number().int().min(1).max(64).default(S.threads),
    batch: z.number().int().min(1).max(4096).default(MONITOR_DEFAULTS.batch),
    cadenceMs: z.number().min(1, 'cadenceMs must be in 1..60000').max(60_000),
    durationS: z.number().min(1, 'durationS must be in 1..86400').max(86_400),
    windowS: z.number().min(0.5).max(3600).default(MONITOR_DEFAULTS.windowS),
    /**
     * A window whose median departs from the baseline window's by more than this (relative) is flagged. The baseline
     * is the second window once there are three or more (the first still holds warm-up), else the first
     * (see monitorWindows).
     */
    threshold: z.number().min(0).max(10).default(MONITOR_DEFAULTS.threshold),
  })
  .strict();
export type MonitorConfig = z.input<typeof MonitorConfig>;

/**
 * Serving workers: a short fixed warm-up, no GPU timer passes, and a timeout a run can't reach: the cell timeout
 * counts a worker's busy time, so it is the run's whole length (a monitor may last 24 h) plus 10 minutes, at least 1 h.
 */
export function servingSampling(runMs: number): SamplingSettings {
  return SamplingSettings.parse({
    mode: 'fixed',
    samples: 1,
    warmup: 10,
    cellTimeoutMs: Math.min(90_000_000, Math.max(3_600_000, Math.ceil(runMs) + 600_000)),
    gpuBusyPasses: 0,
  });
}
