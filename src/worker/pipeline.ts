/**
 * The sampling pipeline of one cell, run inside its dedicated worker. All stage times are taken here with
 * performance.now(), in the same thread that runs the model: never across the worker boundary.
 *
 * The page drives a cell in steps, so it can rotate blocks of samples across several live cells (interleaving)
 * and decide when precision is reached:
 *   prepare (inputs -> runtime init -> fetch -> session -> first inference) -> warmup -> sample blocks -> finish.
 * Each step either succeeds or ends the cell with a result that keeps everything measured so far.
 */
import { InputError, type HostTensor } from '../lib/inputs.ts';
import {
  type CellEvent,
  type CellJob,
  type CellOutcome,
  type FinishFacts,
  type Step,
  type WarmupDone,
} from '../lib/job.ts';
import { modelInputs, type ModelInfo } from '../lib/manifest.ts';
import { chooseIterations, growIterations, guardRule, warmupDecision } from '../lib/sampling.ts';
import type {
  CellResult,
  ColdStart,
  FailedCellResult,
  GpuBusy,
  Prediction,
  PreprocessParts,
  Sample,
  Stage,
  StageNote,
} from '../lib/schema.ts';
import { PREPROCESS_PARTS, STAGES } from '../lib/schema.ts';
import { median, summarizeStages } from '../lib/stats.ts';
import { assessValidity } from '../lib/validity.ts';
import { FIRST_PASSES, steadyStateOf, type WarmupPasses } from '../lib/warmup-curve.ts';
import {
  BackendMismatch,
  BackendUnavailable,
  type ModelBytes,
  type RuntimeAdapter,
  type RuntimeSession,
} from '../runtimes/runtime.ts';
import { postprocessFor, scoreRows, topK } from './postprocess.ts';
import { imagePolicyIn, Preprocessor } from './preprocess.ts';
import { measureTimerResolution } from './timer.ts';
import { cellWarnings, memoryOf, preprocessPartsOf } from './cell-report.ts';
import {
  checkSha,
  digest,
  getFile,
  hideGpuForTest,
  inputDigest,
  loadAdapter,
  message,
  networkUse,
  runtimeWasm,
} from './cell-io.ts';
import { pictureCycle } from '../lib/image-input.ts';

type Emit = (event: CellEvent) => void;
/** Asks the page to measure memory (measureUserAgentSpecificMemory is a page API); bytes, or why not. */
export type MeasureMemory = () => Promise<{ bytes: number | null; note: string | null }>;

const GPU_BACKENDS = new Set(['webgl', 'webgpu']);
/** How runtimes say an operator has no kernel on a backend (ORT webgl: "cannot resolve operator 'X'"). */
const OP_MISSING =
  /cannot resolve operator|no kernel (registered|found)|kernel .* not (found|registered)|unsupported (op|operator)|operator .* is not supported/i;

type StageTimes = Record<Stage, number | null> & { parts: PreprocessParts | null };
/** A step that ended the cell: its outcome (unsupported or failed), with what was measured so far. */
type Ended = { ok: false; outcome: CellOutcome };

/** Where a cell runs outside a browser worker (the CLI's native reference), what it is given instead. */
export interface CellRunOptions {
  /** The runtime, given rather than loaded by name (native code can't be part of the worker bundle). */
  adapter?: RuntimeAdapter;
  /**
   * The inputs of consecutive passes, made by the page (pictures decoded and normalised there), cycled in order:
   * pass i feeds set i mod n. The same bytes the browser cells feed, so the two can be compared.
   */
  inputSets?: HostTensor[][];
}

/** How many top classes a prediction keeps (what a classifier app shows). */
const PREDICTION_TOP = 5;

