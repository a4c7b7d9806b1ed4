/**
 * Monitor mode: one inference every cadenceMs for durationS on one warm worker, with memory read once per window.
 * The windows, drift flags and heap growth are src/lib/serving/monitor.ts.
 */
import type { z } from 'zod';
import type { Manifest } from '../lib/models/manifest.ts';
import { MonitorConfig, servingSampling } from '../lib/serving/config.ts';
import { summarizeMonitor, type MonitorReadings } from '../lib/serving/monitor.ts';
import type { Environment, RunResult } from '../lib/schema.ts';
import { quantile, sortSamples } from '../lib/measure/stats.ts';
import { collectEnvironment } from './environment.ts';
import { overlapFlag } from '../lib/measure/validity.ts';
import type { ServingCallbacks } from './serving.ts';
import { cellFor, servingEnvelope, startPool } from './serving-pool.ts';
import type { CellDriver } from './worker-bridge.ts';

/** Waits until page time `t` (setTimeout: about 1 ms late at worst; each inference's own time is what counts). */
function sleepUntil(t: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, t - performance.now())));
}

export async function runMonitor(
  input: MonitorConfig,
  manifest: Manifest,
  baseUrl: string,
  cb: ServingCallbacks = {},
  environment?: Environment,
): Promise<RunResult> {
  const config = MonitorConfig.parse(input);
  const env = environment ?? (await collectEnvironment());
  const { cell, info } = cellFor(manifest.models, config.model, config.target, config.threads);
  const durationMs = config.durationS * 1000;
  const [driver] = await startPool(1, cell, info, baseUrl, config.batch, cb.signal, servingSampling(durationMs));
  let readings: MonitorReadings;
  const mark = cb.overlap?.mark() ?? 0;
  try {
    readings = await monitorLoop(driver!, config, cb);
  } finally {
    driver!.terminate();
  }
  const { cadenceMs, threshold } = config;
  const monitor = summarizeMonitor({ cadenceMs, durationMs, windowMs: config.windowS * 1000, threshold }, readings);
  const overlapped = cb.overlap?.since(mark) ?? [];
  if (overlapped.length) monitor.flags.push(overlapFlag(overlapped));
  const { ms } = readings;
  return servingEnvelope(
    env,
    {
      modelId: info.id,
      target: config.target,
      threads: config.threads,
      durationMs,
      seed: 1,
      serviceByBatch: [{ batch: config.batch, medianMs: ms.length ? quantile(sortSamples(ms), 0.5) : 0, n: ms.length }],
      points: [],
      capacity: [],
      monitor,
    },
    cell,
    cb.source ?? 'page',
  );
}

/** The steady cadence: an inference at each tick, memory at the first inference of each window. */
async function monitorLoop(
  driver: CellDriver,
  config: z.output<typeof MonitorConfig>,
  cb: ServingCallbacks,
): Promise<MonitorReadings> {
  const readings: MonitorReadings = { at: [], ms: [], memory: new Map() };
  const windowMs = config.windowS * 1000;
  const t0 = performance.now();
  const end = t0 + config.durationS * 1000;
  for (let k = 0; performance.now() < end && !cb.signal?.aborted; k++) {
    await sleepUntil(t0 + k * config.cadenceMs);
    const step = await driver.serve(config.batch);
    if (!step.ok) throw new Error(`monitor: the worker stopped: ${JSON.stringify(step.outcome.result).slice(0, 300)}`);
    readings.at.push(performance.now() - t0);
    readings.ms.push(step.value.ms);
    const start = Math.floor((performance.now() - t0) / windowMs) * windowMs;
    if (readings.memory.has(start)) continue;
    const m = await driver.memory();
    const js = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? null;
    readings.memory.set(start, { jsHeapBytes: js, ...m });
    cb.onStatus?.(
      `monitor: ${Math.round((performance.now() - t0) / 1000)} s of ${config.durationS} s, last ${step.value.ms.toFixed(3)} ms`,
    );
  }
  return readings;
}
