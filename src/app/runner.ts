/**
 * Runs a plan. The page, the hosted demo and the CLI (through the window API) all run plans through here, so all
 * get the same result file.
 *
 * Each cell gets a fresh worker. Sequential plans run one cell at a time; interleaved plans keep up to
 * `plan.liveCells` cells loaded and rotate blocks of samples across them, in an order drawn from the plan's seed
 * each round, so slow drift spreads over every cell instead of landing on whichever ran last. The sampling
 * decisions (warm-up, timer guard, when precision is reached) are src/lib/sampling.ts; parity and the software
 * GPU check happen once every cell is done.
 */
import { withBuiltInModels } from '../lib/calibration.ts';
import {
  NATIVE_BINDING,
  type CellEvent,
  type CellJob,
  type CellOutcome,
  type ParityData,
  type TestFaults,
  type WarmupDone,
} from '../lib/job.ts';
import { cellImages, type Manifest, type ModelInfo } from '../lib/manifest.ts';
import { compareOutputs, pickReference } from '../lib/parity.ts';
import { seededShuffle } from '../lib/rng.ts';
import { workKey } from '../lib/plan.ts';
import { applyTax } from '../lib/tax.ts';
import { runEnvelope } from '../lib/envelope.ts';
import { SamplingController } from '../lib/sampling.ts';
import {
  okCells,
  type Cell,
  type CellResult,
  type ColdStart,
  type Environment,
  type Plan,
  type RunResult,
} from '../lib/schema.ts';
import { collectEnvironment } from './environment.ts';
import { CellDriver, type CellChannel, type CellDriverOptions } from './worker-bridge.ts';
import { nativeChannel } from './native-bridge.ts';

export interface RunCallbacks {
  onCellStart?: (index: number, total: number, cell: Cell) => void;
  onCellEvent?: (index: number, event: CellEvent) => void;
  onCellDone?: (index: number, result: CellResult, parity: ParityData[]) => void;
}

export interface RunOptions extends RunCallbacks {
  modelsBaseUrl: string;
  source: RunResult['source'];
  signal?: AbortSignal;
  browserFlags?: string[];
  environment?: Environment;
  /** Bytes of a person's own model files, by manifest path; copied into each job (jobs transfer them away). */
  files?: ReadonlyMap<string, ArrayBuffer>;
  /** Test-only faults, copied into every job (tests/e2e/faults.e2e.ts). */
  faults?: TestFaults;
  /** Cells finished before (a resumed run): kept as they are, not run again, and part of parity. */
  prior?: { cells: readonly CellResult[]; parity: Readonly<Record<string, ParityData[]>> };
}

/** Whether the page went hidden (background tab, minimised) since a mark: hidden pages get throttled. */
class VisibilityWatch {
  private hiddenCount = 0;
  private readonly onChange = () => {
    if (document.visibilityState === 'hidden') this.hiddenCount++;
  };
  constructor() {
    if (typeof document !== 'undefined') document.addEventListener('visibilitychange', this.onChange);
  }
  mark(): number {
    return this.hiddenCount + (this.hiddenNow() ? 1 : 0);
  }
  hiddenSince(mark: number): boolean {
    return this.hiddenNow() || this.hiddenCount + (this.hiddenNow() ? 1 : 0) !== mark;
  }
  private hiddenNow(): boolean {
    return typeof document !== 'undefined' && document.visibilityState === 'hidden';
  }
  close(): void {
    if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', this.onChange);
  }
}

interface LiveCell {
  index: number;
  cell: Cell;
  driver: CellDriver;
  controller: SamplingController;
  warm: WarmupDone;
  visibleMark: number;
}