/** One cell's life inside its worker. The page calls the steps in order; each returns a Step. */
export class CellRun {
  private readonly startedAt = new Date().toISOString();
  private readonly t0 = performance.now();
  private readonly cold: Partial<ColdStart> = {};
  private readonly samples: Sample[] = [];
  private adapter: RuntimeAdapter | null = null;
  private session: RuntimeSession | null = null;
  private raw: HostTensor[] = [];
  /** The preprocess stage: real picture decode/resize for image inputs, fresh copies otherwise. */
  private pre: Preprocessor | null = null;
  /** Passes so far: picks the pictures of the next pass, so consecutive passes decode different files. */
  private passes = 0;
  private folded = new Map<Stage, Stage>();
  private stageNotes: StageNote[] = [];
  private post: ReturnType<typeof postprocessFor> = null;
  private lastOutputs: HostTensor[] = [];
  /** The inputs of the last pass (the digest of what the model was fed comes from the digested pass). */
  private lastInputs: HostTensor[] = [];
  /** Kept so the engine can't drop the postprocess work as unused. */
  private postSink: unknown = null;
  private timerResolutionMs = 0;
  private iterations = 1;
  private tensorsBefore: { tensors: number; bytes: number } | null = null;
  private sampleTensorsStart: number | null = null;
  /** The passes before sampling (timer-guard sizing included): the start of the warm-up curve. */
  private warm: WarmupPasses = { passes: 0, totalMs: 0, passMs: [] };

  constructor(
    private readonly job: CellJob,
    private readonly emit: Emit,
    private readonly measureMemory?: MeasureMemory,
    private readonly options: CellRunOptions = {},
  ) {}

  private common() {
    return { cell: this.job.cell, startedAt: this.startedAt, durationMs: performance.now() - this.t0 };
  }

  private failed(phase: FailedCellResult['phase'], e: unknown): { ok: false; outcome: CellOutcome } {
    const result: CellResult = {
      status: 'failed',
      ...this.common(),
      phase,
      error: message(e),
      coldStart: Object.keys(this.cold).length ? this.cold : null,
      samples: this.samples,
    };
    return { ok: false, outcome: { result, parity: [] } };
  }

  private unsupported(reason: string): { ok: false; outcome: CellOutcome } {
    return { ok: false, outcome: { result: { status: 'unsupported', ...this.common(), reason }, parity: [] } };
  }

  /** Cold start up to and including the first inference. */
  async prepare(): Promise<Step<{ coldStart: Partial<ColdStart>; timerResolutionMs: number }>> {
    const { cell, model } = this.job;
    // Both clocks read as epoch ms: the page stamped the worker's creation, this is its first step.
    const workerBootMs =
      this.job.workerCreatedAt === undefined
        ? null
        : Math.max(0, performance.timeOrigin + performance.now() - this.job.workerCreatedAt);
    if (cell.format === null) {
      const has = model.formats.map((f) => f.format).join(', ');
      return this.unsupported(`model '${model.id}' has no format that ${cell.runtime} loads (it has ${has})`);
    }
    const format = model.formats.find((f) => f.format === cell.format);
    if (!format) return this.failed('fetch', new Error(`model '${model.id}' has no ${cell.format} files`));

    // Inputs first: a batch the model can't take or an override that doesn't fit is known before anything loads.
    const early = (await this.makeInputs()) ?? (await this.initRuntime());
    if (early) return early;
    const bytes = await this.fetchModel(format);
    if ('outcome' in bytes) return bytes;
    const late = (await this.openSession(bytes)) ?? (await this.firstPass());
    if (late) return late;

    const c = this.cold;
    c.runtimeWasm = runtimeWasm();
    c.workerBootMs = workerBootMs;
    c.firstResultMs =
      workerBootMs === null
        ? null
        : workerBootMs + c.runtimeInitMs! + c.fetchMs! + c.sessionCreateMs! + c.firstInferenceMs!;
    c.network = this.options.adapter ? null : networkUse();
    return { ok: true, value: { coldStart: { ...c }, timerResolutionMs: this.timerResolutionMs } };
  }

