/**
 * One run of a plan, as the procedure it is: triage each cell (cells that can't run end at once, with the reason),
 * gather the runnable ones into live groups, and in each group open every cell (cold start, warm-up), then take
 * rounds of sample blocks until each cell's sampling is done, and close it (finish in its worker, extra cold starts).
 * Parity and the browser tax are checked once every cell is done.
 *
 * Each cell gets a fresh worker. Sequential plans run one cell at a time; interleaved plans keep up to
 * `plan.liveCells` cells loaded and rotate blocks of samples across them, in an order drawn from the plan's seed
 * each round, so slow drift spreads over every cell instead of landing on whichever ran last. The sampling
 * decisions (warm-up, timer guard, when precision is reached) are src/lib/sampling.ts.
 */
import type { CellOutcome, ParityData, WarmupDone } from '../lib/job.ts';
import { cellImages, type ModelInfo } from '../lib/manifest.ts';
import { checkParity } from '../lib/parity.ts';
import { workKey } from '../lib/plan.ts';
import { seededShuffle } from '../lib/rng.ts';
import { SamplingController } from '../lib/sampling.ts';
import type { Cell, CellResult, Environment, Plan } from '../lib/schema.ts';
import { applyTax } from '../lib/tax.ts';
import { driverFor, repeatColdStarts, unavailableReason, type RunOptions } from './cell-start.ts';
import { VisibilityWatch } from './visibility.ts';
import type { CellDriver } from './worker-bridge.ts';

/** A cell that is loaded and warm, taking sample blocks. */
interface LiveCell {
  index: number;
  cell: Cell;
  driver: CellDriver;
  controller: SamplingController;
  warm: WarmupDone;
  visibleMark: number;
}

/** A cell that can run, with its model. */
interface Runnable {
  index: number;
  cell: Cell;
  model: ModelInfo;
}

export class PlanRun {
  private readonly results: (CellResult | undefined)[];
  private readonly parity = new Map<string, ParityData[]>();
  private readonly visibility = new VisibilityWatch();

  constructor(
    private readonly plan: Plan,
    private readonly models: readonly ModelInfo[],
    private readonly environment: Environment,
    private readonly options: RunOptions,
  ) {
    this.results = new Array(plan.cells.length);
    // Cells finished before a resume are kept as they are, and take part in parity.
    for (const [index, cell] of plan.cells.entries()) {
      const before = options.prior?.cells.find((c) => c.cell.id === cell.id);
      if (!before) continue;
      this.results[index] = before;
      const p = options.prior?.parity[cell.id];
      if (p) this.parity.set(cell.id, p);
    }
  }

  /** Runs every cell not run yet; the cells in plan order (a cell never reached is 'aborted', 'not run'). */
  async run(): Promise<CellResult[]> {
    try {
      for (const group of this.groups()) await this.runGroup(group);
    } finally {
      this.visibility.close();
    }
    const cells = this.results.map(
      (r, i) =>
        r ?? {
          status: 'aborted' as const,
          cell: this.plan.cells[i]!,
          startedAt: new Date().toISOString(),
          durationMs: 0,
          reason: 'not run',
          samples: [],
        },
    );
    const outputsOf = (id: string) => this.parity.get(id);
    const ok = checkParity(cells, outputsOf);
    // The browser tax, where native reference cells ran.
    if (ok.some((c) => c.cell.runtime === 'ort-node')) applyTax(ok, outputsOf);
    return cells;
  }

  /**
   * The runnable cells in live groups, triaged as they are reached (a group runs before later cells are looked at).
   * A group is one cell when sequential, up to liveCells when interleaved; with native reference cells, it is the
   * cells of one work key (a browser cell and its reference take turns).
   */
  private *groups(): Generator<Runnable[]> {
    const size = this.plan.schedule === 'interleaved' ? this.plan.liveCells : 1;
    const byWork = this.plan.cells.some((c) => c.runtime === 'ort-node');
    let group: Runnable[] = [];
    for (const [index, cell] of this.plan.cells.entries()) {
      if (this.results[index] !== undefined) continue; // finished before a resume
      const model = this.triage(index, cell);
      if (!model) continue;
      if (byWork && group.length && workKey(group[0]!.cell) !== workKey(cell)) {
        yield group;
        group = [];
      }
      group.push({ index, cell, model });
      if (group.length >= size) {
        yield group;
        group = [];
      }
    }
    if (group.length) yield group;
  }

  /** Opens each cell of a group, then rounds: every live cell takes one block, in an order drawn from the seed. */
  private async runGroup(group: Runnable[]): Promise<void> {
    const live: LiveCell[] = [];
    for (const { index, cell, model } of group) {
      this.options.onCellStart?.(index, this.plan.cells.length, cell);
      const l = await this.open(index, cell, model);
      if (l) live.push(l);
    }
    for (let round = 0; live.length > 0; round++) {
      const order = live.length > 1 ? seededShuffle(live, this.plan.seed + round) : [...live];
      for (const l of order) {
        if (await this.sampleBlock(l)) continue;
        live.splice(live.indexOf(l), 1);
        if (this.results[l.index] === undefined) await this.close(l);
      }
    }
  }

