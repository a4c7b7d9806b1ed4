/**
 * The serving simulator in real time: open-loop arrivals on the page's clock, the dynamic batcher (src/lib), and
 * a pool of cell workers, each with its own session, running the batches. Also capacity search under a latency
 * budget, and monitor mode (steady cadence, rolling windows). Results go into the same result file (`serving`).
 *
 * Arrival times are the scheduled ones (open loop: a late timer doesn't move an arrival); when the page's timer
 * fires late, that delay shows up as queue wait and is reported per point (schedulerLateP99).
 */
import type { z } from 'zod';
import { MonitorConfig, ServingConfig, servingSampling } from '../lib/serving/config.ts';
import { BatcherConfig } from '../lib/serving/batcher.ts';
import { dispatch, type DispatchClock, type StartService } from '../lib/serving/dispatch.ts';
import { predictPoint } from '../lib/serving/predict.ts';
import { poissonArrivals, traceArrivals } from '../lib/serving/load.ts';
import {
  monitorWindows,
  summarizePoint,
  type CapacityResult,
  type MeasuredRequest,
  type MonitorResult,
  type PointFailures,
  type ServingPoint,
  type ServingReport,
} from '../lib/serving/report.ts';
import { searchCapacity } from '../lib/serving/capacity.ts';
import type { Manifest } from '../lib/manifest.ts';
import { buildPlan } from '../lib/plan.ts';
import { SamplingSettings, type Cell, type Environment, type RunResult } from '../lib/schema.ts';
import { runEnvelope } from '../lib/envelope.ts';
import { quantile, sortSamples } from '../lib/stats.ts';
import { collectEnvironment } from './environment.ts';
import { CellDriver } from './worker-bridge.ts';

export { MonitorConfig, ServingConfig } from '../lib/serving/config.ts';

export interface ServingCallbacks {
  source?: RunResult['source'];
  onStatus?: (text: string) => void;
  onPoint?: (point: ServingPoint) => void;
  signal?: AbortSignal;
}

/** Waits until page time `t` (setTimeout: about 1 ms late at worst; lateness is measured where it matters). */
function sleepUntil(t: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, t - performance.now())));
}

const SERVING_SAMPLING = servingSampling(0);

function cellFor(
  models: Manifest['models'],
  model: string,
  target: string,
  threads: number,
): { cell: Cell; info: Manifest['models'][number] } {
  const plan = buildPlan(
    {
      models: [model],
      targets: [target],
      batches: [1],
      threads: [threads],
      order: 'matrix',
      sampling: SERVING_SAMPLING,
    },
    models,
  );
  const info = models.find((m) => m.id === model);
  if (!info) throw new Error(`unknown model id '${model}'; the zoo has: ${models.map((m) => m.id).join(', ')}`);
  if (!info.batchDim) throw new Error(`model '${model}' has no batch dim: a dynamic batcher needs one`);
  return { cell: plan.cells[0]!, info };
}

/** Starts `n` workers with the model loaded and warm at every batch size the batchers can send. */
async function startPool(
  n: number,
  cell: Cell,
  info: Manifest['models'][number],
  baseUrl: string,
  maxBatch: number,
  signal?: AbortSignal,
  sampling: SamplingSettings = SERVING_SAMPLING,
): Promise<CellDriver[]> {
  const pool: CellDriver[] = [];
  for (let i = 0; i < n; i++) {
    const d = new CellDriver({ cell, model: info, sampling, modelsBaseUrl: baseUrl }, { signal });
    pool.push(d);
    const prepared = await d.prepare();
    const warm = prepared.ok ? await d.warmup() : prepared;
    if (!warm.ok) {
      pool.forEach((p) => p.terminate());
      const r = warm.outcome.result;
      throw new Error(
        `worker ${i + 1} could not start ${cell.id}: ${r.status === 'failed' ? `${r.phase}: ${r.error}` : 'reason' in r ? r.reason : r.status}`,
      );
    }
    // New shapes are slow the first time (kernels, buffers): warm every size the batcher may send.
    for (let b = 1; b <= maxBatch; b++) for (let k = 0; k < 2; k++) await d.serve(b);
  }
  return pool;
}

/** Runs fn from a message task, in order: one channel for the page's life (not one per load point). */
const taskQueue: (() => void)[] = [];
const taskChannel = new MessageChannel();
taskChannel.port1.onmessage = () => taskQueue.shift()?.();
function fromMessageTask(fn: () => void): void {
  taskQueue.push(fn);
  taskChannel.port2.postMessage(null);
}

/**
 * The page's clock for the dispatcher: ms since `t0`. setTimeout from inside a timer callback is clamped to >= 4 ms
 * once such chains nest 5 deep (the HTML spec), and batch deadlines re-arm from their own callbacks: every timer is
 * set from a message task instead, which keeps it at nesting level 1 (measured: deadlines fired ~3.5 ms late
 * before this). Real timers never fire at one instant, so `soon` runs at once.
 */