  /** The cell's input tensors, and the preprocessor that turns them (or pictures) into each pass's inputs. */
  private async makeInputs(): Promise<Ended | null> {
    const { cell, model } = this.job;
    try {
      this.raw = this.options.inputSets?.[0] ?? modelInputs(model, cell.batch, cell.inputSeed, cell.inputOverrides);
    } catch (e) {
      if (e instanceof InputError && /batch/.test(e.message)) return this.unsupported(e.message);
      return this.failed('inputs', e);
    }
    try {
      // Given input sets were made from the pictures already: they are copied per pass, not decoded again.
      this.pre = await Preprocessor.create(
        model.inputs,
        this.raw,
        (spec) => (this.options.inputSets ? null : imagePolicyIn(this.job, spec)),
        async (f) => checkSha(await getFile(this.job, f), f, `picture ${f.name} (${f.path})`),
      );
    } catch (e) {
      return this.failed('inputs', e);
    }
    this.timerResolutionMs = measureTimerResolution();
    return null;
  }

  private async initRuntime(): Promise<Ended | null> {
    const { cell } = this.job;
    this.emit({ type: 'phase', phase: 'init' });
    const t = performance.now();
    try {
      if (this.job.faults?.forceFallback) hideGpuForTest();
      this.adapter = this.options.adapter ?? (await loadAdapter(cell.runtime));
      await this.adapter.init(cell.backend, cell, this.job.faults);
    } catch (e) {
      if (e instanceof BackendUnavailable) return this.unsupported(e.message);
      return this.failed('init', e);
    }
    this.cold.runtimeInitMs = performance.now() - t;
    return null;
  }

  private async fetchModel(format: ModelInfo['formats'][number]): Promise<Ended | ModelBytes> {
    this.emit({ type: 'phase', phase: 'fetch' });
    const t = performance.now();
    try {
      // The built-in calibration model has no files.
      const files = format.format === 'calibration' ? [] : [format.entry, ...format.weights];
      const [entry, ...weights] = await Promise.all(files.map((f) => getFile(this.job, f)));
      const bytes = { format: format.format, entry: entry ?? new ArrayBuffer(0), weights };
      this.cold.fetchMs = performance.now() - t;
      this.cold.fetchedBytes = bytes.entry.byteLength + bytes.weights.reduce((a, w) => a + w.byteLength, 0);
      // Checksums are verified outside the fetch clock: corrupt files fail here with the file named.
      for (const [i, f] of files.entries()) {
        const buf = i === 0 ? bytes.entry : bytes.weights[i - 1]!;
        await checkSha(buf, f, `model file ${f.path}`);
      }
      return bytes;
    } catch (e) {
      return this.failed('fetch', e);
    }
  }

  private async openSession(bytes: ModelBytes): Promise<Ended | null> {
    const { cell, model } = this.job;
    const adapter = this.adapter!;
    this.tensorsBefore = adapter.tensorCount?.() ?? null;
    this.emit({ type: 'phase', phase: 'session' });
    const t = performance.now();
    try {
      this.session = await adapter.createSession(model, bytes, cell);
    } catch (e) {
      // A backend that lacks one of the model's operators can't run it at all: unsupported, in the runtime's words.
      if (OP_MISSING.test(message(e)))
        return this.unsupported(`${cell.runtime}:${cell.backend} can't run this model: ${message(e)}`);
      return this.failed('session', e);
    }
    this.cold.sessionCreateMs = performance.now() - t;

    for (const note of this.session.stageNotes) if (note.includedIn) this.folded.set(note.stage, note.includedIn);
    this.post = postprocessFor(model.task);
    this.stageNotes = [...this.session.stageNotes];
    if (!this.post) {
      const why = `no postprocess is defined for task '${model.task}'`;
      this.stageNotes.push({ stage: 'postprocess', includedIn: null, why });
    }
    return null;
  }

  private async firstPass(): Promise<Ended | null> {
    this.emit({ type: 'phase', phase: 'first-inference' });
    const t = performance.now();
    try {
      await this.pass();
    } catch (e) {
      await this.dispose();
      return this.failed('warmup', e);
    }
    this.cold.firstInferenceMs = performance.now() - t;
    return null;
  }

