/**
 * The cell worker: one per cell, started by the page, terminated after its cell. It exposes a small API over
 * Comlink; the page derives its types from `CellWorkerApi`, so the two can't drift.
 */
import * as Comlink from 'comlink';
import type { CellEvent, CellJob, CellOutcome } from '../lib/job.ts';
import { runCellPipeline, type MeasureMemory } from './pipeline.ts';
import { measureTimerResolution } from './timer.ts';
import { probeCapabilities } from '../runtimes/capabilities.ts';

const api = {
  /** Isolation, clock, GPU and backend availability as a worker (where cells run) sees them. */
  async probe() {
    const { gpu, capabilities } = await probeCapabilities();
    return { crossOriginIsolated: self.crossOriginIsolated, timerResolutionMs: measureTimerResolution(), hardwareConcurrency: navigator.hardwareConcurrency, gpu, capabilities };
  },

  /** The ORT webgpu sync benchmark (scripts/bench-webgpu-sync.ts); loaded only when asked for. */
  async benchGpuSync(job: CellJob, rounds: number) {
    const { benchGpuSync } = await import('./bench-gpu-sync.ts');
    return benchGpuSync(job, rounds);
  },

  async runCell(job: CellJob, onEvent: (event: CellEvent) => void, measureMemory?: MeasureMemory): Promise<CellOutcome> {
    // Events are fire-and-forget: the worker never waits on the page between samples.
    const outcome = await runCellPipeline(job, (e) => void onEvent(e), measureMemory);
    // Output prefixes are transferred, not copied.
    return Comlink.transfer(outcome, outcome.parity.map((p) => p.values.buffer as ArrayBuffer));
  },
};

export type CellWorkerApi = typeof api;

Comlink.expose(api);
