/**
 * The result file's schemas, part: sampling settings, cells and the plan.
 * Re-exported by ../schema.ts, which every reader imports.
 */
import { z } from 'zod';
import { ORT_BUILDS } from '../builds.ts';
import { RuntimeId, BackendId, ModelFormat, InputOverride } from './basics.ts';

const count = (what: string, min: number, max: number) =>
  z
    .number({ error: `${what} must be a whole number in ${min}..${max}` })
    .int(`${what} must be a whole number in ${min}..${max}`)
    .min(min, `${what} must be in ${min}..${max}`)
    .max(max, `${what} must be in ${min}..${max}`);

export const SAMPLING_MODES = ['auto', 'fixed'] as const;
/** The longest time budget a plan may give a cell's sampling (an hour). */
export const MAX_SAMPLING_MS = 3_600_000;

/**
 * How a cell samples. `auto` (the default): a few warm-up passes to size the samples (timer guard), then samples in
 * blocks while changepoint analysis finds where the steady state begins; it stops when the steady samples alone
 * give a 95% CI of the median within `targetCI` (after at least `minWarmupMs` of passes), or at the time cap.
 * `fixed`: exactly `warmup` warm-up passes and `samples` samples (the steady state is still found and reported).
 */
export const SamplingFields = z
  .object({
    mode: z.enum(SAMPLING_MODES).default('auto'),
    /** Fixed mode: timed samples per cell, after warm-up. */
    samples: count('samples', 1, 100_000).default(30),
    /** Fixed mode: warm-up passes. Auto mode: the least passes before sampling begins (they size the samples). */
    warmup: count('warmup', 0, 10_000).default(5),
    /** Auto mode: a cap on the passes before sampling begins. */
    maxWarmup: count('maxWarmup', 0, 10_000).default(1_000),
    /**
     * Auto mode: the least time of passes (warm-up and samples) before a steady state may be declared. V8 compiles
     * wasm with a baseline tier first and optimises hot functions in the background: here the big step came after
     * 1-3 s (3-7x), and ocr-cls on ORT wasm still crept down ~4% until second 7. Capped by maxSamplingMs.
     */
    minWarmupMs: count('minWarmupMs', 0, 600_000).default(8_000),
    /** Auto mode: a cap on the time of passes before sampling begins. */
    maxWarmupMs: count('maxWarmupMs', 0, 600_000).default(5_000),
    /** Auto mode: wanted half-width of the median's 95% CI, relative to the median (0.02 = +-2%). */
    targetCI: z
      .number()
      .gt(0, 'targetCI must be > 0 and <= 0.5 (0.02 means +-2% of the median)')
      .max(0.5, 'targetCI must be > 0 and <= 0.5 (0.02 means +-2% of the median)')
      .default(0.02),
    /** Auto mode: never fewer steady samples than this (6 is the least that gives a 95% CI of the median). */
    minSamples: count('minSamples', 6, 100_000).default(10),
    /** Auto mode: a memory guard, far above what the time cap yields for fast models (samples are >= 50 ticks). */
    maxSamples: count('maxSamples', 6, 100_000).default(50_000),
    /** Auto mode: the time budget. Sampling stops after this much sampling time (once minSamples are in). */
    maxSamplingMs: count('maxSamplingMs', 100, MAX_SAMPLING_MS).default(10_000),
    /**
     * Passes timed together per sample (values are per pass). Null: 1 in fixed mode; in auto mode the timer guard
     * picks enough passes that a sample spans at least 50 timer ticks.
     */
    iterations: count('iterations', 1, 100_000).nullable().default(null),
    /** Samples per block: auto mode checks precision between blocks; interleaved runs rotate cells per block. */
    blockSize: count('blockSize', 1, 10_000).default(10),
    /**
     * Invocations per cell: fresh starts (a fresh worker each) run to their own steady state; the cell's CI is
     * across them, because fresh starts settle at different levels. `auto`: 1 in fixed mode; in auto mode a pilot of
     * PILOT_INVOCATIONS, then more while the CI is wider than targetCI and the time budget lasts, each sized by the
     * variance within and between them. Invocations of one model and batch size run in rounds (A1 B1, A2 B2, ...).
     */
    invocations: z.union([z.literal('auto'), count('invocations', 1, 100)]).default('auto'),
    /** Cold starts per cell, each in a fresh worker (1: only the sampling worker's own; invocations count). */
    coldStarts: count('coldStarts', 1, 100).default(1),
    /** Wall-clock limit for a whole cell, cold start included. */
    cellTimeoutMs: count('cellTimeoutMs', 1_000, 90_000_000).default(120_000),
    /** Extra passes on GPU backends that read GPU timers, after sampling (timer queries cost time). 0 turns it off. */
    gpuBusyPasses: count('gpuBusyPasses', 0, 1_000).default(3),
    /**
     * Opt-in: measureUserAgentSpecificMemory() once per cell, after sampling and before the model is disposed. Slow
     * (0.4-10 s) and only when cross-origin isolated, so off by default and never inside the timed samples.
     */
    measureMemory: z.boolean().default(false),
  })
  .strict();

