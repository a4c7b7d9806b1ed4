/**
 * The sampling pipeline of one cell, run inside its dedicated worker. All stage times are taken here with
 * performance.now(), in the same thread that runs the model: never across the worker boundary.
 *
 * The page drives a cell in steps, so it can rotate blocks of samples across several live cells (interleaving)
 * and decide when precision is reached:
 *   prepare (inputs -> runtime init -> fetch -> session -> first inference) -> warmup -> sample blocks -> finish.
 * Each step either succeeds or ends the cell with a result that keeps everything measured so far.
 */
import { type HostTensor } from '../lib/models/inputs.ts';
import { type CellOutcome, type FinishFacts, type Step, type WarmupDone } from '../lib/contracts/job.ts';
import { modelInputs } from '../lib/models/manifest.ts';
import { warmupDecision } from '../lib/measure/sampling.ts';
import { chooseIterations, growIterations, guardIterations, guardRule } from '../lib/measure/timer-guard.ts';
import type { ColdStart, GpuBusy, Prediction, PreprocessParts, Sample, Stage } from '../lib/schema.ts';
import { PREPROCESS_PARTS } from '../lib/schema.ts';
import { median } from '../lib/measure/stats.ts';
import { FIRST_PASSES } from '../lib/measure/warmup-curve.ts';
import { BackendMismatch, type RuntimeSession } from '../runtimes/runtime.ts';
import { CellLoad, type StageTimes } from './cell-load.ts';
import { predictionsOf } from './postprocess.ts';
import { okResult } from './cell-result.ts';
import { STAGES } from '../lib/stages.ts';

const GPU_BACKENDS = new Set(['webgl', 'webgpu']);

