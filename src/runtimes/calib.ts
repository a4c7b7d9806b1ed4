/**
 * The calibration runtime (`calib:cpu`): a known amount of work, timed by the same pipeline as real runtimes.
 * Inference spins on performance.now() until `busy_ms` has passed (busy-waiting, not sleeping: a timer or
 * setTimeout would add the event loop's own delay). Upload and readback only pass arrays along, so they measure
 * what the harness itself costs around a stage.
 */
import type { HostTensor } from '../lib/models/inputs.ts';
import {
  CALIBRATION_CHANGE_INPUT,
  CALIBRATION_FAULT_AFTER_INPUT,
  CALIBRATION_FAULT_INPUT,
  CALIBRATION_INPUT,
  CALIBRATION_LATER_INPUT,
  FAULTS,
} from '../lib/measure/calibration.ts';
import type { BackendId, Cell, GpuBusy, Proof, StageNote } from '../lib/schema.ts';
import { BackendUnavailable, type RuntimeAdapter, type RuntimeSession } from './runtime.ts';

/** Spins until `ms` have passed on this thread's clock; returns the time actually spun. */
export function busyWait(ms: number): number {
  const start = performance.now();
  if (ms <= 0) return 0;
  let now = start;
  while (now - start < ms) now = performance.now();
  return now - start;
}

const scalar = (inputs: readonly HostTensor[], name: string): number | null => {
  const t = inputs.find((x) => x.name === name);
  return t ? Number(t.data[0]) : null;
};

/** An injected fault (see CALIBRATION_FAULT_INPUT): what a crashing or out-of-memory runtime does to a worker. */
function injectFault(fault: number): Promise<number> {
  if (fault === FAULTS.crash) {
    // Uncaught, so the page sees the worker's error event; the pass never answers, as a dead worker wouldn't.
    setTimeout(() => {
      throw new Error('injected fault: the worker crashed');
    });
    return new Promise<number>(() => undefined);
  }
  // A wasm runtime out of memory: its heap can't grow (RangeError), and the call that needed it fails.
  new WebAssembly.Memory({ initial: 1, maximum: 2 }).grow(4);
  return Promise.resolve(0);
}

class CalibrationSession implements RuntimeSession<number, number> {
  /** The fault to inject once `passes` passes `faultAfter` (0: none). */
  private fault = 0;
  private faultAfter = 0;
  readonly stageNotes: readonly StageNote[] = [];
  /** Passes uploaded so far in this session (the first inference included): drives the optional level change. */
  private passes = 0;
  constructor(private readonly cell: Cell) {}

  async upload(inputs: readonly HostTensor[]): Promise<number> {
    const ms = scalar(inputs, CALIBRATION_INPUT) ?? NaN;
    if (!Number.isFinite(ms) || ms < 0 || ms > 60_000)
      throw new Error(`calibration: ${CALIBRATION_INPUT} must be a number of ms in 0..60000, got ${ms}`);
    const later = scalar(inputs, CALIBRATION_LATER_INPUT) ?? -1;
    const after = scalar(inputs, CALIBRATION_CHANGE_INPUT) ?? 0;
    if (later > 60_000 || !Number.isFinite(later))
      throw new Error(
        `calibration: ${CALIBRATION_LATER_INPUT} must be a number of ms up to 60000 (negative: no change), got ${later}`,
      );
    this.fault = scalar(inputs, CALIBRATION_FAULT_INPUT) ?? 0;
    this.faultAfter = scalar(inputs, CALIBRATION_FAULT_AFTER_INPUT) ?? 0;
    this.passes++;
    return later >= 0 && this.passes > after ? later : ms;
  }

  async infer(ms: number): Promise<number> {
    if (this.fault !== FAULTS.none && this.passes > this.faultAfter) return injectFault(this.fault);
    return busyWait(ms);
  }

  async readback(waited: number): Promise<HostTensor[]> {
    return [{ name: 'waited_ms', dtype: 'float32', shape: [], data: Float32Array.of(waited) }];
  }

  release(): void {}

  async proof(): Promise<Proof> {
    return {
      runtime: 'calib',
      runtimeVersion: 'built-in',
      backendRequested: this.cell.backend,
      backendInUse: 'cpu',
      threads: 1,
      simd: null,
      crossOriginIsolated: self.crossOriginIsolated,
      details: { work: 'busy-wait on performance.now()' },
    };
  }

  async measureGpuBusy(): Promise<GpuBusy | string> {
    return 'the calibration runtime has no GPU';
  }

  async dispose(): Promise<void> {}
}

export const calibAdapter: RuntimeAdapter = {
  id: 'calib',
  version: 'built-in',
  async init(backend: BackendId) {
    if (backend !== 'cpu') throw new BackendUnavailable(`the calibration runtime runs on cpu only, not ${backend}`);
  },
  async createSession(_model, bytes, cell) {
    if (bytes.format !== 'calibration')
      throw new Error(`the calibration runtime loads only the built-in calibration model, not a ${bytes.format} file`);
    return new CalibrationSession(cell);
  },
  wasmHeapBytes: () => null,
};