function pageClock(t0: number): DispatchClock {
  return {
    now: () => performance.now() - t0,
    at(ms, fn) {
      let handle: ReturnType<typeof setTimeout> | null = null;
      let cancelled = false;
      fromMessageTask(() => {
        if (!cancelled) handle = setTimeout(fn, Math.max(0, t0 + ms - performance.now()));
      });
      return {
        cancel() {
          cancelled = true;
          if (handle !== null) clearTimeout(handle);
        },
      };
    },
    soon: (fn) => fn(),
  };
}

/**
 * One load point in real time: the dispatcher (src/lib/serving/dispatch.ts) on the page's clock, each batch served
 * by a pool worker. Every arrival's timer is set up front (a busy-wait would starve the workers' replies).
 */
function runPoint(
  pool: CellDriver[],
  arrivals: readonly number[],
  config: BatcherConfig,
  service: Map<number, number[]>,
  signal?: AbortSignal,
): Promise<{ records: MeasuredRequest[]; dropped: number; failed: PointFailures; lateness: number[] }> {
  const serve: StartService = (size, w, _k, done) =>
    void pool[w]!.serve(size).then((step) => {
      if (!step.ok) {
        const r = step.outcome.result;
        return done({ ok: false, error: r.status === 'failed' ? `${r.phase}: ${r.error}` : r.status });
      }
      const times = service.get(size) ?? [];
      times.push(step.value.ms);
      service.set(size, times);
      done({ ok: true, ms: step.value.ms });
    });
  return new Promise((resolve) =>
    dispatch(arrivals, config, pool.length, pageClock(performance.now() + 20), serve, {
      signal,
      onDone: (o) => resolve({ records: o.records, dropped: o.dropped.length, failed: o.failed, lateness: o.lateness }),
    }),
  );
}

function serviceTable(service: Map<number, number[]>): ServingReport['serviceByBatch'] {
  return [...service.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([batch, xs]) => ({ batch, medianMs: quantile(sortSamples(xs), 0.5), n: xs.length }));
}

/** A serving run in the common result file: the plan names the cell that served; `serving` holds the rest. */
async function wrap(
  environment: Environment,
  serving: ServingReport,
  cell: Cell,
  source: RunResult['source'],
): Promise<RunResult> {
  const plan: RunResult['plan'] = {
    seed: serving.seed,
    order: 'matrix',
    schedule: 'sequential',
    liveCells: 4,
    sampling: SERVING_SAMPLING,
    cells: [cell],
    nativeSkipped: [],
  };
  return runEnvelope({ source, environment, plan, cells: [], serving }, __LAB_VERSION__);
}

/** A sweep of offered load for every batcher setting and pool size, then capacity under the budget. */
export async function runServing(
  input: ServingConfig,
  manifest: Manifest,
  baseUrl: string,
  cb: ServingCallbacks = {},
  environment?: Environment,
): Promise<RunResult> {
  const config = ServingConfig.parse(input);
  const env = environment ?? (await collectEnvironment());
  const { cell, info } = cellFor(manifest.models, config.model, config.target, config.threads);
  const service = new Map<number, number[]>();
  const points: ServingPoint[] = [];
  const capacity: CapacityResult[] = [];
  const maxBatch = Math.max(...config.batchers.map((b) => b.maxBatch));
  const durationMs = config.durationS * 1000;
  let seed = config.seed;
  for (const workers of config.workers) {
    cb.onStatus?.(`starting ${workers} worker(s) for ${cell.id}`);
    const pool = await startPool(workers, cell, info, baseUrl, maxBatch, cb.signal);
    try {
      const trace = config.trace ? traceArrivals(config.trace) : null;
      const measure = async (rate: number, batcher: BatcherConfig) => {
        // A trace replays as recorded (its own rate); otherwise Poisson arrivals at `rate`.
        const arrivals = trace ?? poissonArrivals(rate, durationMs, seed++);
        cb.onStatus?.(
          `${workers} worker(s), max batch ${batcher.maxBatch}, max wait ${batcher.maxWaitMs} ms: ${rate} req/s`,
        );
        const r = await runPoint(pool, arrivals, batcher, service, cb.signal);
        const point = summarizePoint(
          rate,
          batcher,
          workers,
          arrivals.length,
          r.records,
          r.dropped,
          r.lateness,
          r.failed,
        );
        // The same dispatcher in virtual time, fed this point's service times: the gap is what the harness adds.
        return { ...point, predicted: predictPoint(arrivals, batcher, workers, r.records) };
      };
      for (const batcher of config.batchers) {
        const traceRate = trace ? (trace.length / Math.max(1, trace[trace.length - 1]!)) * 1000 : null;
        for (const rate of traceRate ? [traceRate] : [...config.rates].sort((a, b) => a - b)) {
          if (cb.signal?.aborted) break;
          const p = await measure(rate, batcher);
          points.push(p);
          cb.onPoint?.(p);
        }
        if (config.budgetMs !== null && !trace && !cb.signal?.aborted)
          capacity.push(
            await capacityFor(
              points.filter((p) => p.workers === workers && p.batcher === batcher),
              batcher,
              workers,
              config,
              measure,
            ),
          );
      }
    } finally {
      pool.forEach((d) => d.terminate());
    }
  }
  return wrap(
    env,
    {
      modelId: info.id,
      target: config.target,
      threads: config.threads,
      durationMs,
      seed: config.seed,
      serviceByBatch: serviceTable(service),
      points,
      capacity,
      monitor: null,
    },
    cell,
    cb.source ?? 'page',
  );
}

