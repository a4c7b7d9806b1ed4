/**
 * The result file and everything that crosses a boundary (worker <-> page, page <-> CLI, disk), as zod schemas.
 * The TypeScript types of the vocabulary are inferred from these schemas, so the validator and the types can't drift.
 * Bump SCHEMA_VERSION on any change that an older reader could misread.
 */
import { z } from 'zod';
import { ServingReport } from './serving/schema.ts';
import { FirstVisits } from './first-visit.ts';
import { STAGES } from './stages.ts';
import { STEADY_CLASSES } from './steady-state.ts';
import { ORT_BUILDS } from './builds.ts';
import { BACKENDS, RUNTIMES } from './targets.ts';

/**
 * 3: the steady state (changepoints, warm-up curve) per ok cell; summaries describe the steady samples only.
 * 4: image value policies (real decode/resize preprocess) with per-sample preprocess parts and per-picture
 * predictions; swept dims per cell.
 * 5: native reference cells (runtime `ort-node`), the browser tax per cell, input digests.
 * 6: first visits (--first-visit: first and returning visits under emulated network profiles); cold starts carry
 * the worker's boot, the time to first result and what the worker fetched.
 * Version 3, 4 and 5 files are valid version 6 files and are read as such.
 */
export const SCHEMA_VERSION = 6;
/** Older versions this lab still reads (each a subset of the current one). */
export const READABLE_SCHEMA_VERSIONS: readonly number[] = [3, 4, 5];

export const DTYPES = ['float32', 'float16', 'int32', 'int64', 'uint8', 'int8', 'bool'] as const;
export const Dtype = z.enum(DTYPES);
export type Dtype = z.infer<typeof Dtype>;

/** A dimension: a fixed size, or a symbolic name such as `batch` that is resolved per cell. */
export const Dim = z.union([z.number().int().nonnegative(), z.string().min(1)]);
export type Dim = z.infer<typeof Dim>;

export const TensorSpec = z.object({ name: z.string().min(1), dtype: Dtype, shape: z.array(Dim) });
export type TensorSpec = z.infer<typeof TensorSpec>;

/** The runtimes and backends (src/lib/targets.ts says what each is). */
export { BACKENDS, RUNTIMES };
export const RuntimeId = z.enum(RUNTIMES);
export type RuntimeId = z.infer<typeof RuntimeId>;

export const BackendId = z.enum(BACKENDS);
export type BackendId = z.infer<typeof BackendId>;

/** `calibration`: the built-in synthetic model of the calibration runtime; it has no files. */
export const MODEL_FORMATS = ['onnx', 'tfjs-layers', 'tfjs-graph', 'calibration'] as const;
export const ModelFormat = z.enum(MODEL_FORMATS);
export type ModelFormat = z.infer<typeof ModelFormat>;

export { STAGES };
export const Stage = z.enum(STAGES);
export type Stage = z.infer<typeof Stage>;

/** An encoded picture (PNG, JPEG, WebP, ...) an image input is made from: fetched like a model file and checked. */
export const ImageFile = z.object({
  /** Shown in results (`astronaut.png`). */
  name: z.string().min(1),
  /** Relative to the models folder (`images/astronaut.png`), or a key of the job's own files. */
  path: z.string().min(1),
  bytes: z.number().int().positive(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ImageFile = z.infer<typeof ImageFile>;

export const IMAGE_LAYOUTS = ['NHWC', 'NCHW'] as const;
/** How a picture meets the model's size, as CSS object-fit: stretch, scale and centre-crop, or scale and pad. */
export const IMAGE_FITS = ['fill', 'cover', 'contain'] as const;

/**
 * Real image preprocessing: every pass decodes the pictures (createImageBitmap), resizes them to the input's size
 * (OffscreenCanvas) and writes them in the input's layout and dtype. Float inputs get (pixel / 255 - mean) / std per
 * channel; uint8/int8 inputs get the pixels. Batch item i of pass p is picture (p x batch + i) mod n.
 */
export const ImagePolicy = z.object({
  kind: z.literal('image'),
  /** Empty in a link or a flag without pictures: the page or CLI fills in the bundled photos before planning. */
  images: z.array(ImageFile),
  /** Null: read from the shape (the axis of size 3 or 1 next to the batch axis is channels). */
  layout: z.enum(IMAGE_LAYOUTS).nullable().default(null),
  fit: z.enum(IMAGE_FITS).default('fill'),
  /** Per channel, in the order the model takes them (after `order`). */
  mean: z.tuple([z.number(), z.number(), z.number()]).default([0, 0, 0]),
  std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]).default([1, 1, 1]),
  /** Channel order the model takes (BGR for models trained on OpenCV reads). */
  order: z.enum(['RGB', 'BGR']).default('RGB'),
});
export type ImagePolicy = z.infer<typeof ImagePolicy>;

/** How one input's values are made. Seeded random by default so every runtime sees the same numbers. */
export const ValuePolicy = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('random') }),
  z.object({ kind: z.literal('zeros') }),
  z.object({ kind: z.literal('constant'), value: z.number() }),
  z.object({ kind: z.literal('range'), min: z.number(), max: z.number() }),
  ImagePolicy,
]);
export type ValuePolicy = z.infer<typeof ValuePolicy>;

