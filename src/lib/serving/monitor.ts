/**
 * A monitor's readings summarised: rolling windows against the baseline window, heap growth per hour, and flags in
 * words (a window past the threshold, tfjs tensors that only grow).
 */
import { monitorWindows } from './report.ts';
import type { MonitorResult, MonitorWindow } from '../schema/serving.ts';

export type MemoryReading = Pick<MonitorWindow, 'jsHeapBytes' | 'wasmHeapBytes' | 'tfjsTensors'>;

export interface MonitorReadings {
  /** Each inference's time since the start, and its duration (ms). */
  at: number[];
  ms: number[];
  /** Memory read once per window, by the window's start (ms). */
  memory: Map<number, MemoryReading>;
}

const NO_READING: MemoryReading = { jsHeapBytes: null, wasmHeapBytes: null, tfjsTensors: null };

export function summarizeMonitor(
  config: { cadenceMs: number; durationMs: number; windowMs: number; threshold: number },
  readings: MonitorReadings,
): MonitorResult {
  const { at, ms, memory } = readings;
  const windows = monitorWindows(at, ms, config.windowMs, config.threshold, (start) => memory.get(start) ?? NO_READING);
  return {
    ...config,
    samples: { at, ms },
    windows,
    heapGrowthPerHour: heapGrowthPerHour(windows),
    flags: monitorFlags(windows),
  };
}

/** Heap (JS + wasm) growth from the first to the last window with a reading, per hour; null without two readings. */
function heapGrowthPerHour(windows: readonly MonitorWindow[]): number | null {
  const heaps = windows.filter((w) => w.wasmHeapBytes !== null || w.jsHeapBytes !== null);
  const heapOf = (w: MonitorWindow) => (w.jsHeapBytes ?? 0) + (w.wasmHeapBytes ?? 0);
  const hours = heaps.length > 1 ? (heaps[heaps.length - 1]!.startMs - heaps[0]!.startMs) / 3_600_000 : 0;
  return hours > 0 ? (heapOf(heaps[heaps.length - 1]!) - heapOf(heaps[0]!)) / hours : null;
}

function monitorFlags(windows: readonly MonitorWindow[]): string[] {
  const flags = windows
    .filter((w) => w.flagged)
    .map(
      (w) =>
        `window at ${(w.startMs / 1000).toFixed(0)} s: median ${w.ratio > 1 ? '+' : ''}${((w.ratio - 1) * 100).toFixed(0)}% against the baseline window (drift or throttling)`,
    );
  const first = windows[0];
  const last = windows[windows.length - 1];
  if (windows.length > 1 && last!.tfjsTensors !== null && last!.tfjsTensors > first!.tfjsTensors!)
    flags.push(`tfjs tensors grew from ${first!.tfjsTensors} to ${last!.tfjsTensors}: a leak`);
  return flags;
}
