/**
 * One run of a plan, as the procedure it is: the cells in comparison sets (one model and batch size: the cells whose
 * numbers are put side by side), each set's cells triaged (cells that can't run end at once, with the reason), then
 * the set's invocations in rounds: round k runs invocation k of every cell that wants one (A1 B1, A2 B2, ...), so
 * the machine's wander at any moment falls on all of them and comparisons can pair invocations by round. Within a
 * round, cells run in live groups: each invocation is opened (fresh worker: cold start, warm-up), takes sample
 * blocks until its sampling is done, and is closed (finished in its worker). When the set's rounds are over, each
 * cell's invocations are merged into its result (extra cold starts after). Parity and the browser tax are checked
 * once every cell is done.
 *
 * Sequential plans run one invocation at a time; interleaved plans keep up to `plan.liveCells` loaded and rotate
 * blocks of samples across them, in an order drawn from the plan's seed each time. How many invocations and each
 * one's time: src/lib/measure/invocation-plan.ts; the sampling decisions within one: src/lib/measure/sampling.ts.
 */
import type { CellOutcome } from '../lib/contracts/job.ts';
import type { ParityData } from '../lib/report/parity.ts';
import { cellImages, type ModelInfo } from '../lib/models/manifest.ts';
import { checkParity } from '../lib/report/parity.ts';
import { workKey } from '../lib/plan/plan.ts';
import { seededShuffle } from '../lib/rng.ts';
import { comparisonGroup } from '../lib/measure/compare.ts';
import {
  abortedCell,
  failedCell,
  type Cell,
  type CellResult,
  type Environment,
  type OkCellResult,
  type Plan,
  type SamplingSettings,
} from '../lib/schema.ts';
import { applyTax } from '../lib/report/tax.ts';
import { applyAgreement } from '../lib/report/agreement.ts';
import { CellVariants } from './cell-variants.ts';
import { driverFor, repeatColdStarts, unavailableReason, type RunOptions } from './cell-start.ts';
import { CellInvocations, liveInvocation, type LiveInvocation } from './cell-invocations.ts';
import { VisibilityWatch } from './visibility.ts';
import { NO_OVERLAP, type OverlapProbe } from './overlap.ts';

export class PlanRun {
  private readonly results: (CellResult | undefined)[];
  private readonly parity = new Map<string, ParityData[]>();
  private readonly visibility = new VisibilityWatch();
  private readonly overlap: OverlapProbe;
  private readonly variants: CellVariants;
  /** Each cell's model bytes, known before it starts (set on its result when it ends ok). */
  private readonly modelBytes = new Map<string, OkCellResult['modelBytes']>();

