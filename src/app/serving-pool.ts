/**
 * What a serving sweep and a monitor share: the one cell that serves, a pool of workers with the model loaded and
 * warm, and the result file around a serving report.
 */
import type { Manifest } from '../lib/models/manifest.ts';
import { buildPlan } from '../lib/plan/plan.ts';
import { runEnvelope } from '../lib/schema/envelope.ts';
import { servingSampling } from '../lib/serving/config.ts';
import { cellReason, SamplingSettings, type Cell, type Environment, type RunResult } from '../lib/schema.ts';
import { quantile, sortSamples } from '../lib/measure/stats.ts';
import { CellDriver } from './worker-bridge.ts';
import type { ServingReport } from '../lib/schema/serving.ts';

export const SERVING_SAMPLING = servingSampling(0);

export function cellFor(
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
export async function startPool(
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
      throw new Error(`worker ${i + 1} could not start ${cell.id}: ${cellReason(r)}`);
    }
    // New shapes are slow the first time (kernels, buffers): warm every size the batcher may send.
    for (let b = 1; b <= maxBatch; b++) for (let k = 0; k < 2; k++) await d.serve(b);
  }
  return pool;
}

export function serviceTable(service: Map<number, number[]>): ServingReport['serviceByBatch'] {
  return [...service.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([batch, xs]) => ({ batch, medianMs: quantile(sortSamples(xs), 0.5), n: xs.length }));
}

/** A serving run in the common result file: the plan names the cell that served; `serving` holds the rest. */
export async function servingEnvelope(
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