  /** One pass through the pipeline, every stage boundary on the worker's own clock. */
  private async pass(given?: readonly HostTensor[], passIndex = this.passes++): Promise<StageTimes> {
    const session = this.session!;
    const sets = this.options.inputSets;
    const raw = given ?? (sets ? sets[passIndex % sets.length]! : this.raw);
    const a = performance.now();
    const pre = this.pre!;
    const { inputs, parts } = pre.hasImages ? await pre.run(raw, passIndex) : pre.copy(raw);
    const b = performance.now();
    const uploaded = await session.upload(inputs);
    const c = performance.now();
    const outputs = await session.infer(uploaded);
    const d = performance.now();
    const host = await session.readback(outputs);
    const e = performance.now();
    if (this.post) this.postSink = this.post(host, this.job.model);
    const f = performance.now();
    session.release(uploaded, outputs);
    this.lastOutputs = host;
    this.lastInputs = inputs;
    return {
      preprocess: b - a,
      upload: c - b,
      inference: d - c,
      readback: e - d,
      postprocess: this.post ? f - e : null,
      parts,
    };
  }

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
    return { ...times, total, iterations: k, at, segment: null };
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
            // Check the guess on warm passes, growing k until k passes in a row span enough ticks.
            let k = iterations.iterations;
            for (let tries = 0; tries < 8; tries++) {
              // Judged as samples are: by the stages' own time over k passes (what a sample's total spans), not
              // the wall time, which also holds the loop between passes (a third of a no-op pass's time).
              const trial = await this.timedSample(k);
              guardPasses += k;
              const next = growIterations(k, trial.total * k, this.timerResolutionMs);
              if (next === null) break;
              k = next;
            }
            iterations.iterations = k;
            iterations.why = `timer guard: a pass is under ${guardRule(this.timerResolutionMs)}, so each sample times ${k} passes in a row`;
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

  /**
   * Inputs made from pictures: passes show them in turn, and their decode costs differ (a PNG against a JPEG), so
   * per-pass times cycle with the pictures. A sample of a whole number of cycles (n / gcd(n, batch) passes: every
   * picture equally often) makes samples comparable; 1 without pictures.
   */
  private pictureCycle(): number {
    if (this.options.inputSets) return this.options.inputSets.length;
    const n = this.pre?.pictures.length ?? 0;
    if (!this.pre?.hasImages) return 1;
    return pictureCycle(n, this.raw[0]?.shape[0] ?? 1);
  }