export const InputOverride = z.object({
  /** Values for symbolic dims of this input other than the batch dim, e.g. {height: 64}. */
  dims: z.record(z.string(), z.number().int().positive()).optional(),
  values: ValuePolicy.optional(),
});
export type InputOverride = z.infer<typeof InputOverride>;

const count = (what: string, min: number, max: number) =>
  z
    .number({ error: `${what} must be a whole number in ${min}..${max}` })
    .int(`${what} must be a whole number in ${min}..${max}`)
    .min(min, `${what} must be in ${min}..${max}`)
    .max(max, `${what} must be in ${min}..${max}`);

export const SAMPLING_MODES = ['auto', 'fixed'] as const;

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
    maxSamplingMs: count('maxSamplingMs', 100, 3_600_000).default(10_000),
    /**
     * Passes timed together per sample (values are per pass). Null: 1 in fixed mode; in auto mode the timer guard
     * picks enough passes that a sample spans at least 50 timer ticks.
     */
    iterations: count('iterations', 1, 100_000).nullable().default(null),
    /** Samples per block: auto mode checks precision between blocks; interleaved runs rotate cells per block. */
    blockSize: count('blockSize', 1, 10_000).default(10),
    /** Cold starts per cell, each in a fresh worker (1: only the sampling worker's own). */
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

/**
 * Real image preprocessing, split: decode (createImageBitmap on the encoded file), resize (drawing into an
 * OffscreenCanvas at the input's size and reading its pixels back), normalise (pixels to the input's layout and dtype).
 */
export const PreprocessParts = z.object({
  decode: z.number().nonnegative(),
  resize: z.number().nonnegative(),
  normalise: z.number().nonnegative(),
});
export type PreprocessParts = z.infer<typeof PreprocessParts>;
export const PREPROCESS_PARTS = ['decode', 'resize', 'normalise'] as const;

/**
 * One timed pass. A stage is null when the backend can't separate it from another stage; the cell's
 * `stageNotes` says which stage holds it. Never a made-up zero.
 */
export const Sample = z.object({
  preprocess: z.number().nonnegative().nullable(),
  upload: z.number().nonnegative().nullable(),
  inference: z.number().nonnegative().nullable(),
  readback: z.number().nonnegative().nullable(),
  postprocess: z.number().nonnegative().nullable(),
  total: z.number().nonnegative(),
  /** Passes timed together in this sample (timer guard); every value above is per pass. */
  iterations: z.number().int().min(1).default(1),
  /** When the sample began, in ms since the epoch (worker timeOrigin + now): for timelines and interleaving. */
  at: z.number().nullable().default(null),
  /** Which level segment of the cell's series the sample belongs to (0 = first); set when the cell finishes. */
  segment: z.number().int().nonnegative().nullable().default(null),
  /** Image inputs: the preprocess stage's parts per pass (they sum to it); null when no input is an image. */
  parts: PreprocessParts.nullable().default(null),
});
export type Sample = z.infer<typeof Sample>;

