/**
 * The calibration model: a built-in, file-less model for the `calib` runtime, whose inference busy-waits for the
 * time its `busy_ms` input asks (0 by default: a no-op). Running it through the lab's own pipeline shows how much
 * the harness adds to a sample, and whether a known duration is reported as that duration.
 *
 *   latency-lab run --models calibration --targets calib:cpu --values busy_ms=const:2
 */
import type { ModelInfo } from '../models/manifest.ts';
import type { OkCellResult } from '../schema.ts';

export const CALIBRATION_MODEL_ID = 'calibration';
export const CALIBRATION_INPUT = 'busy_ms';
/**
 * A level change on demand, for testing steady-state detection: after `change_after` passes (counted from the
 * session's first pass), inference busy-waits `later_busy_ms` instead. A negative `later_busy_ms` (the default)
 * means no change.
 */
export const CALIBRATION_LATER_INPUT = 'later_busy_ms';
export const CALIBRATION_CHANGE_INPUT = 'change_after';
/**
 * Faults on demand, for the tests that check a run survives them: from pass `fault_after` on (counted like
 * change_after), `fault` 1 crashes the worker (an uncaught error, and the pass never returns), 2 runs it out of
 * memory the way a wasm runtime does (WebAssembly.Memory.grow past its maximum throws RangeError). 0: none.
 */
export const CALIBRATION_FAULT_INPUT = 'fault';
export const CALIBRATION_FAULT_AFTER_INPUT = 'fault_after';
export const FAULTS = { none: 0, crash: 1, oom: 2 } as const;

export const CALIBRATION_MODEL: ModelInfo = {
  id: CALIBRATION_MODEL_ID,
  title: 'Calibration (busy-wait)',
  task: 'synthetic',
  description:
    'Built in, no files. Inference spins on performance.now() for busy_ms milliseconds (0: returns at once); from pass change_after on, for later_busy_ms instead when that is >= 0; fault 1 (crash) or 2 (out of memory) from pass fault_after on, for fault tests. For the calib:cpu target only.',
  inputs: [
    { name: CALIBRATION_INPUT, dtype: 'float32', shape: [] },
    { name: CALIBRATION_LATER_INPUT, dtype: 'float32', shape: [] },
    { name: CALIBRATION_CHANGE_INPUT, dtype: 'float32', shape: [] },
    { name: CALIBRATION_FAULT_INPUT, dtype: 'float32', shape: [] },
    { name: CALIBRATION_FAULT_AFTER_INPUT, dtype: 'float32', shape: [] },
  ],
  outputs: [{ name: 'waited_ms', dtype: 'float32', shape: [] }],
  batchDim: null,
  batchFollowers: [],
  dimDefaults: {},
  valueDefaults: {
    [CALIBRATION_INPUT]: { kind: 'constant', value: 0 },
    [CALIBRATION_LATER_INPUT]: { kind: 'constant', value: -1 },
    [CALIBRATION_CHANGE_INPUT]: { kind: 'constant', value: 0 },
    [CALIBRATION_FAULT_INPUT]: { kind: 'constant', value: 0 },
    [CALIBRATION_FAULT_AFTER_INPUT]: { kind: 'constant', value: 0 },
  },
  formats: [{ format: 'calibration', entry: { path: 'calibration', bytes: 0, sha256: '0'.repeat(64) }, weights: [] }],
  provenance: {
    package: 'inference-latency-lab',
    version: 'built-in',
    license: 'MIT',
    files: [],
    notes: 'synthetic; nothing is fetched',
  },
};

/** The zoo's models plus the built-in calibration model (unless a zoo model already took its id). */
export function withBuiltInModels(models: readonly ModelInfo[]): ModelInfo[] {
  return models.some((m) => m.id === CALIBRATION_MODEL_ID) ? [...models] : [...models, CALIBRATION_MODEL];
}

export interface CalibrationReport {
  cellId: string;
  requestedMs: number;
  /** Median of the inference stage (the busy-wait) per pass. */
  measuredMs: number;
  errorMs: number;
  /** max(1% of the request, 2 timer ticks): how close a true harness must report a known duration. */
  toleranceMs: number;
  withinTolerance: boolean;
  /** Median total minus median inference: what the pipeline adds around the work, per pass. */
  overheadMs: number;
}

/** The busy-wait a calibration cell asked for: its constant override, else the model's default (0). */
export function requestedBusyMs(cell: OkCellResult): number {
  const policy =
    cell.cell.inputOverrides[CALIBRATION_INPUT]?.values ?? CALIBRATION_MODEL.valueDefaults[CALIBRATION_INPUT];
  return policy?.kind === 'constant' ? policy.value : NaN;
}

/** For each ok calibration cell: was the known duration reported as that duration, and what did the harness add? */
export function calibrationReports(cells: readonly OkCellResult[]): CalibrationReport[] {
  return cells
    .filter((c) => c.cell.runtime === 'calib' && c.summary.inference)
    .map((c) => {
      const requestedMs = requestedBusyMs(c);
      const measuredMs = c.summary.inference!.median;
      const toleranceMs = Math.max(0.01 * requestedMs, 2 * c.timerResolutionMs);
      const errorMs = measuredMs - requestedMs;
      // Clock readings are whole ticks held in floats: a nanosecond of slack keeps 4 ticks from reading as 4.0000003.
      return {
        cellId: c.cell.id,
        requestedMs,
        measuredMs,
        errorMs,
        toleranceMs,
        withinTolerance: Math.abs(errorMs) <= toleranceMs + 1e-6,
        overheadMs: c.summary.total.median - measuredMs,
      };
    });
}