  /** `k` rounded up to whole picture cycles. */
  private wholeCycles(k: number): number {
    const cycle = this.pictureCycle();
    return Math.ceil(k / cycle) * cycle;
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
      // Class scores look like [batch, classes] (a classifier, zoo or own); other outputs get no per-picture answer.
      const rows =
        this.lastOutputs[0]?.shape.length === 2 && (this.lastOutputs[0].shape[1] ?? 0) >= 2
          ? scoreRows(this.lastOutputs)
          : null;
      rows?.forEach((row, item) => {
        const picture = pictures[j * batch + item];
        if (picture)
          out.push({
            image: picture.name,
            top: topK(row, PREDICTION_TOP).map((index) => ({
              index,
              label: this.job.model.labels?.[index] ?? null,
              score: row[index]!,
            })),
          });
      });
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

  private async dispose(): Promise<void> {
    await this.session?.dispose().catch(() => undefined);
    this.session = null;
  }

  /** GPU busy time and memory (outside the samples), proof, output digest, summary, validity: the result. */
  async finish(facts: FinishFacts): Promise<CellOutcome> {
    const { cell, sampling } = this.job;
    const session = this.session;
    const adapter = this.adapter;
    if (!session || !adapter)
      return this.failed('sampling', new Error('finish() before a session was prepared')).outcome;
    if (this.samples.length === 0) {
      await this.dispose();
      return this.failed('sampling', new Error('no samples were taken')).outcome;
    }
    const sampleTensorsEnd = adapter.tensorCount?.()?.tensors ?? null;
    let gpuBusy: GpuBusy | string | null = null;
    let uaMemory: { bytes: number | null; note: string | null } = { bytes: null, note: null };
    let proof;
    let predictions: Prediction[] | null = null;
    try {
      // GPU timers are read on extra passes after sampling: the queries cost time, so they never run in samples.
      if (GPU_BACKENDS.has(cell.backend) && sampling.gpuBusyPasses > 0)
        gpuBusy = await session.measureGpuBusy(this.raw, sampling.gpuBusyPasses);
      // With the model still loaded, after the timed samples (the measurement is slow and would disturb them).
      if (sampling.measureMemory)
        uaMemory = this.measureMemory ? await this.measureMemory() : { bytes: null, note: 'no page to measure memory' };
      proof = await session.proof();
      // After everything timed: each picture once, in order, for the per-picture answer and a deterministic digest.
      if (this.pre?.hasImages) predictions = await this.predict();
      // Given input sets: the digested outputs are those of the first set, as the browser cells' are of pass 0.
      else if (this.options.inputSets) await this.pass(undefined, 0);
      else this.lastInputs = this.raw;
    } catch (e) {
      await this.dispose();
      return this.failed(e instanceof BackendMismatch ? 'init' : 'sampling', e).outcome;
    }
    const wasmHeapBytes = adapter.wasmHeapBytes();
    await this.dispose();
    void this.postSink;
    const tensorsAfter = adapter.tensorCount?.() ?? null;
    // The steady state, found in this cell's own samples (the same analysis the page ran to decide when to stop).
    const { steadyState, segmentOf } = steadyStateOf(this.samples, this.warm, sampling.minSamples);
    const samples = this.samples.map((s, i) => ({ ...s, segment: segmentOf[i] ?? null }));
    const steady = samples.slice(steadyState.steadyStart);
    const { memory, perSampleLeak } = memoryOf({
      before: this.tensorsBefore,
      after: tensorsAfter,
      sampleStart: this.sampleTensorsStart,
      sampleEnd: sampleTensorsEnd,
      passes: samples.length * this.iterations,
      wasmHeapBytes,
      userAgent: uaMemory,
    });
    const { digests, parity } = digest(this.lastOutputs);
    const fedDigest = this.lastInputs.length ? await inputDigest(this.lastInputs) : null;
    const summary = summarizeStages(steady);
    const preprocessParts = preprocessPartsOf(steady);
    const validity = assessValidity(steady, summary, {
      pageHidden: facts.pageHidden,
      softwareGpu: facts.softwareGpu,
      tickMs: this.timerResolutionMs,
      iterations: steady.reduce((k, s) => Math.min(k, s.iterations), this.iterations),
    });
    const warnings = cellWarnings(memory, perSampleLeak, gpuBusy, digests, facts.sampling, steady.length);
    // Hidden page, drift, coarse stages and software GPU live in `validity` (validityFlags() words them).
    const coldStart = this.cold as ColdStart;
    const samplingReport = this.grown
      ? {
          ...facts.sampling,
          iterations: this.iterations,
          iterationsWhy: `${facts.sampling.iterationsWhy}; grown from ${this.grown.from} to ${this.grown.to} during sampling as passes got faster (each sample records its own)`,
        }
      : facts.sampling;
    const result: CellResult = {
      status: 'ok',
      ...this.common(),
      coldStart,
      coldStarts: [coldStart],
      sampling: samplingReport,
      steadyState,
      validity,
      samples,
      summary,
      preprocessParts,
      predictions: predictions?.length ? predictions : null,
      stageNotes: this.stageNotes,
      proof,
      timerResolutionMs: this.timerResolutionMs,
      inputs: this.raw.map((r) => ({ name: r.name, dtype: r.dtype, shape: r.shape })),
      outputs: digests,
      parity: null,
      inputDigest: fedDigest,
      tax: null,
      gpuBusy: typeof gpuBusy === 'string' ? null : gpuBusy,
      memory,
      warnings,
    };
    return { result, parity };
  }
}
