/**
 * The typed API on `window.latencyLab`, used by the CLI through Playwright and by anyone scripting the page.
 * It takes the same PlanRequest as the page's form and returns the same validated RunResult.
 */
import type { CellJob } from '../lib/contracts/job.ts';
import type { LatencyLabApi } from '../lib/contracts/automation-api.ts';
import { cellReason, parseWith } from '../lib/schema.ts';
import { ModelInfo, type Manifest } from '../lib/models/manifest.ts';
import { buildPlan, type PlanRequest } from '../lib/plan/plan.ts';
import { variantKey, withVariantFile } from '../lib/models/variants/variant-file.ts';
import { collectEnvironment } from './environment.ts';
import { defaultModelsBaseUrl, loadManifest, runPlan } from './runner.ts';
import { oneMeasurementAtATime } from './measure-lock.ts';
import { CellDriver, startCellWorker, withWorker } from './worker-bridge.ts';
import type { CellWorkerApi } from '../worker/cell-worker.ts';
import * as Comlink from 'comlink';

export type {
  AutomationRunOptions,
  FirstResult,
  LatencyLabApi,
  OverheadBench,
} from '../lib/contracts/automation-api.ts';

/**
 * The page's own start-up (zoo, backend probe: a worker that opens WebGPU and WebGL contexts) takes a few hundred
 * ms of CPU. A run started at the same moment would share the cores with it, so runs wait for it (30 s at most).
 */
let markReady: () => void = () => undefined;
const pageReady = new Promise<void>((resolve) => (markReady = resolve));
export function pageIsReady(): void {
  markReady();
}
const idle = () => Promise.race([pageReady, new Promise<void>((r) => setTimeout(r, 30_000))]);

export function installAutomationApi(): LatencyLabApi {
  const api = new AutomationApi();
  window.latencyLab = api;
  return api;
}

/** A script waits in silence: its caller sees the time it took. */
const noWaitNote = () => {};

/** The API's methods; each waits for the page's own start-up before it loads anything. */
class AutomationApi implements LatencyLabApi {
  readonly version = __LAB_VERSION__;
  private readonly base = defaultModelsBaseUrl();
  private zoo: Promise<Manifest> | null = null;

  manifest = (): Promise<Manifest> => (this.zoo ??= loadManifest(this.base));
  environment: LatencyLabApi['environment'] = (flags) => collectEnvironment(flags);

  run: LatencyLabApi['run'] = async (request, options = {}) => {
    await idle();
    const m = await this.withExtra(options.extraModels);
    const plan = buildPlan(request, m.models);
    const environment = await collectEnvironment(options.browserFlags);
    options.onPlan?.(plan, environment);
    // One measurement at a time here too: a script's run waits for a run or sweep started on the page, or in another tab.
    return oneMeasurementAtATime(
      'a scripted run',
      (overlap) =>
        runPlan(plan, m, {
          overlap,
          modelsBaseUrl: this.base,
          source: options.source ?? 'api',
          browserFlags: options.browserFlags,
          environment,
          faults: options.faults,
          variantFiles: options.variantFiles,
          onCellStart: (i, n, cell) => options.onCellStart?.(i, n, cell.id),
          onCellEvent: options.onCellEvent,
          onCellDone: options.onCellDone,
        }),
      noWaitNote,
    );
  };

  firstResult: LatencyLabApi['firstResult'] = async (request, cellId, options = {}) => {
    await idle();
    const m = await this.withExtra(options.extraModels);
    const plan = buildPlan(request, m.models);
    const cell = plan.cells.find((c) => c.id === cellId);
    const found = m.models.find((x) => x.id === cell?.modelId);
    if (!cell || !found)
      throw new Error(`the plan has no cell '${cellId}'; it has ${plan.cells.map((c) => c.id).join(', ')}`);
    // A variant cell's first visit loads the variant's file, made by the driver and served beside the build.
    const variant = cell.variant === 'fp32' ? null : options.variantFiles?.[variantKey(found.id, cell.variant)];
    if (variant === undefined || (variant && !variant.ok)) {
      const reason = variant?.ok === false ? variant.reason : `no ${cell.variant} file was given for '${found.id}'`;
      return { status: 'unsupported', reason, coldStart: null, pageLoadMs: null };
    }
    const model = variant ? withVariantFile(found, variant.file) : found;
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
    const pageLoadMs = nav && nav.loadEventEnd > 0 ? nav.loadEventEnd - nav.startTime : null;
    const sampling = { ...plan.sampling, cellTimeoutMs: options.timeoutMs ?? plan.sampling.cellTimeoutMs };
    const driver = new CellDriver({ cell, model, sampling, modelsBaseUrl: this.base });
    try {
      const step = await driver.prepare();
      if (step.ok) return { status: 'ok', reason: null, coldStart: step.value.coldStart, pageLoadMs };
      const r = step.outcome.result;
      const reason = r.status === 'ok' ? null : cellReason(r);
      return { status: r.status === 'ok' ? 'failed' : r.status, reason, coldStart: null, pageLoadMs };
    } finally {
      driver.terminate();
    }
  };