export async function runPlan(plan: Plan, manifest: Manifest, options: RunOptions): Promise<RunResult> {
  const environment = options.environment ?? (await collectEnvironment(options.browserFlags));
  const models = withBuiltInModels(manifest.models);
  const results: (CellResult | undefined)[] = new Array(plan.cells.length);
  const parityData = new Map<string, ParityData[]>();
  const total = plan.cells.length;
  const visibility = new VisibilityWatch();
  const softwareGpu = (cell: Cell) =>
    Boolean(environment.gpu?.software) && (cell.backend === 'webgl' || cell.backend === 'webgpu');

  const done = (index: number, outcome: CellOutcome) => {
    results[index] = outcome.result;
    if (outcome.result.status === 'ok') parityData.set(outcome.result.cell.id, outcome.parity);
    options.onCellDone?.(index, outcome.result, outcome.parity);
  };
  for (const [index, cell] of plan.cells.entries()) {
    const before = options.prior?.cells.find((c) => c.cell.id === cell.id);
    if (!before) continue;
    results[index] = before;
    const p = options.prior?.parity[cell.id];
    if (p) parityData.set(cell.id, p);
  }
  /** The job's own copy of the model's files (a transfer detaches the buffers it sends). */
  const filesFor = (model: ModelInfo, cell: Cell): Record<string, ArrayBuffer> | undefined => {
    if (!options.files) return undefined;
    const out: Record<string, ArrayBuffer> = {};
    // The model's files and the pictures its image inputs are made from (a person's own pictures travel the same way).
    for (const f of [...model.formats.flatMap((x) => [x.entry, ...x.weights]), ...cellImages(model, cell)]) {
      const b = options.files.get(f.path);
      if (b) out[f.path] = b.slice(0);
    }
    return Object.keys(out).length ? out : undefined;
  };

  /** Cells that can't run end here, without a worker; the others come back as jobs. */
  const triage = (index: number, cell: Cell): ModelInfo | null => {
    const startedAt = new Date().toISOString();
    const model = models.find((m) => m.id === cell.modelId);
    const unavailableReason = cell.runtime === 'ort-node' ? nativeUnavailable() : unavailable(environment, cell);
    const end = (result: CellResult) => {
      options.onCellStart?.(index, total, cell);
      done(index, { result, parity: [] });
      return null;
    };
    if (options.signal?.aborted)
      return end({
        status: 'aborted',
        cell,
        startedAt,
        durationMs: 0,
        reason: 'cancelled before it started',
        samples: [],
      });
    // Probed before the run: no worker is started for a backend this browser can't run.
    if (unavailableReason)
      return end({ status: 'unsupported', cell, startedAt, durationMs: 0, reason: unavailableReason });
    if (!model) {
      const error = `unknown model id '${cell.modelId}'; the zoo has: ${models.map((m) => m.id).join(', ')}`;
      return end({
        status: 'failed',
        cell,
        startedAt,
        durationMs: 0,
        phase: 'plan',
        error,
        coldStart: null,
        samples: [],
      });
    }
    return model;
  };

  /** Cold start and warm-up of one cell; null when the cell ended there (its result is recorded). */
  const open = async (index: number, cell: Cell, model: ModelInfo): Promise<LiveCell | null> => {
    const job = {
      cell,
      model,
      sampling: plan.sampling,
      modelsBaseUrl: options.modelsBaseUrl,
      files: filesFor(model, cell),
      faults: options.faults,
    };
    const driver = driverFor(job, { signal: options.signal, onEvent: (e) => options.onCellEvent?.(index, e) });
    const prepared = await driver.prepare();
    const warm = prepared.ok ? await driver.warmup() : prepared;
    if (!warm.ok) {
      driver.terminate();
      done(index, warm.outcome);
      return null;
    }
    return {
      index,
      cell,
      driver,
      controller: new SamplingController(plan.sampling, { passes: warm.value.ownPasses, totalMs: warm.value.totalMs }),
      warm: warm.value,
      visibleMark: visibility.mark(),
    };
  };

  /** Sampling is over for this cell: finish it in its worker, then measure the extra cold starts. */
  const close = async (live: LiveCell) => {
    const sampling = live.controller.report(live.warm.iterations, {
      passes: live.warm.passes,
      stop: live.warm.stop,
      passMs: live.warm.passMs,
    });
    const outcome = await live.driver.finish({
      sampling,
      pageHidden: visibility.hiddenSince(live.visibleMark),
      softwareGpu: softwareGpu(live.cell),
    });
    live.driver.terminate();
    if (outcome.result.status === 'ok' && plan.sampling.coldStarts > 1) {
      const model = models.find((m) => m.id === live.cell.modelId)!;
      const repeats = await repeatColdStarts(live.cell, model, plan, options, plan.sampling.coldStarts - 1, filesFor);
      outcome.result.coldStarts.push(...repeats.coldStarts);
      outcome.result.warnings.push(...repeats.warnings);
    }
    done(live.index, outcome);
  };

  const sampleBlock = async (live: LiveCell): Promise<boolean> => {
    const n = live.controller.nextBlock();
    if (n === 0) return false;
    const step = await live.driver.sample(n);
    if (!step.ok) {
      live.driver.terminate();
      done(live.index, step.outcome);
      return false;
    }
    live.controller.record(
      step.value.samples.map((s) => s.total),
      step.value.blockMs,
      step.value.samples[0]?.iterations ?? 1,
    );
    return true;
  };

  try {
    const groupSize = plan.schedule === 'interleaved' ? plan.liveCells : 1;
    // With native reference cells, a live group is the cells of one work key (a browser cell and its reference
    // take turns; the plan lists them together and makes liveCells hold the largest such group).
    const byWork = plan.cells.some((c) => c.runtime === 'ort-node');
    let group: { index: number; cell: Cell; model: ModelInfo }[] = [];
    const runGroup = async () => {
      const live: LiveCell[] = [];
      for (const { index, cell, model } of group) {
        options.onCellStart?.(index, total, cell);
        const l = await open(index, cell, model);
        if (l) live.push(l);
      }
      group = [];
      // Rounds: every live cell takes one block, in an order drawn from the seed (the same seed, the same order).
      for (let round = 0; live.length > 0; round++) {
        const order = live.length > 1 ? seededShuffle(live, plan.seed + round) : [...live];
        for (const l of order) {
          if (await sampleBlock(l)) continue;
          live.splice(live.indexOf(l), 1);
          if (results[l.index] === undefined) await close(l);
        }
      }
    };
    for (const [index, cell] of plan.cells.entries()) {
      if (results[index] !== undefined) continue; // finished before a resume
      const model = triage(index, cell);
      if (!model) continue;
      if (byWork && group.length && workKey(group[0]!.cell) !== workKey(cell)) await runGroup();
      group.push({ index, cell, model });
      if (group.length >= groupSize) await runGroup();
    }
    if (group.length) await runGroup();
  } finally {
    visibility.close();
  }

  const cells = results.map(
    (r, i) =>
      r ?? {
        status: 'aborted' as const,
        cell: plan.cells[i]!,
        startedAt: new Date().toISOString(),
        durationMs: 0,
        reason: 'not run',
        samples: [],
      },
  );
  const ok = okCells(cells);
  for (const r of ok) {
    const ref = pickReference(r.cell, ok);
    const mine = parityData.get(r.cell.id);
    const theirs = ref && parityData.get(ref.cell.id);
    // The reference cell itself keeps parity null: it is what the others are compared with.
    if (!ref || ref.cell.id === r.cell.id || !mine || !theirs) continue;
    r.parity = compareOutputs(mine, theirs, ref.cell.id);
    if (!r.parity.withinTolerance) {
      r.warnings.push(
        `outputs differ from ${ref.cell.id}: ${r.parity.mismatch ?? `max abs diff ${r.parity.maxAbsDiff} > ${r.parity.tolerance}`}`,
      );
    }
  }

  // The browser tax, where native reference cells ran.
  if (ok.some((c) => c.cell.runtime === 'ort-node')) applyTax(ok, (id) => parityData.get(id));

  // The page validates its own output too (runEnvelope parses what it builds).
  return runEnvelope({ source: options.source, environment, plan, cells }, __LAB_VERSION__);
}

