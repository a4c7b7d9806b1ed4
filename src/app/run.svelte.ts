/**
 * The run on screen: one in progress (with its progress and live totals), or a stored one shown again. Each finished
 * cell is saved to IndexedDB as it completes, so a reload mid-run loses nothing and can resume the rest.
 */
import { errorMessage } from '../lib/errors.ts';
import { cellImages, type Manifest, type ModelInfo } from '../lib/models/manifest.ts';
import { okCells, type CellResult, type Environment, type Plan, type RunResult } from '../lib/schema.ts';
import { collectEnvironment } from './environment.ts';
import { oneMeasurementAtATime } from './measure-lock.ts';
import type { OverlapProbe } from './overlap.ts';
import { ProgressTracker, type LiveTotals, type Progress } from './run-progress.ts';
import { runPlan } from './runner.ts';
import { runStore, type StoredRun } from './store.ts';

/** What a run reads from the page around it. */
export interface RunContext {
  manifest(): Manifest | null;
  environment(): Environment | null;
  modelsBaseUrl: string;
  /** Called when a run ends, whatever its end (the history lists it). */
  ended(): Promise<void>;
}

/** A new run, as the setup asks for it. */
export interface RunRequest {
  plan: Plan;
  /** The setup's link and resolved value policies, stored so a reload shows (and can restore) what ran. */
  setupLink: string;
  setupValues: StoredRun['setupValues'];
  ownModels: ModelInfo[];
  /** The person's files the cells need (own model files, own pictures), by path. */
  files: Map<string, ArrayBuffer>;
}

export class RunState {
  running = $state(false);
  progress = $state<Progress | null>(null);
  /** Totals of the cell that is sampling, for the live chart (updated a few times a second, not per sample). */
  live = $state.raw<LiveTotals>({ id: '', totals: [] });
  cells = $state.raw<CellResult[]>([]);
  result = $state.raw<RunResult | null>(null);
  error = $state<string | null>(null);
  /** Set while the run waits for another tab's measurement to end (one measurement at a time: measure-lock.ts). */
  waiting = $state<string | null>(null);
  /** The stored run on screen, and whether it stopped before its end (a reload mid-run): it can resume. */
  current = $state.raw<StoredRun | null>(null);
  /**
   * The variant files this run made on the page (bytes by variantKey): the verdict offers the picked one as a
   * download. Not stored: a run shown again from history has none (run it again to make them).
   */
  variantBytes = $state.raw<ReadonlyMap<string, ArrayBuffer>>(new Map());

  okCells = $derived(okCells(this.cells));
  resumable = $derived(Boolean(this.current && this.current.status === 'running' && !this.running));

  private abort: AbortController | null = null;

  constructor(private readonly context: RunContext) {}

  async start(request: RunRequest): Promise<void> {
    if (this.running) return;
    this.error = null;
    const stored: StoredRun = {
      setupLink: request.setupLink,
      setupValues: request.setupValues,
      id: `run-${Date.now().toString(36)}`,
      createdAt: new Date().toISOString(),
      status: 'running',
      plan: request.plan,
      environment: this.context.environment() ?? (await collectEnvironment()),
      ownModels: request.ownModels,
      cells: [],
      parity: {},
      result: null,
    };
    await this.execute(stored, request.files, true);
  }

  /** Runs the cells a reload interrupted, keeping those that finished. */
  async resume(): Promise<void> {
    const stored = this.current;
    if (!stored || this.running) return;
    this.error = null;
    const files = await this.storedFiles(stored);
    if (files) await this.execute({ ...stored, status: 'running' }, files);
  }

  cancel(): void {
    this.abort?.abort();
  }

  /** Shows a stored run (its cells so far, and its result when it finished). */
  show(run: StoredRun): void {
    if (run.id !== this.current?.id) this.variantBytes = new Map();
    this.current = run;
    this.result = run.result;
    this.cells = run.result?.cells ?? run.cells;
  }

  clear(): void {
    this.variantBytes = new Map();
    this.current = null;
    this.result = null;
    this.cells = [];
  }

  /** The person's files a stored run needs, read back from IndexedDB; null (with the reason shown) when one is gone. */
  private async storedFiles(stored: StoredRun): Promise<Map<string, ArrayBuffer> | null> {
    const files = new Map<string, ArrayBuffer>();
    for (const m of stored.ownModels) {
      for (const f of m.formats.flatMap((x) => [x.entry, ...x.weights])) {
        const bytes = await runStore.getFile(f.sha256);
        if (!bytes) {
          this.error = `can't resume: the file ${f.path} of your model '${m.id}' is no longer stored; add the model again and start a new run`;
          return null;
        }
        files.set(f.path, bytes);
      }
    }
    for (const cell of stored.plan.cells) {
      const model = this.modelsFor(stored).find((m) => m.id === cell.modelId);
      for (const f of model ? cellImages(model, cell) : []) {
        if (!f.path.startsWith('own-images/') || files.has(f.path)) continue;
        const bytes = await runStore.getFile(f.sha256);
        if (!bytes) {
          this.error = `can't resume: your picture ${f.name} is no longer stored; pick it again and start a new run`;
          return null;
        }
        files.set(f.path, bytes);
      }
    }
    return files;
  }

