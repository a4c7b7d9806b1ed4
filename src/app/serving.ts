/**
 * The serving simulator in real time: open-loop arrivals on the page's clock, the dynamic batcher (src/lib), and
 * a pool of cell workers, each with its own session, running the batches. Also capacity search under a latency
 * budget. Monitor mode is monitor.ts. Results go into the same result file (`serving`).
 *
 * Arrival times are the scheduled ones (open loop: a late timer doesn't move an arrival); when the page's timer
 * fires late, that delay shows up as queue wait and is reported per point (schedulerLateP99).
 */
import type { z } from 'zod';
import { ServingConfig } from '../lib/serving/config.ts';
import { BatcherConfig, type CapacityResult, type ServingPoint } from '../lib/schema/serving.ts';
import { dispatch, type DispatchClock, type StartService } from '../lib/serving/dispatch.ts';
import { predictPoint } from '../lib/serving/predict.ts';
import { poissonArrivals, traceArrivals } from '../lib/serving/load.ts';
import { summarizePoint, type MeasuredRequest, type PointFailures } from '../lib/serving/report.ts';
import { searchCapacity } from '../lib/serving/capacity.ts';
import type { Manifest } from '../lib/models/manifest.ts';
import { cellReason, type Environment, type RunResult } from '../lib/schema.ts';
import { collectEnvironment } from './environment.ts';
import { cellFor, serviceTable, servingEnvelope, startPool } from './serving-pool.ts';
import type { CellDriver } from './worker-bridge.ts';
import type { OverlapProbe } from './overlap.ts';

export interface ServingCallbacks {
  source?: RunResult['source'];
  onStatus?: (text: string) => void;
  onPoint?: (point: ServingPoint) => void;
  signal?: AbortSignal;
  /** Who else measured meanwhile (the measurement's watch: overlap.ts): marked on each point, or the monitor. */
  overlap?: OverlapProbe;
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
        return done({ ok: false, error: cellReason(r) });
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
  const sweep: Sweep = { config, cb, service: new Map(), points: [], capacity: [], seed: config.seed };
  const maxBatch = Math.max(...config.batchers.map((b) => b.maxBatch));
  for (const workers of config.workers) {
    cb.onStatus?.(`starting ${workers} worker(s) for ${cell.id}`);
    const pool = await startPool(workers, cell, info, baseUrl, maxBatch, cb.signal);
    try {
      await sweepPool(sweep, pool);
    } finally {
      pool.forEach((d) => d.terminate());
    }
  }
  return servingEnvelope(
    env,
    {
      modelId: info.id,
      target: config.target,
      threads: config.threads,
      durationMs: config.durationS * 1000,
      seed: config.seed,
      serviceByBatch: serviceTable(sweep.service),
      points: sweep.points,
      capacity: sweep.capacity,
      monitor: null,
    },
    cell,
    cb.source ?? 'page',
  );
}

/** A sweep in progress: what it was asked, and what it has measured so far. */
interface Sweep {
  config: z.output<typeof ServingConfig>;
  cb: ServingCallbacks;
  /** Every batch's service time, by batch size, over the whole sweep. */
  service: Map<number, number[]>;
  points: ServingPoint[];
  capacity: CapacityResult[];
  /** The next load point's arrival seed. */
  seed: number;
}

/** Every batcher setting on one pool: its rates (or the trace), then its capacity under the budget. */
async function sweepPool(sweep: Sweep, pool: CellDriver[]): Promise<void> {
  const { config, cb } = sweep;
  const workers = pool.length;
  const trace = config.trace ? traceArrivals(config.trace) : null;
  const measure = async (rate: number, batcher: BatcherConfig) => {
    // A trace replays as recorded (its own rate); otherwise Poisson arrivals at `rate`.
    const arrivals = trace ?? poissonArrivals(rate, config.durationS * 1000, sweep.seed++);
    cb.onStatus?.(
      `${workers} worker(s), max batch ${batcher.maxBatch}, max wait ${batcher.maxWaitMs} ms: ${rate} req/s`,
    );
    const mark = cb.overlap?.mark() ?? 0;
    const r = await runPoint(pool, arrivals, batcher, sweep.service, cb.signal);
    const point = summarizePoint(rate, batcher, workers, arrivals.length, r.records, r.dropped, r.lateness, r.failed);
    const overlapped = cb.overlap?.since(mark) ?? []; // null (not watched): none known
    // The same dispatcher in virtual time, fed this point's service times: the gap is what the harness adds.
    return { ...point, overlapped, predicted: predictPoint(arrivals, batcher, workers, r.records) };
  };
  const traceRate = trace ? (trace.length / Math.max(1, trace[trace.length - 1]!)) * 1000 : null;
  for (const batcher of config.batchers) {
    for (const rate of traceRate ? [traceRate] : [...config.rates].sort((a, b) => a - b)) {
      if (cb.signal?.aborted) break;
      const p = await measure(rate, batcher);
      sweep.points.push(p);
      cb.onPoint?.(p);
    }
    if (config.budgetMs === null || trace || cb.signal?.aborted) continue;
    const mine = sweep.points.filter((p) => p.workers === workers && p.batcher === batcher);
    sweep.capacity.push(await capacityFor(mine, batcher, workers, config, measure));
  }
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
  // What overlapped any point the search judged: the capacity found carries it.
  const crowded = new Set<string>();
  // The interval of the percentile the budget is on; a point with failed requests never passes.
  const probe = (p: ServingPoint) => {
    for (const o of p.overlapped) crowded.add(o);
    return {
      rate: p.rate,
      value: pick(p),
      ci: config.percentile === 'p95' ? p.p95CI : p.p99CI,
      pass: pick(p) <= budget && !p.saturated && p.failed === 0,
    };
  };
  const found = await searchCapacity(
    sweep.map(probe),
    async (rate) => probe(await measure(rate, batcher)),
    config.capacityProbes,
  );
  return { batcher, workers, percentile: config.percentile, budgetMs: budget, ...found, overlapped: [...crowded] };
}