  constructor(
    private readonly plan: Plan,
    private readonly models: readonly ModelInfo[],
    private readonly environment: Environment,
    private readonly options: RunOptions,
  ) {
    this.results = new Array(plan.cells.length);
    this.overlap = options.overlap ?? NO_OVERLAP;
    const { modelsBaseUrl, files, variantFiles, onVariantMade } = options;
    this.variants = new CellVariants(plan, modelsBaseUrl, files, variantFiles, onVariantMade);
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
      for (const set of this.comparisonSets()) await this.runSet(set);
    } finally {
      this.visibility.close();
      this.variants.close();
    }
    const cells = this.results.map((r, i) => r ?? abortedCell(this.plan.cells[i]!, 'not run'));
    const outputsOf = (id: string) => this.parity.get(id);
    const ok = checkParity(cells, outputsOf);
    applyAgreement(cells, outputsOf);
    // The browser tax, where native reference cells ran.
    if (ok.some((c) => c.cell.runtime === 'ort-node')) applyTax(ok, outputsOf);
    return cells;
  }

  /** The cells not run yet, by comparison set, sets in the order their first cell comes in the plan. */
  private comparisonSets(): { index: number; cell: Cell }[][] {
    const sets = new Map<string, { index: number; cell: Cell }[]>();
    for (const [index, cell] of this.plan.cells.entries()) {
      if (this.results[index] !== undefined) continue; // finished before a resume
      const key = comparisonGroup(cell);
      sets.set(key, [...(sets.get(key) ?? []), { index, cell }]);
    }
    return [...sets.values()];
  }

  /** A comparison set: triage, then rounds of invocations until no cell wants another, then each cell's result. */
  private async runSet(set: { index: number; cell: Cell }[]): Promise<void> {
    const cells: CellInvocations[] = [];
    for (const { index, cell } of set) {
      const model = await this.withVariant(index, cell, this.triage(index, cell));
      if (model) cells.push(new CellInvocations(index, cell, model, this.plan.sampling));
    }
    for (let round = 0; !this.options.signal?.aborted; round++) {
      const due = cells.filter((c) => c.wantsAnother());
      if (!due.length) break;
      for (const group of this.liveGroups(due, round)) await this.runGroup(group, round);
    }
    // Cells still open here were stopped by a cancel between rounds.
    for (const c of cells) await this.closeIfDone(c, true);
  }

  /**
   * A cell that takes no more invocations gets its result at once (not when its set's rounds are over), so it shows
   * as done while others run, and a browser lost later can't take it away.
   */
  private async closeIfDone(c: CellInvocations, force = false): Promise<void> {
    if (c.closed || (!force && c.wantsAnother())) return;
    c.closed = true;
    await this.close(c);
  }

  /**
   * A round's invocations in live groups, in an order drawn from the seed: one at a time when sequential, up to
   * liveCells when interleaved; with native reference cells, the cells of one work key (a browser cell and its
   * reference take turns).
   */
  private liveGroups(due: CellInvocations[], round: number): CellInvocations[][] {
    // Round 0 keeps the plan's order (already drawn from the seed); later rounds draw their own, so no cell always
    // takes its invocation first (or last) in a round.
    const order = round > 0 && due.length > 1 ? seededShuffle(due, this.plan.seed + 7919 * round) : due;
    if (this.plan.cells.some((c) => c.runtime === 'ort-node')) {
      const keys = [...new Set(order.map((c) => workKey(c.cell)))];
      return keys.map((k) => order.filter((c) => workKey(c.cell) === k));
    }
    const size = this.plan.schedule === 'interleaved' ? this.plan.liveCells : 1;
    const groups: CellInvocations[][] = [];
    for (let i = 0; i < order.length; i += size) groups.push(order.slice(i, i + size));
    return groups;
  }

  /** Opens one invocation of each cell of a group, then rounds: every live one takes a block, order drawn from the seed. */
  private async runGroup(group: CellInvocations[], round: number): Promise<void> {
    const live: LiveInvocation[] = [];
    for (const c of group) {
      if (round === 0) this.options.onCellStart?.(c.index, this.plan.cells.length, c.cell);
      const l = await this.open(c);
      if (l) live.push(l);
      else await this.closeIfDone(c);
    }
    for (let turn = 0; live.length > 0; turn++) {
      const order = live.length > 1 ? seededShuffle(live, this.plan.seed + turn + 104_729 * round) : [...live];
      for (const l of order) {
        const next = await this.sampleBlock(l);
        if (next === 'more') continue;
        live.splice(live.indexOf(l), 1);
        // A failed block has ended the invocation already (recorded, its worker gone): nothing left to finish.
        if (next === 'done') await this.finishInvocation(l);
        await this.closeIfDone(l.of);
      }
    }
  }

  /** The model a cell loads: a variant's file is made here, before any clock (can't be made: unsupported, why). */
  private async withVariant(index: number, cell: Cell, model: ModelInfo | null): Promise<ModelInfo | null> {
    if (!model) return null;
    const got = await this.variants.modelFor(model, cell);
    if ('reason' in got) {
      this.options.onCellStart?.(index, this.plan.cells.length, cell);
      const result = { cell, startedAt: new Date().toISOString(), durationMs: 0, reason: got.reason };
      this.done(index, { result: { ...result, status: 'unsupported' }, parity: [] });
      return null;
    }
    this.modelBytes.set(cell.id, await this.variants.modelBytes(got.model, cell));
    return got.model;
  }

  private done(index: number, outcome: CellOutcome): void {
    if (outcome.result.status === 'ok') outcome.result.modelBytes = this.modelBytes.get(outcome.result.cell.id) ?? null;
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
    if (this.options.signal?.aborted) return end(abortedCell(cell, 'cancelled before it started', { startedAt }));
    // Probed before the run: no worker is started for a backend this browser can't run.
    const reason = unavailableReason(this.environment, cell);
    if (reason) return end({ ...base, status: 'unsupported', reason });
    if (!model) {
      const error = `unknown model id '${cell.modelId}'; the zoo has: ${this.models.map((m) => m.id).join(', ')}`;
      return end(failedCell(cell, 'plan', error, { startedAt }));
    }
    return model;
  }

  /** The job's own copy of the person's files a cell needs (a transfer detaches the buffers it sends). */
  private filesFor = (model: ModelInfo, cell: Cell): Record<string, ArrayBuffer> | undefined => {
    const files = this.options.files ?? new Map<string, ArrayBuffer>();
    const out: Record<string, ArrayBuffer> = {};
    // A variant's file made on the page travels with the job, like a person's own files.
    const made = this.variants.bytesOf(model.formats[0]?.entry.path ?? '');
    if (made) out[model.formats[0]!.entry.path] = made.slice(0);
    // The model's files and the pictures its image inputs are made from (a person's own pictures travel the same way).
    for (const f of [...model.formats.flatMap((x) => [x.entry, ...x.weights]), ...cellImages(model, cell)]) {
      const b = files.get(f.path);
      if (b) out[f.path] = b.slice(0);
    }
    return Object.keys(out).length ? out : undefined;
  };

  /** Cold start and warm-up of one invocation, in a fresh worker; null when it ended there (recorded). */
  private async open(c: CellInvocations): Promise<LiveInvocation | null> {
    const { options } = this;
    const settings: SamplingSettings = c.nextSettings();
    const job = {
      cell: c.cell,
      model: c.model,
      sampling: settings,
      modelsBaseUrl: options.modelsBaseUrl,
      files: this.filesFor(c.model, c.cell),
      faults: options.faults,
    };
    const onEvent = (e: Parameters<NonNullable<typeof options.onCellEvent>>[1]) => options.onCellEvent?.(c.index, e);
    // Overlap counts from the load on: another measurement during the cold start or warm-up moved those numbers too.
    const overlap = this.overlap.mark();
    const driver = driverFor(job, { signal: options.signal, onEvent }, options.channelFor);
    const prepared = await driver.prepare();
    const warm = prepared.ok ? await driver.warmup() : prepared;
    if (!warm.ok) {
      driver.terminate();
      c.record(warm.outcome);
      return null;
    }
    return liveInvocation(c, driver, settings, warm.value, { visible: this.visibility.mark(), overlap });
  }

  /** One block of samples: 'more' to come, 'done' (sampling is over), or 'failed' (the invocation ended, recorded). */
  private async sampleBlock(live: LiveInvocation): Promise<'more' | 'done' | 'failed'> {
    const n = live.controller.nextBlock();
    if (n === 0) return 'done';
    const step = await live.driver.sample(n);
    if (!step.ok) {
      live.driver.terminate();
      live.of.record(step.outcome);
      return 'failed';
    }
    const { samples, blockMs } = step.value;
    live.controller.record(
      samples.map((s) => s.total),
      blockMs,
      samples[0]?.iterations ?? 1,
    );
    return 'more';
  }

  /** An invocation's sampling is over: finish it in its worker (its own result), and let its worker go. */
  private async finishInvocation(live: LiveInvocation): Promise<void> {
    const { warm, of } = live;
    const sampling = live.controller.report(warm.iterations, {
      passes: warm.passes,
      stop: warm.stop,
      passMs: warm.passMs,
    });
    const softwareGpu =
      Boolean(this.environment.gpu?.software) && (of.cell.backend === 'webgl' || of.cell.backend === 'webgpu');
    const outcome = await live.driver.finish({
      sampling,
      pageHidden: this.visibility.hiddenSince(live.marks.visible),
      overlapped: this.overlap.since(live.marks.overlap),
      softwareGpu,
    });
    live.driver.terminate();
    of.record(outcome);
  }

  /** A cell's invocations are over: its result (merged), then the extra cold starts its settings ask for. */
  private async close(c: CellInvocations): Promise<void> {
    const outcome = c.outcome();
    if (!outcome) return; // cancelled before its first invocation: 'not run'
    const extra =
      this.plan.sampling.coldStarts - (outcome.result.status === 'ok' ? outcome.result.coldStarts.length : 1);
    if (outcome.result.status === 'ok' && extra > 0) {
      const mark = this.overlap.mark();
      const repeats = await repeatColdStarts(
        { cell: c.cell, model: c.model, plan: this.plan, options: this.options },
        extra,
        this.filesFor,
      );
      outcome.result.coldStarts.push(...repeats.coldStarts);
      outcome.result.warnings.push(...repeats.warnings);
      // The extra cold starts are the cell's numbers too: what overlapped them is marked with the rest.
      const also = this.overlap.since(mark);
      const v = outcome.result.validity;
      if (also === null) delete v.overlapped;
      else if (v.overlapped) v.overlapped = [...new Set([...v.overlapped, ...also])];
    }
    this.done(c.index, outcome);
  }
}
