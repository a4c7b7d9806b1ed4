/**
 * The timed part of a cell's life: warm-up passes until the sampling settings say stop (the timer guard then sizes
 * the samples), and blocks of samples, each sample k passes of the loaded cell's pipeline (cell-load.ts).
 */
import { type Step, type WarmupDone } from '../lib/contracts/job.ts';
import { warmupDecision } from '../lib/measure/sampling.ts';
import { chooseIterations, growIterations, guardIterations, guardRule } from '../lib/measure/timer-guard.ts';
import type { PreprocessParts, Sample, Stage } from '../lib/schema.ts';
import { PREPROCESS_PARTS } from '../lib/schema.ts';
import { median } from '../lib/measure/stats.ts';
import { FIRST_PASSES, type WarmupPasses } from '../lib/measure/warmup-curve.ts';
import { STAGES } from '../lib/stages.ts';
import type { CellLoad, Emit, StageTimes } from './cell-load.ts';
import type { CellRecord } from './cell-record.ts';

/** A loaded cell's warm-up and samples; what the result needs of them is read off it at the end. */
export class CellSampler {
  /** Passes per sample (the timer guard's k). */
  iterations = 1;
  /** Passes per sample grown during sampling, from what to what (null: never grown). */
  grown: { from: number; to: number } | null = null;
  /** The passes before sampling (timer-guard sizing included): the start of the warm-up curve. */
  warm: WarmupPasses = { passes: 0, totalMs: 0, passMs: [] };
  /** The runtime's tensor count when sampling began (a leak shows as growth over the samples). */
  sampleTensorsStart: number | null = null;

  constructor(
    private readonly load: CellLoad,
    private readonly record: CellRecord,
    private readonly emit: Emit,
  ) {}

  /**
   * One sample: `k` passes, each stage summed over them and divided by k (per-pass values). Stages the backend
   * can't separate are counted in the stage that holds them and read null.
   */
  private async timedSample(k: number): Promise<Sample> {
    const at = performance.timeOrigin + performance.now();
    const sums: Record<Stage, number> = { preprocess: 0, upload: 0, inference: 0, readback: 0, postprocess: 0 };
    const partSums: PreprocessParts | null = this.load.pre?.hasImages ? { decode: 0, resize: 0, normalise: 0 } : null;
    for (let i = 0; i < k; i++) {
      const times = await this.load.pass();
      for (const stage of STAGES) sums[stage] += times[stage] ?? 0;
      if (partSums && times.parts) for (const part of PREPROCESS_PARTS) partSums[part] += times.parts[part];
    }
    const parts = partSums
      ? { decode: partSums.decode / k, resize: partSums.resize / k, normalise: partSums.normalise / k }
      : null;
    const times: StageTimes = {
      preprocess: sums.preprocess / k,
      upload: sums.upload / k,
      inference: sums.inference / k,
      readback: sums.readback / k,
      postprocess: this.load.post ? sums.postprocess / k : null,
      parts,
    };
    for (const [stage, into] of this.load.folded) {
      times[into] = (times[into] ?? 0) + (times[stage] ?? 0);
      times[stage] = null;
    }
    const total = STAGES.reduce((s, stage) => s + (times[stage] ?? 0), 0);
    return { ...times, total, iterations: k, at, segment: null, invocation: 0 };
  }