/** A classifier's answer for one picture, as the app would show it: top classes by score (labels from the manifest). */
export const Prediction = z.object({
  image: z.string(),
  /** Best first; `label` from the model's class names (null when it has none). */
  top: z.array(
    z.object({ index: z.number().int().nonnegative(), label: z.string().nullable().default(null), score: z.number() }),
  ),
});
export type Prediction = z.infer<typeof Prediction>;

export const ColdStart = z.object({
  /** Importing the runtime and initialising its backend (wasm compile, setBackend). */
  runtimeInitMs: z.number().nonnegative(),
  /** Fetching (or receiving) the model's bytes. */
  fetchMs: z.number().nonnegative(),
  fetchedBytes: z.number().int().nonnegative(),
  /** Creating the session / building the model from bytes. */
  sessionCreateMs: z.number().nonnegative(),
  /** The first pass through the whole pipeline (kernels compiled, buffers allocated). */
  firstInferenceMs: z.number().nonnegative(),
  warmupCount: z.number().int().nonnegative(),
  warmupTotalMs: z.number().nonnegative(),
  /**
   * The runtime's wasm as this worker fetched it (Resource Timing): file, bytes over the wire (0 when the HTTP cache
   * served it) and decoded, and fetch time. Compiling it is part of runtime init or session create, where the
   * runtime does it. Null when the runtime loaded no wasm.
   */
  runtimeWasm: z
    .object({
      file: z.string(),
      transferBytes: z.number().int().nonnegative(),
      bytes: z.number().int().nonnegative(),
      fetchMs: z.number().nonnegative(),
    })
    .nullable()
    .default(null),
  /** From creating the cell's worker to its first step (worker script download and start). Null where no Web Worker ran. */
  workerBootMs: z.number().nonnegative().nullable().default(null),
  /**
   * Worker start to first result, the parts an app pays (worker boot, runtime init, model fetch, session, first
   * inference), without the lab's own checks between them. Null where the worker boot is unknown.
   */
  firstResultMs: z.number().nonnegative().nullable().default(null),
  /**
   * What the cell's worker fetched until its first result (Resource Timing: its scripts, the runtime's wasm, the model):
   * bytes over the wire (0 for a cache hit), decoded bytes, requests, and how many the HTTP cache answered. Whether
   * this was a first visit on the visitor's own connection is `fromCache === 0`.
   */
  network: z
    .object({
      transferBytes: z.number().int().nonnegative(),
      bytes: z.number().int().nonnegative(),
      requests: z.number().int().nonnegative(),
      fromCache: z.number().int().nonnegative(),
    })
    .nullable()
    .default(null),
});
export type ColdStart = z.infer<typeof ColdStart>;

export const Summary = z.object({
  n: z.number().int().nonnegative(),
  min: z.number(),
  max: z.number(),
  mean: z.number(),
  sd: z.number(),
  median: z.number(),
  p90: z.number(),
  p95: z.number(),
  p99: z.number(),
  mad: z.number(),
  /**
   * 95% CI of the median: order statistics, interpolated between neighbours (Hettmansperger & Sheather), widened
   * to the batch-median interval (10 consecutive batches) where that is wider, since timings are autocorrelated;
   * null below 6 samples.
   */
  medianCI95: z.tuple([z.number(), z.number()]).nullable(),
});
export type Summary = z.infer<typeof Summary>;

export const StageSummaries = z.object({
  preprocess: Summary.nullable(),
  upload: Summary.nullable(),
  inference: Summary.nullable(),
  readback: Summary.nullable(),
  postprocess: Summary.nullable(),
  total: Summary,
});
export type StageSummaries = z.infer<typeof StageSummaries>;

/** What actually ran, as the runtime itself reports it after set-up. */
export const Proof = z.object({
  runtime: RuntimeId,
  runtimeVersion: z.string(),
  backendRequested: BackendId,
  backendInUse: z.string(),
  threads: z.number().int().positive(),
  simd: z.boolean().nullable(),
  crossOriginIsolated: z.boolean(),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
});
export type Proof = z.infer<typeof Proof>;