/**
 * Cold start again in fresh workers (runtime init, fetch, session, first inference), so cold start is a
 * distribution and not one number. The browser's HTTP cache is warm by now: these are "returning visitor" loads.
 */
async function repeatColdStarts(
  cell: Cell,
  model: ModelInfo,
  plan: Plan,
  options: RunOptions,
  count: number,
  filesFor: (m: ModelInfo, c: Cell) => Record<string, ArrayBuffer> | undefined,
): Promise<{ coldStarts: ColdStart[]; warnings: string[] }> {
  const coldStarts: ColdStart[] = [];
  const warnings: string[] = [];
  for (let i = 0; i < count && !options.signal?.aborted; i++) {
    const driver = driverFor(
      { cell, model, sampling: plan.sampling, modelsBaseUrl: options.modelsBaseUrl, files: filesFor(model, cell) },
      { signal: options.signal },
    );
    try {
      const step = await driver.prepare();
      if (step.ok)
        coldStarts.push({
          ...(step.value.coldStart as Omit<ColdStart, 'warmupCount' | 'warmupTotalMs'>),
          warmupCount: 0,
          warmupTotalMs: 0,
        } as ColdStart);
      else
        warnings.push(
          `cold start ${i + 2} of ${count + 1} did not complete: ${JSON.stringify('error' in step.outcome.result ? step.outcome.result.error : step.outcome.result.status)}`,
        );
    } finally {
      driver.terminate();
    }
  }
  return { coldStarts, warnings };
}

/** Native reference cells run in the CLI (a Node thread, native-bridge.ts); every other cell in a fresh Web Worker. */
function driverFor(job: CellJob, options: CellDriverOptions): CellDriver {
  const channel: CellChannel | undefined = job.cell.runtime === 'ort-node' ? nativeChannel(job) : undefined;
  return new CellDriver(job, options, channel);
}

/** Native cells need the CLI's host on this page; in a browser alone they can't run. */
function nativeUnavailable(): string | null {
  const present = typeof (globalThis as unknown as Record<string, unknown>)[NATIVE_BINDING] === 'function';
  return present ? null : 'native reference cells (ort-node:cpu) run from the CLI: latency-lab run --native';
}

function unavailable(env: Environment, cell: Plan['cells'][number]): string | null {
  const cap = env.capabilities.find((c) => c.target === `${cell.runtime}:${cell.backend}`);
  return cap && !cap.available
    ? `${cap.target} is not available in this browser: ${cap.reason ?? 'no reason given'}`
    : null;
}

/** The zoo's manifest plus the built-in calibration model. */
export async function loadManifest(modelsBaseUrl: string): Promise<Manifest> {
  const { parseManifest } = await import('../lib/manifest.ts');
  const res = await fetch(new URL('manifest.json', modelsBaseUrl));
  if (!res.ok) throw new Error(`model manifest: HTTP ${res.status} (was the zoo built? run npm run zoo)`);
  const manifest = parseManifest(await res.json());
  return { ...manifest, models: withBuiltInModels(manifest.models) };
}

/** The models folder, relative to the page, so the lab works under any sub-path of a static host. */
export function defaultModelsBaseUrl(): string {
  return new URL(`${import.meta.env.BASE_URL}models/`, location.href).href;
}