  /**
   * Passes before sampling until the sampling settings say stop; then the timer guard sizes the samples. Where
   * warm-up really ends is not decided here: the page finds it in the samples (changepoint analysis).
   */
  async warmup(): Promise<Step<WarmupDone>> {
    const settings = this.load.job.sampling;
    this.emit({ type: 'phase', phase: 'warmup' });
    const passMs: number[] = [];
    const start = performance.now();
    try {
      for (;;) {
        const stop = warmupDecision(settings, passMs, performance.now() - start);
        if (stop) {
          this.record.cold.warmupCount = passMs.length;
          this.record.cold.warmupTotalMs = performance.now() - start;
          let guardPasses = 0;
          // The last few passes are the best guess of a pass now; the first inference is the fallback.
          const typical = passMs.length ? median(passMs.slice(-3)) : (this.record.cold.firstInferenceMs ?? null);
          const iterations = chooseIterations(settings, typical, this.load.timerResolutionMs);
          if (settings.mode === 'auto' && settings.iterations === null && iterations.iterations > 1) {
            // Judged as samples are: by the stages' own time over k passes (what a sample's total spans), not the
            // wall time, which also holds the loop between passes (a third of a no-op pass's time).
            const spanOf = async (k: number) => (await this.timedSample(k)).total * k;
            const guarded = await guardIterations(iterations.iterations, spanOf, this.load.timerResolutionMs);
            guardPasses = guarded.passes;
            iterations.iterations = guarded.k;
            iterations.why = `timer guard: a pass is under ${guardRule(this.load.timerResolutionMs)}, so each sample times ${guarded.k} passes in a row`;
          }
          const whole = this.load.wholeCycles(iterations.iterations);
          if (settings.iterations === null && whole !== iterations.iterations) {
            iterations.iterations = whole;
            iterations.why += `; ${whole} passes, a multiple of ${this.load.pictureCycle()}, so every sample shows each picture equally often`;
          }
          this.iterations = iterations.iterations;
          const totalMs = performance.now() - start;
          this.warm = { passes: passMs.length + guardPasses, totalMs, passMs: passMs.slice(0, FIRST_PASSES) };
          this.sampleTensorsStart = this.load.adapter?.tensorCount?.()?.tensors ?? null;
          this.emit({ type: 'phase', phase: 'sampling' });
          return {
            ok: true,
            value: {
              passes: passMs.length,
              ownPasses: this.warm.passes,
              passMs: passMs.slice(-1000),
              stop,
              totalMs,
              iterations,
            },
          };
        }
        const t = performance.now();
        await this.load.pass();
        passMs.push(performance.now() - t);
      }
    } catch (e) {
      await this.load.dispose();
      return this.record.failed('warmup', e);
    }
  }

  /** A block of `count` samples; `blockMs` is its wall time on the worker's clock. */
  async sample(count: number): Promise<Step<{ samples: Sample[]; blockMs: number }>> {
    const block: Sample[] = [];
    const start = performance.now();
    let pending: Sample[] = [];
    let lastFlush = start;
    // Fire-and-forget, batched: the worker never waits on the page, and wakes it at most every 100 ms.
    const flush = () => {
      if (!pending.length) return;
      this.emit({ type: 'samples', from: this.record.samples.length - pending.length, samples: pending });
      pending = [];
      lastFlush = performance.now();
    };
    try {
      for (let i = 0; i < count; i++) {
        // Fault tests only: a GPU device lost between samples (outside any timed stage).
        if (this.load.job.faults?.loseDeviceAfterSamples === this.record.samples.length)
          this.load.session?.loseDevice?.();
        const s = await this.timedSample(this.iterations);
        this.record.samples.push(s);
        block.push(s);
        pending.push(s);
        if (performance.now() - lastFlush >= 100) flush();
      }
      flush();
    } catch (e) {
      flush();
      await this.load.dispose();
      return this.record.failed('sampling', e);
    }
    const blockMs = performance.now() - start;
    this.regrowIterations(block);
    return { ok: true, value: { samples: block, blockMs } };
  }

  /**
   * The timer guard again, between blocks: k was sized on the first passes, and warm-up can make a pass 3x faster
   * after that, leaving samples of 15 ticks (3% steps). Per-pass values stay comparable across blocks.
   */
  private regrowIterations(block: readonly Sample[]): void {
    const { sampling } = this.load.job;
    if (sampling.mode !== 'auto' || sampling.iterations !== null || block.length === 0) return;
    const span = median(block.map((s) => s.total)) * this.iterations;
    const grown = growIterations(this.iterations, span, this.load.timerResolutionMs);
    if (grown === null) return;
    const next = this.load.wholeCycles(grown);
    this.grown = { from: this.grown?.from ?? this.iterations, to: next };
    this.iterations = next;
  }
}