  /** Runs (or resumes) a stored run, saving each finished cell as it completes. */
  /** `fresh`: a new run (not a resume), which leaves no History entry if it is cancelled before it measures. */
  private async execute(stored: StoredRun, files: Map<string, ArrayBuffer>, fresh = false): Promise<void> {
    this.running = true;
    this.current = stored;
    this.cells = stored.cells;
    this.result = null;
    this.variantBytes = new Map();
    const abort = (this.abort = new AbortController());
    const tracker = new ProgressTracker(stored.plan, stored.cells, (progress, live) => {
      this.progress = progress;
      this.live = live;
    });
    const saver = new RunSaver((e) => (this.error = `could not save to IndexedDB: ${errorMessage(e)}`));
    saver.save(stored);
    let forgotten = false;
    try {
      const result = await oneMeasurementAtATime(
        'a run',
        (overlap) => ((this.waiting = null), this.measure(stored, files, tracker, saver, abort.signal, overlap)),
        () =>
          (this.waiting = 'Waiting for the measurement in another tab of the lab to end: one measurement at a time.'),
        abort.signal,
      );
      stored.status = abort.signal.aborted ? 'cancelled' : 'done';
      stored.result = result;
      stored.cells = result.cells;
      this.result = result;
      this.cells = result.cells;
      saver.save(stored);
    } catch (e) {
      // Cancelled while waiting for another tab's measurement: nothing measured, nothing wrong.
      if (abort.signal.aborted) stored.status = 'cancelled';
      else this.error = errorMessage(e);
      // A new run that measured nothing (cancelled while it waited) is not history: it leaves no entry behind.
      forgotten = fresh && abort.signal.aborted && stored.cells.length === 0;
      if (forgotten) saver.forget(stored.id);
    } finally {
      tracker.stop();
      await saver.saved();
      this.waiting = null;
      this.running = false;
      this.progress = null;
      this.abort = null;
      this.current = forgotten ? null : { ...stored };
      await this.context.ended();
    }
  }

  /** The run's cells, each saved as it ends (called holding the measurement lock). */
  private measure(
    stored: StoredRun,
    files: Map<string, ArrayBuffer>,
    tracker: ProgressTracker,
    saver: RunSaver,
    signal: AbortSignal,
    overlap: OverlapProbe,
  ): Promise<RunResult> {
    return runPlan(
      stored.plan,
      { manifestVersion: 1, models: this.modelsFor(stored), images: this.context.manifest()?.images ?? [] },
      {
        modelsBaseUrl: this.context.modelsBaseUrl,
        source: 'page',
        signal,
        overlap,
        environment: stored.environment,
        files,
        prior: { cells: stored.cells, parity: stored.parity },
        onCellStart: (i) => tracker.cellStarted(i),
        onCellEvent: (i, e) => tracker.cellEvent(i, e),
        onVariantMade: (key, bytes) => (this.variantBytes = new Map([...this.variantBytes, [key, bytes]])),
        onCellDone: (i, r, parity) => {
          stored.cells = [...stored.cells.filter((c) => c.cell.id !== r.cell.id), r];
          if (r.status === 'ok') stored.parity[r.cell.id] = parity;
          this.cells = stored.cells;
          tracker.cellDone(i, r, stored.cells.length);
          saver.save(stored);
        },
      },
    );
  }

  /** The zoo's models and the run's own ones (a run's own model wins over a zoo model of the same id). */
  private modelsFor(stored: StoredRun): ModelInfo[] {
    const zoo = this.context.manifest()?.models ?? [];
    return [...zoo.filter((m) => !stored.ownModels.some((o) => o.id === m.id)), ...stored.ownModels];
  }
}

/** Saves snapshots of a run one after another (never two writes of one record at once). */
class RunSaver {
  private chain = Promise.resolve();
  constructor(private readonly failed: (e: unknown) => void) {}

  save(stored: StoredRun): void {
    const snapshot = { ...stored, cells: [...stored.cells], parity: { ...stored.parity } };
    this.chain = this.chain.then(() => runStore.put(snapshot)).catch(this.failed);
  }

  /** Removes the run from the store, after any save still on its way. */
  forget(id: string): void {
    this.chain = this.chain.then(() => runStore.delete(id)).catch(this.failed);
  }

  saved(): Promise<void> {
    return this.chain;
  }
}