  serve: LatencyLabApi['serve'] = async (config, options = {}) => {
    await idle();
    const { runServing } = await import('./serving.ts');
    const cb = { onStatus: options.onStatus, source: options.source ?? 'api' };
    const manifest = await this.manifest();
    return oneMeasurementAtATime(
      'a scripted serving sweep',
      (overlap) => runServing(config, manifest, this.base, { ...cb, overlap }),
      noWaitNote,
    );
  };

  monitor: LatencyLabApi['monitor'] = async (config, options = {}) => {
    await idle();
    const { runMonitor } = await import('./monitor.ts');
    const cb = { onStatus: options.onStatus, source: options.source ?? 'api' };
    const manifest = await this.manifest();
    return oneMeasurementAtATime(
      'a scripted monitor',
      (overlap) => runMonitor(config, manifest, this.base, { ...cb, overlap }),
      noWaitNote,
    );
  };

  benchGpuSync: LatencyLabApi['benchGpuSync'] = async (modelId, batch, rounds) => {
    const request = {
      targets: ['ort:webgpu'],
      batches: [batch],
      sampling: { mode: 'fixed' as const, samples: rounds, warmup: 0, cellTimeoutMs: 600_000 },
    };
    return this.withBenchWorker(modelId, request, (worker, job) => worker.benchGpuSync(job, rounds));
  };

  benchBareLoop: LatencyLabApi['benchBareLoop'] = async (modelId, target, seconds, threads = 1) => {
    await idle();
    const request = {
      targets: [target],
      batches: [1],
      threads: [threads],
      sampling: { mode: 'fixed' as const, cellTimeoutMs: 600_000 },
    };
    return this.withBenchWorker(modelId, request, (worker, job) => worker.benchBareLoop(job, seconds));
  };

  benchOverhead: LatencyLabApi['benchOverhead'] = async (
    modelId,
    target,
    batch,
    rounds,
    block,
    values = {},
    iterations = 1,
  ) => {
    await idle();
    const inputOverrides = {
      [modelId]: Object.fromEntries(Object.entries(values).map(([input, policy]) => [input, { values: policy }])),
    };
    const request = {
      targets: [target],
      batches: [batch],
      inputOverrides,
      sampling: { mode: 'fixed' as const, samples: rounds * block, warmup: 10, cellTimeoutMs: 600_000 },
    };
    return this.withBenchWorker(modelId, request, async (worker, job) => {
      const measured = await worker.benchOverhead(job, rounds, block, iterations);
      return { ...measured, boundary: await boundaryCost(worker), crossOriginIsolated };
    });
  };

  /** The zoo plus a person's own models, validated like the zoo's own entries before anything runs. */
  private async withExtra(extraModels: readonly unknown[] = []): Promise<Manifest> {
    const zoo = await this.manifest();
    const extra = extraModels.map((x, i) => parseWith(ModelInfo, `extra model [${i}]`, x));
    return { ...zoo, models: [...zoo.models.filter((z) => !extra.some((x) => x.id === z.id)), ...extra] };
  }

  /**
   * The benchmarks' shared frame: one model on one target as a single-cell job, in a fresh cell worker that is
   * terminated whatever happens.
   */
  private async withBenchWorker<T>(
    modelId: string,
    request: Omit<PlanRequest, 'models'>,
    use: (worker: Comlink.Remote<CellWorkerApi>, job: CellJob) => Promise<T>,
  ): Promise<T> {
    const m = await this.manifest();
    const model = m.models.find((x) => x.id === modelId);
    if (!model) throw new Error(`unknown model id '${modelId}'`);
    const plan = buildPlan({ ...request, models: [modelId] }, m.models);
    const job: CellJob = { cell: plan.cells[0]!, model, sampling: plan.sampling, modelsBaseUrl: this.base };
    return withWorker(startCellWorker(), (worker) => use(worker, job));
  }
}

/** The worker boundary: what one sample event costs to cross, timed on the page (never inside a stage). */
async function boundaryCost(worker: Comlink.Remote<CellWorkerApi>): Promise<number[]> {
  const probe = {
    preprocess: 0.01,
    upload: 0.02,
    inference: 1,
    readback: 0.03,
    postprocess: 0.01,
    total: 1.07,
    iterations: 1,
    at: Date.now(),
    segment: null,
    parts: null,
    invocation: 0,
  };
  const boundary: number[] = [];
  for (let i = 0; i < 20; i++) await worker.echo(probe);
  for (let i = 0; i < 200; i++) {
    const a = performance.now();
    await worker.echo(probe);
    boundary.push(performance.now() - a);
  }
  return boundary;
}
