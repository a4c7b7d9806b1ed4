/**
 * The sampling pipeline of one cell, run inside its dedicated worker. All stage times are taken here with
 * performance.now(), in the same thread that runs the model: never across the worker boundary.
 *
 * The page drives a cell in steps, so it can rotate blocks of samples across several live cells (interleaving)
 * and decide when precision is reached:
 *   prepare (inputs -> runtime init -> fetch -> session -> first inference) -> warmup -> sample blocks -> finish.
 * Each step either succeeds or ends the cell with a result that keeps everything measured so far.
 *
 * A cell's life is three parts, each named for what it does, joined here: CellLoad (cell-load.ts: the cold start
 * and the pass), CellSampler (cell-sample.ts: warm-up and samples) and finishCell (cell-finish.ts: the readings
 * after sampling and the result); CellRecord (cell-record.ts) holds what they measured, for the result or a failure.
 */
import type { CellJob, CellOutcome, FinishFacts, Step, WarmupDone } from '../lib/contracts/job.ts';
import { type HostTensor } from '../lib/models/inputs.ts';
import { modelInputs } from '../lib/models/manifest.ts';
import { randomSettingHint } from '../lib/models/input-hints.ts';
import type { ColdStart, Sample } from '../lib/schema.ts';
import { CellLoad, type CellRunOptions, type Emit, type MeasureMemory } from './cell-load.ts';
import { CellRecord } from './cell-record.ts';
import { CellSampler } from './cell-sample.ts';
import { finishCell } from './cell-finish.ts';

/** One cell's life inside its worker. The page calls the steps in order; each returns a Step. */
export class CellRun {
  private readonly record: CellRecord;
  private readonly load: CellLoad;
  private readonly sampler: CellSampler;

  constructor(
    job: CellJob,
    emit: Emit,
    private readonly measureMemory?: MeasureMemory,
    options: CellRunOptions = {},
  ) {
    this.record = new CellRecord(job.cell, () => randomSettingHint(job));
    this.load = new CellLoad(job, emit, this.record, options);
    this.sampler = new CellSampler(this.load, this.record, emit);
  }

  /** Cold start up to and including the first inference. */
  prepare(): Promise<Step<{ coldStart: Partial<ColdStart>; timerResolutionMs: number }>> {
    return this.load.prepare();
  }

  /** Passes before sampling until the sampling settings say stop; the timer guard then sizes the samples. */
  warmup(): Promise<Step<WarmupDone>> {
    return this.sampler.warmup();
  }

  /** A block of `count` samples; `blockMs` is its wall time on the worker's clock. */
  sample(count: number): Promise<Step<{ samples: Sample[]; blockMs: number }>> {
    return this.sampler.sample(count);
  }

  /** GPU busy time and memory (outside the samples), proof, output digest, summary, validity: the result. */
  finish(facts: FinishFacts): Promise<CellOutcome> {
    const { record, load, sampler, measureMemory } = this;
    return finishCell({ record, load, sampler, measureMemory }, facts);
  }

  /** Inputs per batch size for serving (a dynamic batcher sends any size up to its maximum). */
  private readonly servingInputs = new Map<number, HostTensor[]>();

  /**
   * Serving: one pass at batch size `batch` (inputs made once per size), timed on this worker's clock. The
   * batcher on the page decides the size; the model must accept it (a symbolic batch dim).
   */
  async serve(batch: number): Promise<{ ms: number; startedAt: number }> {
    if (!this.load.session) throw new Error('serve() before the session was prepared');
    const { model, cell } = this.load.job;
    let raw = this.servingInputs.get(batch);
    if (!raw) {
      raw = modelInputs(model, batch, cell.inputSeed, cell.inputOverrides);
      this.servingInputs.set(batch, raw);
    }
    const startedAt = performance.timeOrigin + performance.now();
    const t = performance.now();
    await this.load.pass(raw);
    return { ms: performance.now() - t, startedAt };
  }

  /** Memory as the worker sees it, for the monitor's flat-memory check. */
  memory(): { wasmHeapBytes: number | null; tfjsTensors: number | null } {
    return {
      wasmHeapBytes: this.load.adapter?.wasmHeapBytes() ?? null,
      tfjsTensors: this.load.adapter?.tensorCount?.()?.tensors ?? null,
    };
  }
}
