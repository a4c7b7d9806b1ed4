/**
 * The result file's schemas, part: how sampling went, validity, the steady state, and the cell results.
 * Re-exported by ../schema.ts, which every reader imports.
 */
import { z } from 'zod';
import { Dtype, Stage, STEADY_CLASSES } from './basics.ts';
import { SAMPLING_MODES, Cell } from './plan.ts';
import {
  Sample,
  Prediction,
  ColdStart,
  Summary,
  StageSummaries,
  Proof,
  OutputDigest,
  Parity,
  Agreement,
  ModelBytes,
  BrowserTax,
  GpuBusy,
  Memory,
  StageNote,
} from './measurements.ts';
import { AcrossInvocations, Invocation } from './invocation.ts';

/** `max-invocations`: the invocation count (--invocations N, or auto's cap) ran out before the CI met its target. */
export const STOP_REASONS = ['fixed-count', 'precision-reached', 'max-samples', 'max-time', 'max-invocations'] as const;
/** Why the passes before sampling ended: `primed` (auto: enough to size the samples), a cap, or fixed mode's count. */
export const WARMUP_STOPS = ['fixed', 'primed', 'max-passes', 'max-time'] as const;

/** How a cell's sampling went and why it stopped: a cell that hit a cap says its precision was not reached. */
export const SamplingReport = z.object({
  mode: z.enum(SAMPLING_MODES),
  stopReason: z.enum(STOP_REASONS),
  /** Auto mode's target relative half-width of the median's 95% CI; null in fixed mode. */
  targetCI: z.number().nullable(),
  /** The relative half-width reached (total per pass); null when there are too few samples for a CI. */
  achievedCI: z.number().nullable(),
  /** Null in fixed mode (no target); false when a cap stopped auto sampling first. */
  precisionReached: z.boolean().nullable(),
  iterations: z.number().int().min(1),
  /** Why iterations is what it is: 'fixed', 'timer guard: ...'. */
  iterationsWhy: z.string(),
  warmupPasses: z.number().int().nonnegative(),
  /** Wall time of each warm-up pass (at most the last 1000), so the timeline shows how latency settled. */
  warmupPassesMs: z.array(z.number().nonnegative()).default([]),
  warmupStop: z.enum(WARMUP_STOPS),
  blocks: z.number().int().nonnegative(),
  /** Wall time spent taking samples (the cell's own, not other interleaved cells'). */
  samplingMs: z.number().nonnegative(),
  /**
   * Auto mode, when a cap stopped sampling with the CI wider than the target: about how much sampling time (ms) the
   * cell would need to reach it at the spread it showed (a CI narrows as 1/sqrt(time) once the steady state holds;
   * the time before the steady state began counts as spent). Null otherwise. Added in version 6 without a bump:
   * older readers drop it, and older files read as null.
   */
  neededMs: z.number().nonnegative().nullable().default(null),
});
export type SamplingReport = z.infer<typeof SamplingReport>;
export type StopReason = SamplingReport['stopReason'];
export type WarmupStop = SamplingReport['warmupStop'];

export const PERCENTILES = ['p90', 'p95', 'p99'] as const;
export type Percentile = (typeof PERCENTILES)[number];

/** Reasons to doubt a cell's numbers, stored with it so every view and report can show them. */
export const Validity = z.object({
  /** The page was hidden (background tab) at some point while the cell sampled: timers and GPU get throttled. */
  pageHidden: z.boolean(),
  /**
   * Other measurements of the lab that ran while the cell did (from its load to its last sample), described: 'a
   * serving load sweep in another tab of the lab'. One measurement at a time is enforced where the browser can tell
   * (Web Locks: secure contexts); this marks what got through. Absent in files before version 9 (not watched).
   */
  overlapped: z.array(z.string()).optional(),
  /**
   * Inside the steady state: median of its first third against its last third, with a bootstrap CI; null below 9
   * steady samples. Flagged past 5%. (Level changes before the steady state are warm-up, reported in steadyState.)
   */
  drift: z
    .object({
      firstMedian: z.number(),
      lastMedian: z.number(),
      ratio: z.number(),
      ci95: z.tuple([z.number(), z.number()]),
      flagged: z.boolean(),
    })
    .nullable(),
  /** The GPU backend ran on a software adapter (SwiftShader): numbers check correctness, not GPU speed. */
  softwareGpu: z.boolean(),
  /** Stages (and 'total') whose median per sample spans fewer than 20 timer ticks. */
  coarseStages: z.array(z.union([Stage, z.literal('total')])),
  /** Percentiles the sample count can't support (fewer than 2 samples above them): shown as '–'. */
  unsupportedPercentiles: z.array(z.enum(PERCENTILES)),
});
export type Validity = z.infer<typeof Validity>;

