/**
 * The probe worker: what a worker (where cells run) sees of this browser: isolation, clock, GPU and which
 * runtime:backend pairs can start. The page starts it once at load; it is small on purpose, so the first visit
 * doesn't download the cell worker's pipeline before anyone has asked for a run.
 */
import * as Comlink from 'comlink';
import { probeCapabilities } from '../runtimes/capabilities.ts';
import { measureTimerResolution } from './timer.ts';

const api = {
  async probe() {
    const { gpu, capabilities } = await probeCapabilities();
    return {
      crossOriginIsolated: self.crossOriginIsolated,
      timerResolutionMs: measureTimerResolution(),
      hardwareConcurrency: navigator.hardwareConcurrency,
      gpu,
      capabilities,
    };
  },
};

export type ProbeWorkerApi = typeof api;

Comlink.expose(api);
