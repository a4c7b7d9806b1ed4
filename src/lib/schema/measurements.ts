/**
 * The result file's schemas, part: what a cell measures: samples, cold start, summaries, proof, parity, tax, GPU and memory.
 * Re-exported by ../schema.ts, which every reader imports.
 */
import { z } from 'zod';
import { RuntimeId, BackendId, Stage } from './basics.ts';

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
  /** Which invocation (fresh start) of the cell took it (0 = first). */
  invocation: z.number().int().nonnegative().default(0),
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
 * Version 8: how a variant cell's outputs (fp16, int8) agree with the fp32 cell of the same model, target, batch and
 * inputs (same input bytes). Flagged when any output's cosine is below `minCosine` or a top-1 class changes.
 */
export const Agreement = z.object({
  referenceCellId: z.string(),
  outputs: z.array(
    z.object({
      name: z.string(),
      /** Null when the outputs can't be compared (shapes differ, non-finite values); `mismatch` says why. */
      maxAbsDiff: z.number().nonnegative().nullable(),
      cosine: z.number().nullable(),
      mismatch: z.string().nullable().default(null),
    }),
  ),
  /** Classifiers on pictures: batch items whose top-1 class matches the fp32 cell's; null for other models. */
  top1: z.object({ agree: z.number().int().nonnegative(), of: z.number().int().nonnegative() }).nullable(),
  minCosine: z.number(),
  flagged: z.boolean(),
  /** Why it is flagged, in words (null when not). */
  reason: z.string().nullable(),
});
export type Agreement = z.infer<typeof Agreement>;

/**
 * Version 8: the bytes of the model file(s) the cell loaded, raw and gzip-compressed (what a host that compresses
 * model files would send; null: not measured). The lab's own server sends model files uncompressed, as most static
 * hosts do (application/octet-stream), so first visits here download `raw`.
 */
export const ModelBytes = z.object({
  raw: z.number().int().nonnegative(),
  compressed: z.number().int().nonnegative().nullable(),
});
export type ModelBytes = z.infer<typeof ModelBytes>;

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
  /**
   * Version 7: how the CI was made: `paired` over invocations that ran side by side (the browser cell's and the
   * native cell's round k), or `samples` (one invocation a side: a block bootstrap of its passes). Older: samples.
   */
  method: z.enum(['paired', 'invocations', 'samples']).default('samples'),
  /** Invocation pairs the paired CI rests on; null for samples. */
  pairs: z.number().int().positive().nullable().default(null),
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