  private done(index: number, outcome: CellOutcome): void {
    this.results[index] = outcome.result;
    if (outcome.result.status === 'ok') this.parity.set(outcome.result.cell.id, outcome.parity);
    this.options.onCellDone?.(index, outcome.result, outcome.parity);
  }

  /** Cells that can't run end here, without a worker (their result recorded); the others' model. */
  private triage(index: number, cell: Cell): ModelInfo | null {
    const startedAt = new Date().toISOString();
    const model = this.models.find((m) => m.id === cell.modelId);
    const end = (result: CellResult) => {
      this.options.onCellStart?.(index, this.plan.cells.length, cell);
      this.done(index, { result, parity: [] });
      return null;
    };
    const base = { cell, startedAt, durationMs: 0 };
    if (this.options.signal?.aborted)
      return end({ ...base, status: 'aborted', reason: 'cancelled before it started', samples: [] });
    // Probed before the run: no worker is started for a backend this browser can't run.
    const reason = unavailableReason(this.environment, cell);
    if (reason) return end({ ...base, status: 'unsupported', reason });
    if (!model) {
      const error = `unknown model id '${cell.modelId}'; the zoo has: ${this.models.map((m) => m.id).join(', ')}`;
      return end({ ...base, status: 'failed', phase: 'plan', error, coldStart: null, samples: [] });
    }
    return model;
  }

  /** The job's own copy of the person's files a cell needs (a transfer detaches the buffers it sends). */
  private filesFor = (model: ModelInfo, cell: Cell): Record<string, ArrayBuffer> | undefined => {
    const files = this.options.files;
    if (!files) return undefined;
    const out: Record<string, ArrayBuffer> = {};
    // The model's files and the pictures its image inputs are made from (a person's own pictures travel the same way).
    for (const f of [...model.formats.flatMap((x) => [x.entry, ...x.weights]), ...cellImages(model, cell)]) {
      const b = files.get(f.path);
      if (b) out[f.path] = b.slice(0);
    }
    return Object.keys(out).length ? out : undefined;
  };

  /** Cold start and warm-up of one cell; null when the cell ended there (its result is recorded). */
  private async open(index: number, cell: Cell, model: ModelInfo): Promise<LiveCell | null> {
    const { plan, options } = this;
    const job = {
      cell,
      model,
      sampling: plan.sampling,
      modelsBaseUrl: options.modelsBaseUrl,
      files: this.filesFor(model, cell),
      faults: options.faults,
    };
    const driver = driverFor(job, { signal: options.signal, onEvent: (e) => options.onCellEvent?.(index, e) });
    const prepared = await driver.prepare();
    const warm = prepared.ok ? await driver.warmup() : prepared;
    if (!warm.ok) {
      driver.terminate();
      this.done(index, warm.outcome);
      return null;
    }
    const { ownPasses: passes, totalMs } = warm.value;
    return {
      index,
      cell,
      driver,
      controller: new SamplingController(plan.sampling, { passes, totalMs }),
      warm: warm.value,
      visibleMark: this.visibility.mark(),
    };
  }

  /** One block of samples; false when the cell's sampling is over (or it failed, its result recorded). */
  private async sampleBlock(live: LiveCell): Promise<boolean> {
    const n = live.controller.nextBlock();
    if (n === 0) return false;
    const step = await live.driver.sample(n);
    if (!step.ok) {
      live.driver.terminate();
      this.done(live.index, step.outcome);
      return false;
    }
    const { samples, blockMs } = step.value;
    live.controller.record(
      samples.map((s) => s.total),
      blockMs,
      samples[0]?.iterations ?? 1,
    );
    return true;
  }

  /** Sampling is over for this cell: finish it in its worker, then measure the extra cold starts. */
  private async close(live: LiveCell): Promise<void> {
    const { warm, cell } = live;
    const sampling = live.controller.report(warm.iterations, {
      passes: warm.passes,
      stop: warm.stop,
      passMs: warm.passMs,
    });
    const softwareGpu =
      Boolean(this.environment.gpu?.software) && (cell.backend === 'webgl' || cell.backend === 'webgpu');
    const outcome = await live.driver.finish({
      sampling,
      pageHidden: this.visibility.hiddenSince(live.visibleMark),
      softwareGpu,
    });
    live.driver.terminate();
    const extra = this.plan.sampling.coldStarts - 1;
    if (outcome.result.status === 'ok' && extra > 0) {
      const model = this.models.find((m) => m.id === cell.modelId)!;
      const repeats = await repeatColdStarts(
        { cell, model, plan: this.plan, options: this.options },
        extra,
        this.filesFor,
      );
      outcome.result.coldStarts.push(...repeats.coldStarts);
      outcome.result.warnings.push(...repeats.warnings);
    }
    this.done(live.index, outcome);
  }
}