/**
 * Where the cell's steady state began, found by changepoint analysis of its per-pass times
 * (src/lib/measure/steady-state.ts), and the warm-up curve before it. Times and passes count this cell's own passes from its first warm-up pass (not
 * other cells' blocks in an interleaved run, nor the cold start's first inference).
 */
export const SteadyState = z.object({
  classification: z.enum(STEADY_CLASSES),
  /** The method and its settings, in words, so a reader can judge it. */
  method: z.string(),
  /** Segments within this relative distance of the last one's median count as steady. */
  tolerance: z.number().nonnegative(),
  /** Level segments of the sample series: samples [start, end) and their median total per pass. */
  segments: z.array(
    z.object({
      start: z.number().int().nonnegative(),
      end: z.number().int().positive(),
      medianMs: z.number().nonnegative(),
    }),
  ),
  /** Each level change: the sample it starts at, when (own time and passes since the first warm-up pass), and the level ratio after/before. */
  changepoints: z.array(
    z.object({
      sample: z.number().int().nonnegative(),
      afterMs: z.number().nonnegative(),
      afterPasses: z.number().int().nonnegative(),
      at: z.number().nullable(),
      ratio: z.number().positive(),
    }),
  ),
  /** The first steady sample; summaries, CI, percentiles, comparisons and budgets use samples from here on. */
  steadyStart: z.number().int().nonnegative(),
  steadySamples: z.number().int().nonnegative(),
  /** Own time and passes before the steady state began (warm-up passes included). */
  warmupMs: z.number().nonnegative(),
  warmupPasses: z.number().int().nonnegative(),
  /** Own time of the steady samples: how long the steady state took to reach the cell's precision. */
  steadyMs: z.number().nonnegative(),
  /**
   * The steady stretch alternates between two levels (low and high segment medians, and how often it switched):
   * the machine's own noise (another process, a core shared, big and little cores). The median mixes them.
   */
  alternation: z
    .object({
      lowMs: z.number().nonnegative(),
      highMs: z.number().nonnegative(),
      switches: z.number().int().nonnegative(),
    })
    .nullable(),
  /** The first warm-up passes (at most 10) against the steady median: "first 10 passes 3.0x slower". */
  firstPasses: z
    .object({ count: z.number().int().positive(), medianMs: z.number().nonnegative(), ratio: z.number().nonnegative() })
    .nullable(),
});
export type SteadyState = z.infer<typeof SteadyState>;

const cellCommon = {
  cell: Cell,
  startedAt: z.string(),
  durationMs: z.number().nonnegative(),
};