export const SamplingSettings = SamplingFields.superRefine((s, ctx) => {
  // Settings that can't all hold are refused up front, naming the valid range.
  if (s.maxSamples < s.minSamples)
    ctx.addIssue({
      code: 'custom',
      path: ['maxSamples'],
      message: `maxSamples (${s.maxSamples}) is below minSamples (${s.minSamples}); it must be >= minSamples`,
    });
  if (s.maxWarmup < s.warmup)
    ctx.addIssue({
      code: 'custom',
      path: ['maxWarmup'],
      message: `maxWarmup (${s.maxWarmup}) is below warmup (${s.warmup}); it must be >= warmup`,
    });
});
export type SamplingSettings = z.infer<typeof SamplingSettings>;
/** Sampling settings as a person gives them: defaults may be left out. */
export type SamplingInput = z.input<typeof SamplingSettings>;

/**
 * Model variants: the model's own file (`fp32`, whatever its dtype), or a smaller one the lab makes from it: `fp16`
 * (float weights and compute in float16, I/O types kept) or `int8` (dynamic quantization of MatMul/Gemm/Conv weights).
 */
export const VARIANTS = ['fp32', 'fp16', 'int8'] as const;
export const Variant = z.enum(VARIANTS);
export type Variant = z.infer<typeof Variant>;

export const Cell = z.object({
  /** Stable id: model/runtime:backend/bN/tN, with @build after the backend for ORT (model/ort:wasm@wasm/b1/t1). */
  id: z.string(),
  modelId: z.string(),
  /** The model file format this runtime loads; null when the model has none for it (the cell is unsupported). */
  format: ModelFormat.nullable(),
  runtime: RuntimeId,
  backend: BackendId,
  batch: z.number().int().positive(),
  threads: z.number().int().positive(),
  /**
   * tfjs wasm: the core count the worker reports to tfjs (which sizes its thread pool at half of it), to time what
   * a device with that many cores would run; null: the device's own.
   */
  coresOverride: z.number().int().positive().nullable().default(null),
  /** The runtime build the cell loads (ORT: which entry point, so which wasm); null for runtimes with one build. */
  build: z.enum(ORT_BUILDS).nullable().default(null),
  /** Swept symbolic dims and the value this cell runs with (`{seq: 64}`); also set on its inputs' overrides. */
  dims: z.record(z.string(), z.number().int().positive()).default({}),
  /** Version 8: which file of the model the cell loads; `fp32` (the model as given) in older files. */
  variant: Variant.default('fp32'),
  inputSeed: z.number().int(),
  inputOverrides: z.record(z.string(), InputOverride),
});
export type Cell = z.infer<typeof Cell>;

export const Plan = z.object({
  seed: z.number().int(),
  /** `seeded-shuffle`: cells run in an order drawn from `seed`, so slow drift doesn't always hit the same cell. */
  order: z.enum(['matrix', 'seeded-shuffle']),
  /**
   * `interleaved`: up to `liveCells` cells are loaded at once and take turns, a block of samples each, in an order
   * drawn from the seed every round, so slow drift (heat, background load) spreads over all of them.
   */
  schedule: z.enum(['sequential', 'interleaved']).default('sequential'),
  liveCells: count('liveCells', 2, 32).default(4),
  sampling: SamplingSettings,
  cells: z.array(Cell),
  /** `--native`: the models that get no native reference cell, and why (e.g. a TF.js-only model: no ONNX file). */
  nativeSkipped: z.array(z.object({ modelId: z.string(), reason: z.string() })).default([]),
});
export type Plan = z.infer<typeof Plan>;
