/** What the page sends a cell worker, and what the worker sends back. Types only cross the boundary. */
import type { ModelInfo } from '../models/manifest.ts';
import type { ParityData } from '../report/parity.ts';
import type { Cell, CellResult, Sample, SamplingReport, SamplingSettings, WarmupStop } from '../schema.ts';

export interface CellJob {
  cell: Cell;
  model: ModelInfo;
  sampling: SamplingSettings;
  /** URL of the models folder (same origin), ending in '/'. Files are listed in the manifest relative to it. */
  modelsBaseUrl: string;
  /** User-supplied files by manifest path, sent instead of fetched (transferred, not copied). */
  files?: Record<string, ArrayBuffer>;
  /** Faults injected on purpose, by fault tests only (never set in normal runs). */
  faults?: TestFaults;
  /** When the page created the cell's Web Worker (epoch ms: performance.timeOrigin + now), for its boot time. */
  workerCreatedAt?: number;
}

/** Test-only fault injection (tests/e2e/faults.e2e.ts); every field off unless a test sets it. */
export interface TestFaults {
  /** GPU cells: destroy the session's GPU device once this many samples are taken (WebGPU device loss). */
  loseDeviceAfterSamples?: number;
  /**
   * A runtime falling back: in the cell's worker WebGPU gives no adapter and OffscreenCanvas no WebGL context, and
   * ORT is given wasm as a second execution provider (as an app wanting a fallback would). The proof must catch it.
   */
  forceFallback?: boolean;
}

export type CellPhase = 'init' | 'fetch' | 'session' | 'first-inference' | 'warmup' | 'sampling';

/**
 * Samples travel in batches (at most every 100 ms, and at the end of each block): one message per sample would
 * wake the page's main thread hundreds of times a second, on cores the measured worker shares.
 */
export type CellEvent = { type: 'phase'; phase: CellPhase } | { type: 'samples'; from: number; samples: Sample[] };

export interface CellOutcome {
  result: CellResult;
  parity: ParityData[];
}

/** A step of a cell in its worker: a value, or the end of the cell with its result (measurements kept). */
export type Step<T> = { ok: true; value: T } | { ok: false; outcome: CellOutcome };

export interface WarmupDone {
  /** Passes before sampling, as the warm-up rule counted them. */
  passes: number;
  /** The same, plus the timer guard's sizing passes: every pass before the first sample. */
  ownPasses: number;
  /** Wall time of each warm-up pass (the last 1000 at most). */
  passMs: number[];
  stop: WarmupStop;
  /** Time of every pass before the first sample (timer-guard sizing included). */
  totalMs: number;
  iterations: { iterations: number; why: string };
}

/** What only the page knows when a cell finishes. */
export interface FinishFacts {
  sampling: SamplingReport;
  pageHidden: boolean;
  /**
   * Other measurements that ran while this invocation did (src/app/overlap.ts), described; [] when none; null when
   * nothing was watched (no BroadcastChannel): the result then leaves `validity.overlapped` out.
   */
  overlapped: string[] | null;
  softwareGpu: boolean;
}

/** At most this many values per output are kept for parity, so a large output doesn't flood the page. */
export const PARITY_PREFIX = 65_536;

/**
 * The function the CLI exposes on the page when a run has native reference cells (`--native`); the page's runner
 * looks for it before starting one. Here, not in native-wire.ts, so the first load doesn't carry the wire code.
 */
export const NATIVE_BINDING = '__labNative';

/** Where a page opened from `latency-lab host` sends its result file (POST, with the session token as ?token=). */
export const HOST_RESULTS_PATH = '/__lab/results';