export const OutputDigest = z.object({
  name: z.string(),
  dtype: z.string(),
  shape: z.array(z.number().int()),
  /** The first values (at most 8), for a glance; parity uses the full kept prefix page-side. NaN/Inf read null. */
  head: z.array(z.number().nullable()),
  /** Over the finite values; null when there are none. (JSON has no NaN: a NaN here would void the whole file.) */
  min: z.number().nullable(),
  max: z.number().nullable(),
  mean: z.number().nullable(),
  /** How many values are NaN or infinite: a model that produces them still gives a valid result, with a warning. */
  nonFinite: z.number().int().nonnegative().default(0),
});
export type OutputDigest = z.infer<typeof OutputDigest>;

export const Parity = z.object({
  referenceCellId: z.string(),
  /** Null when the outputs can't be compared (different shapes); `mismatch` then says why. */
  maxAbsDiff: z.number().nonnegative().nullable(),
  mismatch: z.string().nullable(),
  comparedValues: z.number().int().nonnegative(),
  tolerance: z.number().nonnegative(),
  withinTolerance: z.boolean(),
});
export type Parity = z.infer<typeof Parity>;

/**
 * The browser tax: a browser cell's model work (upload + inference + readback per pass, steady samples) against the
 * native reference cell of the same model, batch, threads and dims on the same machine (onnxruntime-node, CPU).
 * `ratio` > 1: the browser is that many times slower. Parity and inputs are checked against the native cell too.
 */
export const BrowserTax = z.object({
  nativeCellId: z.string(),
  browserMs: z.number().nonnegative(),
  nativeMs: z.number().nonnegative(),
  ratio: z.number().nonnegative(),
  ci95: z.tuple([z.number(), z.number()]),
  /** Whether both cells fed identical input bytes (their `inputDigest`s); null when either has none. */
  inputsMatch: z.boolean().nullable(),
  parity: Parity.nullable(),
});
export type BrowserTax = z.infer<typeof BrowserTax>;

export const GpuBusy = z.object({
  /** Where the numbers come from: WebGPU timestamp queries (ORT profiling) or tfjs kernelMs (timer queries). */
  source: z.string(),
  passes: z.array(z.number().nonnegative()),
  medianMs: z.number().nonnegative(),
  /** Median wall time of the same passes, so GPU work and dispatch overhead can be told apart. */
  wallMedianMs: z.number().nonnegative(),
});
export type GpuBusy = z.infer<typeof GpuBusy>;

export const Memory = z.object({
  /** tfjs tensors alive before the model loaded and after it was disposed: a difference is a leak. */
  tfjsTensorsBefore: z.number().int().nullable(),
  tfjsTensorsAfter: z.number().int().nullable(),
  tfjsBytesAfter: z.number().int().nullable(),
  /** Tensors left behind per sample (after each sample's tensors were released). */
  tfjsTensorsPerSampleLeak: z.number().nullable(),
  wasmHeapBytes: z.number().int().nullable(),
  /** Whole-page memory from performance.measureUserAgentSpecificMemory() (opt-in), with the model loaded. */
  userAgentBytes: z.number().int().nullable().default(null),
  /** Why userAgentBytes is null when it was asked for. */
  userAgentNote: z.string().nullable().default(null),
  leak: z.boolean(),
});
export type Memory = z.infer<typeof Memory>;

export const StageNote = z.object({ stage: Stage, includedIn: Stage.nullable(), why: z.string() });
export type StageNote = z.infer<typeof StageNote>;

export const STOP_REASONS = ['fixed-count', 'precision-reached', 'max-samples', 'max-time'] as const;
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
 * Where the cell's steady state began, found by changepoint analysis of its per-pass times (src/lib/steady-state.ts),
 * and the warm-up curve before it. Times and passes count this cell's own passes from its first warm-up pass (not
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
  /** Every sample, warm-up segments included (each marked with its segment); `summary` describes the steady ones. */
  samples: z.array(Sample).min(1),
  summary: StageSummaries,
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

/** The cells that ran to the end, typed as such (tables, parity and charts read only these). */
export function okCells(cells: readonly CellResult[]): OkCellResult[] {
  return cells.filter((c): c is OkCellResult => c.status === 'ok');
}

/** GPU facts as a worker sees them. `software` is true for SwiftShader and other CPU emulations of a GPU. */
export const GpuInfo = z.object({
  webgpu: z
    .object({
      vendor: z.string(),
      architecture: z.string(),
      device: z.string(),
      description: z.string(),
      isFallbackAdapter: z.boolean(),
      timestampQuery: z.boolean(),
    })
    .nullable(),
  webgl: z.object({ renderer: z.string(), vendor: z.string(), timerQuery: z.boolean() }).nullable(),
  software: z.boolean(),
});
export type GpuInfo = z.infer<typeof GpuInfo>;

