/**
 * What the lab uses when a person names nothing, written once: the page's forms start from these, the CLI's flags
 * fall back to them (and its help prints them), and the serving schemas default to them, so the three can't drift.
 * Sampling's defaults are the result file's contract and live in its schema (SamplingSettings); DEFAULT_SAMPLING is
 * that schema filled in from nothing.
 */
import { SamplingSettings } from '../schema/plan.ts';

/** The zoo's smallest model: quick to load, so a first run or a sweep shows numbers in seconds. */
export const DEFAULT_MODEL = 'tiny-cnn';

/** runtime:backend pairs every browser can run (no GPU needed), so the default run never skips a cell. */
export const DEFAULT_TARGETS: readonly string[] = ['ort:wasm', 'tfjs:cpu', 'tfjs:wasm'];

/**
 * The CLI's default matrix (`npm run lab`): the page's defaults and LiteRT's wasm, which joins only models with a
 * .tflite file (a run that names no models skips runtimes a model has no format for).
 */
export const DEFAULT_RUN_TARGETS: readonly string[] = [...DEFAULT_TARGETS, 'litert:wasm'];

export const DEFAULT_SAMPLING: SamplingSettings = SamplingSettings.parse({});

/** The serving sweep (the page's serving panel, `latency-lab serve`). */
export const SERVING_DEFAULTS = {
  model: DEFAULT_MODEL,
  target: 'ort:wasm',
  threads: 1,
  /** Offered loads, requests per second. */
  rates: [50, 100, 200, 400],
  durationS: 3,
  /** Batchers compared: 1 is no batching. */
  maxBatches: [1, 8],
  /** How long a batch may wait to fill, for batchers above 1. */
  maxWaitMs: 5,
  workers: [1],
  seed: 1,
  percentile: 'p99',
  capacityProbes: 5,
} as const;

/** Monitor mode (the page's monitor button, `latency-lab monitor`). */
export const MONITOR_DEFAULTS = {
  batch: 1,
  cadenceMs: 100,
  minutes: 1,
  windowS: 10,
  /** A window whose median departs from the baseline window's by more than this fraction is flagged. */
  threshold: 0.1,
} as const;
