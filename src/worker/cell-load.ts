/**
 * A cell loaded in its worker: inputs, runtime, model bytes, session and the first inference (the cold start), and
 * one pass through the pipeline with every stage boundary on the worker's own clock. The cell's other parts use
 * what it loaded: CellSampler (cell-sample.ts) times its passes, finishCell (cell-finish.ts) reads the rest and
 * builds the result; CellRun (pipeline.ts) joins the three.
 */
import { variantRefused } from './variant-errors.ts';
import { InputError, type HostTensor } from '../lib/models/inputs.ts';
import { type CellEvent, type CellJob, type Step } from '../lib/contracts/job.ts';
import { modelInputs, type ModelInfo } from '../lib/models/manifest.ts';
import type { ColdStart, PreprocessParts, Stage, StageNote } from '../lib/schema.ts';
import { BackendUnavailable, type ModelBytes, type RuntimeAdapter, type RuntimeSession } from '../runtimes/runtime.ts';
import { postprocessFor } from './postprocess.ts';
import { imagePolicyIn, Preprocessor } from './preprocess.ts';
import { measureTimerResolution } from './timer.ts';
import { checkSha, getFile, hideGpuForTest, loadAdapter, networkUse, runtimeWasm } from './cell-io.ts';
import { pictureCycle } from '../lib/models/image-input.ts';
import { errorMessage } from '../lib/errors.ts';
import type { CellRecord, Ended } from './cell-record.ts';

export type Emit = (event: CellEvent) => void;
/** Asks the page to measure memory (measureUserAgentSpecificMemory is a page API); bytes, or why not. */
export type MeasureMemory = () => Promise<{ bytes: number | null; note: string | null }>;

/** How runtimes say an operator has no kernel on a backend (ORT webgl: "cannot resolve operator 'X'"). */
const OP_MISSING =
  /cannot resolve operator|could not find an implementation|no kernel (registered|found)|kernel .* not (found|registered)|unsupported (op|operator)|operator .* is not supported/i;

export type StageTimes = Record<Stage, number | null> & { parts: PreprocessParts | null };

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

/**
 * A cell up to its first inference, and the pass every later step times. What it loaded is read by the cell's
 * other parts; only the load itself writes it.
 */
export class CellLoad {
  adapter: RuntimeAdapter | null = null;
  session: RuntimeSession | null = null;
  raw: HostTensor[] = [];
  /** The preprocess stage: real picture decode/resize for image inputs, fresh copies otherwise. */
  pre: Preprocessor | null = null;
  /** Passes so far: picks the pictures of the next pass, so consecutive passes decode different files. */
  private passes = 0;
  /** Stages the backend can't separate, and the stage each is counted in. */
  readonly folded = new Map<Stage, Stage>();
  stageNotes: StageNote[] = [];
  post: ReturnType<typeof postprocessFor> = null;
  lastOutputs: HostTensor[] = [];
  /** The inputs of the last pass (the digest of what the model was fed comes from the digested pass). */
  lastInputs: HostTensor[] = [];
  /** Kept so the engine can't drop the postprocess work as unused. */
  postSink: unknown = null;
  timerResolutionMs = 0;
  tensorsBefore: { tensors: number; bytes: number } | null = null;

  constructor(
    readonly job: CellJob,
    private readonly emit: Emit,
    private readonly record: CellRecord,
    readonly options: CellRunOptions = {},
  ) {}

  private get cold(): Partial<ColdStart> {
    return this.record.cold;
  }

  private failed(phase: Parameters<CellRecord['failed']>[0], e: unknown): Ended {
    return this.record.failed(phase, e);
  }

  private unsupported(reason: string): Ended {
    return this.record.unsupported(reason);
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
      // The runtime found, while creating the session, that the backend can't start here (ORT's WebGL or WebNN).
      if (e instanceof BackendUnavailable) return this.unsupported(e.message);
      const refused = variantRefused(cell, errorMessage(e));
      if (refused) return this.unsupported(refused);
      // A backend that lacks one of the model's operators can't run it at all: unsupported, in the runtime's words.
      if (OP_MISSING.test(errorMessage(e)))
        return this.unsupported(`${cell.runtime}:${cell.backend} can't run this model: ${errorMessage(e)}`);
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
      const refused = variantRefused(this.job.cell, errorMessage(e), true);
      return refused ? this.unsupported(refused) : this.failed('warmup', e);
    }
    this.cold.firstInferenceMs = performance.now() - t;
    return null;
  }

  /** One pass through the pipeline, every stage boundary on the worker's own clock. */
  async pass(given?: readonly HostTensor[], passIndex = this.passes++): Promise<StageTimes> {
    const session = this.session!;
    const sets = this.options.inputSets;
    const raw = given ?? (sets ? sets[passIndex % sets.length]! : this.raw);
    const a = performance.now();
    const pre = this.pre!;
    const { inputs, parts } = pre.hasImages ? await pre.run(raw, passIndex) : pre.copy(raw);
    const b = performance.now();
    // A stage that is done at once is not awaited: an await is a microtask turn that an app's own call doesn't take.
    const up = session.upload(inputs);
    const uploaded = up instanceof Promise ? await up : up;
    const c = performance.now();
    const outputs = await session.infer(uploaded);
    const d = performance.now();
    const back = session.readback(outputs);
    const host = back instanceof Promise ? await back : back;
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
   * Inputs made from pictures: passes show them in turn, and their decode costs differ (a PNG against a JPEG), so
   * per-pass times cycle with the pictures. A sample of a whole number of cycles (n / gcd(n, batch) passes: every
   * picture equally often) makes samples comparable; 1 without pictures.
   */
  pictureCycle(): number {
    if (this.options.inputSets) return this.options.inputSets.length;
    const n = this.pre?.pictures.length ?? 0;
    if (!this.pre?.hasImages) return 1;
    return pictureCycle(n, this.raw[0]?.shape[0] ?? 1);
  }

  /** `k` rounded up to whole picture cycles. */
  wholeCycles(k: number): number {
    const cycle = this.pictureCycle();
    return Math.ceil(k / cycle) * cycle;
  }

  async dispose(): Promise<void> {
    await this.session?.dispose().catch(() => undefined);
    this.session = null;
  }
}