/** Whether a runtime:backend can run in this browser, and if not, why. */
export const Capability = z.object({ target: z.string(), available: z.boolean(), reason: z.string().nullable() });
export type Capability = z.infer<typeof Capability>;

export const Environment = z.object({
  userAgent: z.string(),
  browser: z.object({ name: z.string(), version: z.string() }),
  platform: z.string(),
  hardwareConcurrency: z.number().int().nonnegative(),
  deviceMemoryGiB: z.number().nullable(),
  crossOriginIsolated: z.boolean(),
  /** Smallest step of performance.now() seen in a worker. */
  timerResolutionMs: z.number().nonnegative(),
  libraries: z.record(z.string(), z.string()),
  /** Browser flags in force, when the launcher knows them (CLI); empty in an interactive page. */
  browserFlags: z.array(z.string()),
  gpu: GpuInfo.nullable(),
  /** Every runtime:backend, available or not with the reason, probed before the run. */
  capabilities: z.array(Capability),
});
export type Environment = z.infer<typeof Environment>;

export const RunResult = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  tool: z.object({ name: z.literal('inference-latency-lab'), version: z.string() }),
  createdAt: z.string(),
  source: z.enum(['page', 'cli', 'api']),
  /** Which device/browser ran it, in multi-device runs (remote browsers); null for a single local run. */
  device: z.string().nullable().default(null),
  environment: Environment,
  plan: Plan,
  cells: z.array(CellResult),
  /** A serving simulation or monitor run (open-loop load, batching, worker pools), when that is what ran. */
  serving: ServingReport.nullable().default(null),
  /** First and returning visits under emulated networks (CLI --first-visit), when they were measured. */
  firstVisits: FirstVisits.nullable().default(null),
});
export type RunResult = z.infer<typeof RunResult>;

export class SchemaError extends Error {
  constructor(
    what: string,
    readonly issues: string[],
  ) {
    super(`${what} is not valid:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'SchemaError';
  }
}

/** Formats zod issues as `path.to.field: message`, so an error names the field. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.slice(0, 20).map((issue) => {
    const path = issue.path.length
      ? issue.path
          .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
          .join('')
          .replace(/^\./, '')
      : '(root)';
    return `${path}: ${issue.message}`;
  });
}

/** Validates anything that claims to be a result file. Checks the version first, so an old file says so plainly. */
export function parseRunResult(data: unknown): RunResult {
  if (typeof data === 'object' && data !== null && 'schemaVersion' in data) {
    const v = (data as { schemaVersion: unknown }).schemaVersion;
    if (typeof v === 'number' && READABLE_SCHEMA_VERSIONS.includes(v))
      data = { ...data, schemaVersion: SCHEMA_VERSION };
    else if (v !== SCHEMA_VERSION) {
      throw new SchemaError('result file', [
        `schemaVersion: this lab reads version ${SCHEMA_VERSION}, the file has ${JSON.stringify(v)} (version ${READABLE_SCHEMA_VERSIONS.join(', ')} files are read too)`,
      ]);
    }
  }
  const parsed = RunResult.safeParse(data);
  if (!parsed.success) throw new SchemaError('result file', describeIssues(parsed.error));
  return parsed.data;
}

/** A results file holds one run, or (multi-device CLI runs) an array of runs, one per device. */
export function parseResultFile(data: unknown): RunResult[] {
  if (Array.isArray(data)) {
    if (data.length === 0) throw new SchemaError('result file', ['(root): an empty list of runs']);
    return data.map((d, i) => {
      try {
        return parseRunResult(d);
      } catch (e) {
        if (e instanceof SchemaError) throw new SchemaError(`result file, run [${i}]`, e.issues);
        throw e;
      }
    });
  }
  return [parseRunResult(data)];
}

export function parseWith<T>(schema: z.ZodType<T>, what: string, data: unknown): T {
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw new SchemaError(what, describeIssues(parsed.error));
  return parsed.data;
}
