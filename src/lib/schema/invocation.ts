/**
 * The result file's schemas, part: a cell's invocations. An invocation is one fresh start of the cell's runtime (a
 * fresh worker) run to its own steady state. Fresh starts of the same cell settle at different levels (here
 * ocr-cls ort:wasm 2.94-3.11 ms over five runs, tiny-cnn tfjs:wasm 0.16-0.27 ms), so a CI from one invocation's
 * passes says how precisely that worker's level was pinned, not what the next run will say; a cell's CI comes from
 * several. Re-exported by ../schema.ts.
 */
import { z } from 'zod';
import { STEADY_CLASSES } from './basics.ts';

/** One invocation of a cell, as kept in the cell's result (its samples are in the cell's `samples`, marked). */
export const Invocation = z.object({
  /** 0-based; also the round it ran in: invocation k of every cell of a comparison group ran in round k. */
  index: z.number().int().nonnegative(),
  startedAt: z.string(),
  /** Its samples in the cell's `samples`: [firstSample, firstSample + samples). */
  firstSample: z.number().int().nonnegative(),
  samples: z.number().int().nonnegative(),
  /** Its first steady sample, as an index into the cell's `samples`. */
  steadyStart: z.number().int().nonnegative(),
  classification: z.enum(STEADY_CLASSES),
  /** Median total per pass of its steady samples, and that median's own (within-invocation) 95% CI. */
  medianMs: z.number().nonnegative(),
  ci95: z.tuple([z.number(), z.number()]).nullable(),
  /** Its own time and passes before its steady state (cold start not included), and its sampling time. */
  warmupMs: z.number().nonnegative(),
  samplingMs: z.number().nonnegative(),
  /** Session create + first inference of its fresh start (ms). */
  coldStartMs: z.number().nonnegative(),
  stopReason: z.string(),
});
export type Invocation = z.infer<typeof Invocation>;

/** A cell's level across its invocations, and where its variance lives. */
export const AcrossInvocations = z.object({
  invocations: z.number().int().positive(),
  /** Mean of the invocations' steady medians (total per pass): the cell's level, `summary.total.median`. */
  levelMs: z.number().nonnegative(),
  /** Student-t 95% CI of the level over the invocations' medians (df = invocations - 1); null with one. */
  ci95: z.tuple([z.number(), z.number()]).nullable(),
  df: z.number().int().nonnegative(),
  /** Variance of one invocation's median that comes from its own passes (ms^2, mean over invocations). */
  withinVar: z.number().nonnegative(),
  /** Variance between invocations' levels beyond what their own passes explain (ms^2; 0 when none shows). */
  betweenVar: z.number().nonnegative(),
  /**
   * Steady samples per invocation that give the narrowest CI for the time (Kalibera & Jones 2013):
   * sqrt((cost of a fresh start / cost of a sample) x (per-sample within variance / between variance)); null
   * without a between-invocation variance to weigh.
   */
  suggestedSamples: z.number().int().positive().nullable(),
  /** Invocations whose own CIs exclude each other's medians: fresh starts settled at different levels. */
  disagree: z.boolean(),
});
export type AcrossInvocations = z.infer<typeof AcrossInvocations>;