/** One cell's life inside its worker. The page calls the steps in order; each returns a Step. */
export class CellRun extends CellLoad {
  /**
   * One sample: `k` passes, each stage summed over them and divided by k (per-pass values). Stages the backend
   * can't separate are counted in the stage that holds them and read null.
   */
  private async timedSample(k: number): Promise<Sample> {
    const at = performance.timeOrigin + performance.now();
    const sums: Record<Stage, number> = { preprocess: 0, upload: 0, inference: 0, readback: 0, postprocess: 0 };
    const partSums: PreprocessParts | null = this.pre?.hasImages ? { decode: 0, resize: 0, normalise: 0 } : null;
    for (let i = 0; i < k; i++) {
      const times = await this.pass();
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
      postprocess: this.post ? sums.postprocess / k : null,
      parts,
    };
    for (const [stage, into] of this.folded) {
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
    const settings = this.job.sampling;
    this.emit({ type: 'phase', phase: 'warmup' });
    const passMs: number[] = [];
    const start = performance.now();
    try {
      for (;;) {
        const stop = warmupDecision(settings, passMs, performance.now() - start);
        if (stop) {
          this.cold.warmupCount = passMs.length;
          this.cold.warmupTotalMs = performance.now() - start;
          let guardPasses = 0;
          // The last few passes are the best guess of a pass now; the first inference is the fallback.
          const typical = passMs.length ? median(passMs.slice(-3)) : (this.cold.firstInferenceMs ?? null);
          const iterations = chooseIterations(settings, typical, this.timerResolutionMs);
          if (settings.mode === 'auto' && settings.iterations === null && iterations.iterations > 1) {
            // Judged as samples are: by the stages' own time over k passes (what a sample's total spans), not the
            // wall time, which also holds the loop between passes (a third of a no-op pass's time).
            const spanOf = async (k: number) => (await this.timedSample(k)).total * k;
            const guarded = await guardIterations(iterations.iterations, spanOf, this.timerResolutionMs);
            guardPasses = guarded.passes;
            iterations.iterations = guarded.k;
            iterations.why = `timer guard: a pass is under ${guardRule(this.timerResolutionMs)}, so each sample times ${guarded.k} passes in a row`;
          }
          const whole = this.wholeCycles(iterations.iterations);
          if (settings.iterations === null && whole !== iterations.iterations) {
            iterations.iterations = whole;
            iterations.why += `; ${whole} passes, a multiple of ${this.pictureCycle()}, so every sample shows each picture equally often`;
          }
          this.iterations = iterations.iterations;
          const totalMs = performance.now() - start;
          this.warm = { passes: passMs.length + guardPasses, totalMs, passMs: passMs.slice(0, FIRST_PASSES) };
          this.sampleTensorsStart = this.adapter?.tensorCount?.()?.tensors ?? null;
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
        await this.pass();
        passMs.push(performance.now() - t);
      }
    } catch (e) {
      await this.dispose();
      return this.failed('warmup', e);
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
      this.emit({ type: 'samples', from: this.samples.length - pending.length, samples: pending });
      pending = [];
      lastFlush = performance.now();
    };
    try {
      for (let i = 0; i < count; i++) {
        // Fault tests only: a GPU device lost between samples (outside any timed stage).
        if (this.job.faults?.loseDeviceAfterSamples === this.samples.length) this.session?.loseDevice?.();
        const s = await this.timedSample(this.iterations);
        this.samples.push(s);
        block.push(s);
        pending.push(s);
        if (performance.now() - lastFlush >= 100) flush();
      }
      flush();
    } catch (e) {
      flush();
      await this.dispose();
      return this.failed('sampling', e);
    }
    const blockMs = performance.now() - start;
    this.regrowIterations(block);
    return { ok: true, value: { samples: block, blockMs } };
  }

  /** Passes per sample grown during sampling, from what to what (null: never grown). */
  private grown: { from: number; to: number } | null = null;

  /**
   * The timer guard again, between blocks: k was sized on the first passes, and warm-up can make a pass 3x faster
   * after that, leaving samples of 15 ticks (3% steps). Per-pass values stay comparable across blocks.
   */
  private regrowIterations(block: readonly Sample[]): void {
    const { sampling } = this.job;
    if (sampling.mode !== 'auto' || sampling.iterations !== null || block.length === 0) return;
    const span = median(block.map((s) => s.total)) * this.iterations;
    const grown = growIterations(this.iterations, span, this.timerResolutionMs);
    if (grown === null) return;
    const next = this.wholeCycles(grown);
    this.grown = { from: this.grown?.from ?? this.iterations, to: next };
    this.iterations = next;
  }

  /**
   * Each picture through the whole pipeline once, in order (pass j shows pictures j x batch ...), outside the
   * samples: the top classes per picture, and the outputs of the first of these passes for the digest and parity,
   * so cells compare the same pictures however many passes they timed.
   */
  private async predict(): Promise<Prediction[]> {
    const pictures = this.pre!.pictures;
    const batch = this.raw[0]?.shape[0] ?? 1;
    const out: Prediction[] = [];
    let first: HostTensor[] | null = null;
    let firstInputs: HostTensor[] | null = null;
    for (let j = 0; j * batch < pictures.length; j++) {
      await this.pass(undefined, j);
      first ??= this.lastOutputs;
      firstInputs ??= this.lastInputs;
      out.push(...predictionsOf(this.lastOutputs, pictures.slice(j * batch, (j + 1) * batch), this.job.model.labels));
    }
    if (first) this.lastOutputs = first;
    if (firstInputs) this.lastInputs = firstInputs;
    return out;
  }

  /** Inputs per batch size for serving (a dynamic batcher sends any size up to its maximum). */
  private readonly servingInputs = new Map<number, HostTensor[]>();

  /**
   * Serving: one pass at batch size `batch` (inputs made once per size), timed on this worker's clock. The
   * batcher on the page decides the size; the model must accept it (a symbolic batch dim).
   */
  async serve(batch: number): Promise<{ ms: number; startedAt: number }> {
    if (!this.session) throw new Error('serve() before the session was prepared');
    const { model, cell } = this.job;
    let raw = this.servingInputs.get(batch);
    if (!raw) {
      raw = modelInputs(model, batch, cell.inputSeed, cell.inputOverrides);
      this.servingInputs.set(batch, raw);
    }
    const startedAt = performance.timeOrigin + performance.now();
    const t = performance.now();
    await this.pass(raw);
    return { ms: performance.now() - t, startedAt };
  }

  /** Memory as the worker sees it, for the monitor's flat-memory check. */
  memory(): { wasmHeapBytes: number | null; tfjsTensors: number | null } {
    return {
      wasmHeapBytes: this.adapter?.wasmHeapBytes() ?? null,
      tfjsTensors: this.adapter?.tensorCount?.()?.tensors ?? null,
    };
  }

  /** What is read once sampling is over, with the model still loaded: GPU busy time, memory, proof, predictions. */
  private async afterSampling(session: RuntimeSession) {
    const { cell, sampling } = this.job;
    let gpuBusy: GpuBusy | string | null = null;
    let uaMemory: { bytes: number | null; note: string | null } = { bytes: null, note: null };
    let predictions: Prediction[] | null = null;
    // GPU timers are read on extra passes after sampling: the queries cost time, so they never run in samples.
    if (GPU_BACKENDS.has(cell.backend) && sampling.gpuBusyPasses > 0)
      gpuBusy = await session.measureGpuBusy(this.raw, sampling.gpuBusyPasses);
    // With the model still loaded, after the timed samples (the measurement is slow and would disturb them).
    if (sampling.measureMemory)
      uaMemory = this.measureMemory ? await this.measureMemory() : { bytes: null, note: 'no page to measure memory' };
    const proof = await session.proof(this.raw);
    // After everything timed: each picture once, in order, for the per-picture answer and a deterministic digest.
    if (this.pre?.hasImages) predictions = await this.predict();
    // Given input sets: the digested outputs are those of the first set, as the browser cells' are of pass 0.
    else if (this.options.inputSets) await this.pass(undefined, 0);
    else this.lastInputs = this.raw;
    return { gpuBusy, uaMemory, proof, predictions };
  }

  /** GPU busy time and memory (outside the samples), proof, output digest, summary, validity: the result. */
  async finish(facts: FinishFacts): Promise<CellOutcome> {
    const { sampling } = this.job;
    const session = this.session;
    const adapter = this.adapter;
    if (!session || !adapter)
      return this.failed('sampling', new Error('finish() before a session was prepared')).outcome;
    if (this.samples.length === 0) {
      await this.dispose();
      return this.failed('sampling', new Error('no samples were taken')).outcome;
    }
    const sampleTensorsEnd = adapter.tensorCount?.()?.tensors ?? null;
    let readings: Awaited<ReturnType<CellRun['afterSampling']>>;
    try {
      readings = await this.afterSampling(session);
    } catch (e) {
      await this.dispose();
      return this.failed(e instanceof BackendMismatch ? 'init' : 'sampling', e).outcome;
    }
    const { gpuBusy, uaMemory, proof, predictions } = readings;
    const wasmHeapBytes = adapter.wasmHeapBytes();
    await this.dispose();
    void this.postSink;
    const memory = {
      before: this.tensorsBefore,
      after: adapter.tensorCount?.() ?? null,
      sampleStart: this.sampleTensorsStart,
      sampleEnd: sampleTensorsEnd,
      wasmHeapBytes,
      userAgent: uaMemory,
    };
    return okResult(
      {
        common: this.common(),
        cold: this.cold as ColdStart,
        samples: this.samples,
        warm: this.warm,
        minSamples: sampling.minSamples,
        iterations: this.iterations,
        grown: this.grown,
        timerResolutionMs: this.timerResolutionMs,
        memory,
        gpuBusy,
        proof,
        predictions,
        stageNotes: this.stageNotes,
        raw: this.raw,
        fed: this.lastInputs,
        outputs: this.lastOutputs,
      },
      facts,
    );
  }
}