/** Capacity for one batcher and pool: the sweep's points as the first probes, then fresh probes (src/lib/serving/capacity.ts). */
async function capacityFor(
  sweep: ServingPoint[],
  batcher: BatcherConfig,
  workers: number,
  config: z.output<typeof ServingConfig>,
  measure: (rate: number, b: BatcherConfig) => Promise<ServingPoint>,
): Promise<CapacityResult> {
  const pick = (p: ServingPoint) => p.latency[config.percentile];
  const budget = config.budgetMs!;
  // The interval of the percentile the budget is on; a point with failed requests never passes.
  const probe = (p: ServingPoint) => ({
    rate: p.rate,
    value: pick(p),
    ci: config.percentile === 'p95' ? p.p95CI : p.p99CI,
    pass: pick(p) <= budget && !p.saturated && p.failed === 0,
  });
  const found = await searchCapacity(
    sweep.map(probe),
    async (rate) => probe(await measure(rate, batcher)),
    config.capacityProbes,
  );
  return { batcher, workers, percentile: config.percentile, budgetMs: budget, ...found };
}

/** Monitor: one inference every cadenceMs for durationS, with rolling windows, drift flags and memory readings. */
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
  const [driver] = await startPool(
    1,
    cell,
    info,
    baseUrl,
    config.batch,
    cb.signal,
    servingSampling(config.durationS * 1000),
  );
  const at: number[] = [];
  const ms: number[] = [];
  const memory = new Map<
    number,
    { jsHeapBytes: number | null; wasmHeapBytes: number | null; tfjsTensors: number | null }
  >();
  const windowMs = config.windowS * 1000;
  const t0 = performance.now();
  const end = t0 + config.durationS * 1000;
  try {
    for (let k = 0; performance.now() < end && !cb.signal?.aborted; k++) {
      await sleepUntil(t0 + k * config.cadenceMs);
      const step = await driver!.serve(config.batch);
      if (!step.ok)
        throw new Error(`monitor: the worker stopped: ${JSON.stringify(step.outcome.result).slice(0, 300)}`);
      at.push(performance.now() - t0);
      ms.push(step.value.ms);
      const w = Math.floor((performance.now() - t0) / windowMs);
      if (!memory.has(w * windowMs)) {
        const m = await driver!.memory();
        const js =
          (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? null;
        memory.set(w * windowMs, { jsHeapBytes: js, ...m });
        cb.onStatus?.(
          `monitor: ${Math.round((performance.now() - t0) / 1000)} s of ${config.durationS} s, last ${step.value.ms.toFixed(3)} ms`,
        );
      }
    }
  } finally {
    driver!.terminate();
  }
  const windows = monitorWindows(
    at,
    ms,
    windowMs,
    config.threshold,
    (start) => memory.get(start) ?? { jsHeapBytes: null, wasmHeapBytes: null, tfjsTensors: null },
  );
  const heaps = windows.filter((w) => w.wasmHeapBytes !== null || w.jsHeapBytes !== null);
  const heapOf = (w: (typeof windows)[number]) => (w.jsHeapBytes ?? 0) + (w.wasmHeapBytes ?? 0);
  const hours = heaps.length > 1 ? (heaps[heaps.length - 1]!.startMs - heaps[0]!.startMs) / 3_600_000 : 0;
  const heapGrowthPerHour = hours > 0 ? (heapOf(heaps[heaps.length - 1]!) - heapOf(heaps[0]!)) / hours : null;
  const flags = windows
    .filter((w) => w.flagged)
    .map(
      (w) =>
        `window at ${(w.startMs / 1000).toFixed(0)} s: median ${w.ratio > 1 ? '+' : ''}${((w.ratio - 1) * 100).toFixed(0)}% against the baseline window (drift or throttling)`,
    );
  const tensorsGrew =
    windows.length > 1 &&
    windows[windows.length - 1]!.tfjsTensors !== null &&
    windows[windows.length - 1]!.tfjsTensors! > windows[0]!.tfjsTensors!;
  if (tensorsGrew)
    flags.push(
      `tfjs tensors grew from ${windows[0]!.tfjsTensors} to ${windows[windows.length - 1]!.tfjsTensors}: a leak`,
    );
  const monitor: MonitorResult = {
    cadenceMs: config.cadenceMs,
    durationMs: config.durationS * 1000,
    windowMs,
    threshold: config.threshold,
    samples: { at, ms },
    windows,
    heapGrowthPerHour,
    flags,
  };
  return wrap(
    env,
    {
      modelId: info.id,
      target: config.target,
      threads: config.threads,
      durationMs: config.durationS * 1000,
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