export const OkCellResult = z.object({
  status: z.literal('ok'),
  ...cellCommon,
  /** The sampling worker's cold start. */
  coldStart: ColdStart,
  /** Every cold start measured for this cell, the sampling worker's first, then one per extra fresh worker. */
  coldStarts: z.array(ColdStart).min(1),
  sampling: SamplingReport,
  steadyState: SteadyState,
  validity: Validity,
  /**
   * Every sample, warm-up segments included (each marked with its segment and invocation); `summary` describes the
   * steady ones. `steadyState`, `sampling`'s warm-up and `validity` are the first invocation's (the cell's coldest
   * start); `invocations` has each one's steady state.
   */
  samples: z.array(Sample).min(1),
  /**
   * Over the steady samples of every invocation. With two or more invocations each stage's `median` is the mean of
   * the invocations' steady medians and `medianCI95` a Student-t interval over them (a fresh start settles at its own
   * level: that spread is what a rerun sees); percentiles pool the steady samples. With one, the invocation's own.
   */
  summary: StageSummaries,
  /** Version 7: each fresh start of the cell (older files: none listed, the cell was one invocation). */
  invocations: z.array(Invocation).default([]),
  /** Version 7: the level across invocations and the variance within and between them; null for one invocation. */
  acrossInvocations: AcrossInvocations.nullable().default(null),
  /** Image inputs: summaries of the preprocess parts over the steady samples; null when no input is an image. */
  preprocessParts: z.object({ decode: Summary, resize: Summary, normalise: Summary }).nullable().default(null),
  /**
   * Image inputs on a classifier: each picture classified once after sampling (outside the timed samples), in
   * order; the output digest and parity come from the first of these passes. Null otherwise.
   */
  predictions: z.array(Prediction).nullable().default(null),
  stageNotes: z.array(StageNote),
  proof: Proof,
  timerResolutionMs: z.number().nonnegative(),
  inputs: z.array(z.object({ name: z.string(), dtype: Dtype, shape: z.array(z.number().int()) })),
  outputs: z.array(OutputDigest),
  parity: Parity.nullable(),
  /** Version 8: a variant cell's agreement with its fp32 cell; null for fp32 cells or when none ran. */
  agreement: Agreement.nullable().default(null),
  /** Version 8: the model file's bytes; null in older files. */
  modelBytes: ModelBytes.nullable().default(null),
  /**
   * sha256 of the input bytes of the pass the output digest comes from (inputs in order, each tensor's bytes), so
   * cells in different runtimes (the native reference included) can be shown to have seen the same numbers.
   */
  inputDigest: z.string().nullable().default(null),
  /** Against the native reference cell (`--native`); null without one, or on GPU backends (not compared). */
  tax: BrowserTax.nullable().default(null),
  /** Device busy time per pass from GPU timestamps, taken on extra passes after sampling (queries cost time). */
  gpuBusy: GpuBusy.nullable(),
  memory: Memory,
  warnings: z.array(z.string()),
});
export const UnsupportedCellResult = z.object({
  status: z.literal('unsupported'),
  ...cellCommon,
  reason: z.string().min(1),
});
export const FailedCellResult = z.object({
  status: z.literal('failed'),
  ...cellCommon,
  /** Where it failed: before any sample (load, warmup) or during sampling. */
  phase: z.enum(['plan', 'init', 'fetch', 'session', 'inputs', 'warmup', 'sampling', 'worker']),
  error: z.string().min(1),
  coldStart: ColdStart.partial().nullable(),
  /** Samples measured before the failure: kept, never thrown away. */
  samples: z.array(Sample),
});
export const AbortedCellResult = z.object({
  status: z.literal('aborted'),
  ...cellCommon,
  reason: z.string().min(1),
  samples: z.array(Sample),
});
export const CellResult = z.discriminatedUnion('status', [
  OkCellResult,
  UnsupportedCellResult,
  FailedCellResult,
  AbortedCellResult,
]);
export type OkCellResult = z.infer<typeof OkCellResult>;
export type UnsupportedCellResult = z.infer<typeof UnsupportedCellResult>;
export type FailedCellResult = z.infer<typeof FailedCellResult>;
export type AbortedCellResult = z.infer<typeof AbortedCellResult>;
export type CellResult = z.infer<typeof CellResult>;
export type CellStatus = CellResult['status'];

/**
 * A cell that ended before its result: cancelled, never reached, or lost with its browser. The one builder of it
 * (the page's run, the cell driver and the CLI's lost-browser path), so its shape and defaults are written once.
 */
export function abortedCell(
  cell: Cell,
  reason: string,
  kept: { samples?: readonly Sample[]; startedAt?: string; durationMs?: number } = {},
): AbortedCellResult {
  return {
    status: 'aborted',
    cell,
    startedAt: kept.startedAt ?? new Date().toISOString(),
    durationMs: kept.durationMs ?? 0,
    reason,
    samples: [...(kept.samples ?? [])],
  };
}

/**
 * A cell that stopped on an error, with the phase it stopped in and what it measured before: the one builder of it
 * (a plan that can't place the cell, the worker's own steps, the driver's timeout and crash paths).
 */
export function failedCell(
  cell: Cell,
  phase: FailedCellResult['phase'],
  error: string,
  kept: {
    samples?: readonly Sample[];
    startedAt?: string;
    durationMs?: number;
    coldStart?: FailedCellResult['coldStart'];
  } = {},
): FailedCellResult {
  return {
    status: 'failed',
    cell,
    startedAt: kept.startedAt ?? new Date().toISOString(),
    durationMs: kept.durationMs ?? 0,
    phase,
    error,
    coldStart: kept.coldStart ?? null,
    samples: [...(kept.samples ?? [])],
  };
}

/**
 * A one-line reason for a cell that isn't ok (an ok cell: its warnings): the one wording of a failure's phase and error,
 * read by the tables, the reports, the share link, serving and the CLI.
 */
export function cellReason(r: CellResult): string {
  switch (r.status) {
    case 'ok':
      return r.warnings.join('; ');
    case 'unsupported':
      return r.reason;
    case 'failed':
      return `${r.phase}: ${r.error}`;
    case 'aborted':
      return r.reason;
    default: {
      const never: never = r;
      return String(never);
    }
  }
}

/** The cells that ran to the end, typed as such (tables, parity and charts read only these). */
export function okCells(cells: readonly CellResult[]): OkCellResult[] {
  return cells.filter((c): c is OkCellResult => c.status === 'ok');
}
