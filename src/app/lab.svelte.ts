/**
 * The page's state: the setup (zoo or own model, inputs, matrix, sampling, budget), the run in progress, the
 * results and history (IndexedDB); imported result files are their own state (imports.svelte.ts). Components read
 * from it.
 */
import { parseCountList } from '../lib/parse.ts';
import { budgetVerdict, formatBudget, parseBudget, type BudgetRule } from '../lib/budget.ts';
import type { ParityData } from '../lib/job.ts';
import { bundledImages, cellImages, type Manifest, type ModelInfo } from '../lib/manifest.ts';
import { sha256Hex } from '../lib/sha256.ts';
import {
  allTargets,
  buildPlan,
  DEFAULT_SAMPLING,
  freshSeed,
  pickFormat,
  RUNTIME_FORMATS,
  sweepableDims,
} from '../lib/plan.ts';
import {
  okCells,
  type CellResult,
  type Environment,
  type ImageFile,
  type ImagePolicy,
  type InputOverride,
  type RuntimeId,
  type OkCellResult,
  type RunResult,
  type ValuePolicy,
} from '../lib/schema.ts';
import { decodeSetup, encodeSetup, SHARE_PREFIX, type Setup } from '../lib/setup-url.ts';
import { collectEnvironment } from './environment.ts';
import { loadOwnModel, type OwnModel } from './own-model.ts';
import { defaultModelsBaseUrl, loadManifest, runPlan } from './runner.ts';
import { runStore, type StoredRun } from './store.ts';
import { ImportState } from './imports.svelte.ts';

export { allTargets } from '../lib/plan.ts';

export interface CellProgress {
  id: string;
  phase: string;
  samples: number;
  max: number;
  status: CellResult['status'] | 'waiting' | 'running';
  /** performance.now() when the cell started in this session, and how long it took once done (for the ETA). */
  startedAt: number | null;
  ms: number | null;
}

export interface Progress {
  cellCount: number;
  cellsDone: number;
  startedAt: number;
  cells: CellProgress[];
  /** Index of the cell that reported last (interleaved runs have several live cells). */
  current: number;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** An own model with its files read back from IndexedDB, or null when any file is no longer stored. */
async function loadStoredModel(info: ModelInfo): Promise<OwnModel | null> {
  const files = new Map<string, ArrayBuffer>();
  for (const f of info.formats.flatMap((x) => [x.entry, ...x.weights])) {
    const bytes = await runStore.getFile(f.sha256).catch(() => null);
    if (!bytes) return null;
    files.set(f.path, bytes);
  }
  return { info, files };
}

/** Each field of a Setup (the link, the stored run) and the LabState property that holds it on screen. */
const SETUP_FIELDS = {
  model: 'modelId',
  targets: 'targets',
  batch: 'batchText',
  threads: 'threadsText',
  ortBuilds: 'ortBuilds',
  mode: 'mode',
  targetPct: 'targetPct',
  minSamples: 'minSamples',
  maxSamples: 'maxSamples',
  maxSamplingS: 'maxSamplingS',
  samples: 'samples',
  warmup: 'warmup',
  coldStarts: 'coldStarts',
  interleave: 'interleave',
  seed: 'seedText',
  budget: 'budgetText',
  dims: 'dims',
  values: 'values',
} as const satisfies Record<keyof Setup, keyof LabState>;

export class LabState {
  manifest = $state.raw<Manifest | null>(null);
  environment = $state.raw<Environment | null>(null);
  loadError = $state<string | null>(null);
  /** Messages about the link's setup (unknown keys, bad values); the rest of the link applied. */
  linkErrors = $state<string[]>([]);

  // ---- setup
  modelId = $state('tiny-cnn');
  ownModels = $state.raw<OwnModel[]>([]);
  ownError = $state<string | null>(null);
  targets = $state<string[]>(['ort:wasm', 'tfjs:cpu', 'tfjs:wasm']);
  batchText = $state('1');
  threadsText = $state('1');
  /** ORT builds per ORT target: 'recommended' (per backend) and/or build names. */
  ortBuilds = $state<string[]>(['recommended']);
  /** tfjs wasm: cores reported to tfjs (empty: the device's own). */
  tfjsCores = $state<number | null>(null);
  mode = $state<'auto' | 'fixed'>(DEFAULT_SAMPLING.mode);
  /** Auto mode's target, in percent of the median (the schema stores a fraction). */
  targetPct = $state(DEFAULT_SAMPLING.targetCI * 100);
  minSamples = $state(DEFAULT_SAMPLING.minSamples);
  maxSamples = $state(DEFAULT_SAMPLING.maxSamples);
  maxSamplingS = $state(DEFAULT_SAMPLING.maxSamplingMs / 1000);
  samples = $state(DEFAULT_SAMPLING.samples);
  warmup = $state(DEFAULT_SAMPLING.warmup);
  coldStarts = $state(DEFAULT_SAMPLING.coldStarts);
  interleave = $state(false);
  /** Empty: a fresh seed each run (recorded in the result, so the run can be replayed). */
  seedText = $state('');
  /** e.g. "p95 <= 16ms": shown as pass/fail wherever results appear. */
  budgetText = $state('');
  /** Values for the selected model's symbolic dims (other than the batch dim), by dim name; several sweep the dim. */
  dims = $state<Record<string, number[]>>({});
  /** Bytes of the person's own pictures, by the path their image policies name (`own-images/<sha>/<name>`). */
  ownImageBytes = $state.raw<Map<string, ArrayBuffer>>(new Map());
  imageError = $state<string | null>(null);
  /** Value policy per input name of the selected model. */
  values = $state<Record<string, ValuePolicy>>({});

  // ---- run and results
  running = $state(false);
  progress = $state<Progress | null>(null);
  /** Totals of the cell that is sampling, for the live chart (updated a few times a second, not per sample). */
  live = $state.raw<{ id: string; totals: number[] }>({ id: '', totals: [] });
  cells = $state.raw<CellResult[]>([]);
  result = $state.raw<RunResult | null>(null);
  runError = $state<string | null>(null);
  /** The stored run on screen, and whether it stopped before its end (a reload mid-run): it can resume. */
  current = $state.raw<StoredRun | null>(null);
  history = $state.raw<StoredRun[]>([]);
  /** The serving or monitor result on show in the serving panel (the last one run, or one picked from the history). */
  servingResult = $state.raw<RunResult | null>(null);
  historyErrors = $state<string[]>([]);

  /** Result files brought in to compare (src/app/imports.svelte.ts). */
  readonly imports = new ImportState(() => this.result);

  private abort: AbortController | null = null;
  private readonly base = defaultModelsBaseUrl();

  models = $derived<ModelInfo[]>([...(this.manifest?.models ?? []), ...this.ownModels.map((o) => o.info)]);
  model = $derived(this.models.find((m) => m.id === this.modelId) ?? null);
  budget = $derived.by((): { rule: BudgetRule | null; error: string | null } => {
    if (!this.budgetText.trim()) return { rule: null, error: null };
    try {
      return { rule: parseBudget(this.budgetText), error: null };
    } catch (e) {
      return { rule: null, error: message(e) };
    }
  });
  /** One line for exported charts: which models ran, on what browser and device. */
  runFacts = $derived.by(() => {
    const env = this.result?.environment ?? this.environment;
    const models = [...new Set(this.cells.map((c) => c.cell.modelId))].join(', ');
    const where = env
      ? `${env.browser.name} ${env.browser.version} · ${env.platform} · ${env.hardwareConcurrency} cores${env.gpu?.software ? ' · software GPU' : ''}`
      : '';
    return [models, where, this.result?.createdAt?.slice(0, 16).replace('T', ' ')].filter(Boolean).join(' · ');
  });
  resumable = $derived(Boolean(this.current && this.current.status === 'running' && !this.running));

  async init(): Promise<void> {
    let linked: boolean;
    try {
      this.manifest = await loadManifest(this.base);
      // The link's setup applies before anything else shows (the backend probe takes a moment).
      // A result link (#result=...) is not a setup: SharedRunPanel reads it.
      linked = location.hash.length > 1 && !location.hash.startsWith(SHARE_PREFIX);
      if (linked) this.applyLink(location.hash);
    } catch (e) {
      this.loadError = `the model zoo did not load: ${message(e)}`;
      return;
    }
    // History and the own models added before the reload (a run's own models come with its setup) come back before
    // the backend probe: they need nothing from it, and a slow GPU probe should not hide them.
    await this.refreshHistory();
    await this.restoreOwnModels();
    try {
      this.environment = await collectEnvironment();
    } catch (e) {
      this.loadError = `the backend probe failed: ${message(e)}`;
      return;
    }
    // The last run comes back after a reload; one that was still running can resume its unfinished cells. The last
    // serving run comes back in the serving panel.
    const last = this.history.find((h) => !h.result?.serving);
    this.servingResult = this.history.find((h) => h.result?.serving)?.result ?? null;
    // A link in the address bar wins over the last run's setup.
    if (last) await this.show(last.id, !linked);
  }

  // ---------------------------------------------------------------- setup and link

  /** The setup on screen, as plain data (for the link, and stored with each run so a reload shows what ran). */
  setup(): Setup {
    const self = this as unknown as Record<string, unknown>;
    return Object.fromEntries(
      Object.entries(SETUP_FIELDS).map(([key, field]) => [key, $state.snapshot(self[field])]),
    ) as unknown as Setup;
  }

  /** Puts a (partial) setup on screen, field by field through the one table. */
  private applySetup(setup: Partial<Setup>): void {
    const self = this as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(setup)) {
      const field = SETUP_FIELDS[key as keyof Setup];
      if (field && value !== undefined) self[field] = structuredClone(value);
    }
  }

  /** The link that restores this setup (not its results). */
  link(): string {
    return `${location.origin}${location.pathname}#${encodeSetup(this.setup())}`;
  }

  applyLink(hash: string): void {
    const { setup, errors } = decodeSetup(hash);
    const errs = [...errors];
    if (setup.model && this.manifest && !this.models.some((m) => m.id === setup.model)) {
      errs.push(
        `link: model '${setup.model}' is not in this lab's zoo (your own models can't travel in a link; add the file again)`,
      );
      delete setup.model;
    }
    if (setup.targets) {
      const known = setup.targets.filter((t) => allTargets().includes(t));
      const unknown = setup.targets.filter((t) => !known.includes(t));
      if (unknown.length) errs.push(`link: unknown target(s) ${unknown.join(', ')} (ignored)`);
      setup.targets = known;
    }
    this.applySetup(setup);
    this.linkErrors = errs;
  }

  /** Switching models clears the previous model's dims and value policies. */
  selectModel(id: string): void {
    this.modelId = id;
    this.dims = {};
    this.values = {};
  }

  /** Marks a symbolic dim of the person's own model as following the batch size (or not). */
  setBatchFollower(modelId: string, dim: string, follows: boolean): void {
    this.ownModels = this.ownModels.map((o) => {
      if (o.info.id !== modelId) return o;
      const rest = o.info.batchFollowers.filter((d) => d !== dim);
      return { ...o, info: { ...o.info, batchFollowers: follows ? [...rest, dim] : rest } };
    });
    void this.keepOwnModels();
    if (follows) {
      const { [dim]: _dropped, ...dims } = this.dims;
      this.dims = dims;
    }
  }

  /**
   * Keeps the setup's own models (and this one's files) in IndexedDB, so a reload brings them back: the one place
   * an own model's files are stored (runs, resumes and serving runs read them from there).
   */
  private async keepOwnModels(added?: OwnModel): Promise<void> {
    try {
      for (const [path, bytes] of added?.files ?? []) await runStore.putFile(this.sha(added!.info, path), bytes);
      await runStore.putOwnModels(this.ownModels.map((o) => o.info));
    } catch {
      // No IndexedDB (private mode, quota): the model still works in this tab, it just won't survive a reload.
    }
  }

  /** The own models kept from an earlier visit, whose files are all still stored. */
  private async restoreOwnModels(): Promise<void> {
    const kept = await runStore.getOwnModels().catch(() => ({ models: [], broken: null }));
    if (kept.broken) this.historyErrors = [...this.historyErrors, kept.broken];
    for (const info of kept.models) {
      if (this.ownModels.some((o) => o.info.id === info.id) || this.manifest?.models.some((m) => m.id === info.id))
        continue;
      const own = await loadStoredModel(info);
      if (own) this.ownModels = [...this.ownModels, own];
    }
  }

  async addOwnModel(files: readonly File[]): Promise<void> {
    this.ownError = null;
    try {
      const own = await loadOwnModel(files, new Set(this.models.map((m) => m.id)));
      this.ownModels = [...this.ownModels, own];
      this.selectModel(own.info.id);
      await this.keepOwnModels(own);
    } catch (e) {
      this.ownError = message(e);
    }
  }

  /** The person's own pictures for an image input: read, checked to be pictures by type, and named by content. */
  async addOwnImages(input: string, policy: ImagePolicy, files: readonly File[]): Promise<void> {
    this.imageError = null;
    const bad = files.filter((f) => f.type && !f.type.startsWith('image/'));
    if (bad.length) {
      this.imageError = `not pictures: ${bad.map((f) => `${f.name} (${f.type})`).join(', ')}`;
      return;
    }
    const bytes = new Map(this.ownImageBytes);
    const images: ImageFile[] = [];
    for (const f of files) {
      const buf = await f.arrayBuffer();
      if (buf.byteLength === 0) {
        this.imageError = `${f.name} is empty`;
        return;
      }
      const sha256 = await sha256Hex(buf);
      const path = `own-images/${sha256.slice(0, 16)}/${encodeURIComponent(f.name)}`;
      bytes.set(path, buf);
      images.push({ name: f.name, path, bytes: buf.byteLength, sha256 });
    }
    this.ownImageBytes = bytes;
    this.values = { ...this.values, [input]: { ...policy, images } };
  }

  useBundledImages(input: string, policy: ImagePolicy): void {
    this.values = { ...this.values, [input]: { ...policy, images: this.manifest ? bundledImages(this.manifest) : [] } };
  }

  /** Image policies from a link or the editor with no pictures get the bundled photos. */
  private resolvedValues(): Record<string, ValuePolicy> {
    return Object.fromEntries(
      Object.entries(this.values).map(([k, p]) => [
        k,
        p.kind === 'image' && p.images.length === 0 && this.manifest
          ? { ...p, images: bundledImages(this.manifest) }
          : p,
      ]),
    );
  }

  /** Lists typed as "1, 4, 16": parsed strictly so a typo is an error, not a silent drop. */
  parseList(text: string, what: string): number[] {
    const list = parseCountList(text);
    if (list.ok) return list.values;
    throw new Error(
      list.bad === null ? `give at least one ${what}` : `${what} '${list.bad}' is not a whole number of at least 1`,
    );
  }

  /** Why a runtime:backend can't run in this browser, or null when it can. */
  unavailableReason(target: string): string | null {
    const cap = this.environment?.capabilities.find((c) => c.target === target);
    if (cap && !cap.available) return cap.reason ?? 'unavailable';
    // A runtime that can't load any of the selected model's formats can't run it here (an ONNX file on tfjs).
    const runtime = target.split(':')[0] as RuntimeId;
    if (this.model && RUNTIME_FORMATS[runtime] && !pickFormat(this.model, runtime))
      return `${runtime} can't load ${this.model.id} (it has ${this.model.formats.map((f) => f.format).join(', ')}; ${runtime} loads ${RUNTIME_FORMATS[runtime].join(', ')})`;
    return null;
  }

  /** The selected targets that can run the selected model: the others are greyed out and never run. */
  runnableTargets(): string[] {
    return this.targets.filter((t) => this.unavailableReason(t) === null);
  }

  private overrides(model: ModelInfo): Record<string, InputOverride> {
    const out: Record<string, InputOverride> = {};
    const resolved = this.resolvedValues();
    for (const input of model.inputs) {
      // Dims travel as the plan's sweep dims (buildPlan puts each cell's values on the inputs that have them).
      const values = resolved[input.name];
      if (values) out[input.name] = { values };
    }
    return out;
  }

  /** Pass (true), fail (false) or no budget (null) for a cell. */
  budgetPass = (c: OkCellResult): boolean | null => {
    const rule = this.budget.rule;
    return rule ? (budgetVerdict(rule, c)?.pass ?? null) : null;
  };

  budgetLabel = $derived(this.budget.rule ? formatBudget(this.budget.rule).replace(/^\* /, '') : '');

  // ---------------------------------------------------------------- running

  async start(): Promise<void> {
    if (!this.manifest || this.running || !this.model) return;
    this.runError = null;
    if (this.budget.error) {
      this.runError = this.budget.error;
      return;
    }
    let plan;
    try {
      const seed = this.seedText.trim() === '' ? freshSeed() : Number(this.seedText);
      if (!Number.isInteger(seed))
        throw new Error(`seed '${this.seedText}' is not a whole number (leave it empty for a fresh one)`);
      plan = buildPlan(
        {
          models: [this.model.id],
          targets: this.runnableTargets(),
          batches: this.parseList(this.batchText, 'batch size'),
          dimHint: (missing) =>
            `give ${missing.length > 1 ? 'each a value' : 'it a value'} in the dims editor under the model's inputs`,
          threads: this.parseList(this.threadsText, 'thread count'),
          ortBuilds: this.ortBuilds,
          ...(this.tfjsCores ? { tfjsCores: this.tfjsCores } : {}),
          seed,
          schedule: this.interleave ? 'interleaved' : 'sequential',
          inputOverrides: { [this.model.id]: this.overrides(this.model) },
          dims: Object.fromEntries(Object.entries(this.dims).filter(([d]) => sweepableDims(this.model!).includes(d))),
          sampling: {
            mode: this.mode,
            targetCI: this.targetPct / 100,
            minSamples: this.minSamples,
            maxSamples: this.maxSamples,
            maxSamplingMs: Math.round(this.maxSamplingS * 1000),
            samples: this.samples,
            warmup: this.warmup,
            coldStarts: this.coldStarts,
          },
        },
        this.models,
      );
    } catch (e) {
      this.runError = message(e);
      return;
    }
    // The plan crosses into workers (structured clone): no reactive proxies in it.
    plan = $state.snapshot(plan);
    // Own models' files are in IndexedDB since they were added (keepOwnModels), ready for a resume.
    const own = this.ownModels.filter((o) => o.info.id === this.model!.id);
    // The person's pictures travel to the workers like own model files, and are kept for a resume after a reload.
    const pictures = new Map(
      plan.cells
        .flatMap((c) => cellImages(this.model!, c))
        .filter((f) => this.ownImageBytes.has(f.path))
        .map((f) => [f.path, f] as const),
    );
    for (const f of pictures.values())
      await runStore.putFile(f.sha256, this.ownImageBytes.get(f.path)!).catch(() => undefined);
    const stored: StoredRun = {
      setupLink: encodeSetup(this.setup()),
      setupValues: $state.snapshot(this.resolvedValues()),
      id: `run-${Date.now().toString(36)}`,
      createdAt: new Date().toISOString(),
      status: 'running',
      plan,
      environment: this.environment ?? (await collectEnvironment()),
      ownModels: own.map((o) => o.info),
      cells: [],
      parity: {},
      result: null,
    };
    await this.execute(
      stored,
      new Map([
        ...own.flatMap((o) => [...o.files]),
        ...[...pictures.keys()].map((p) => [p, this.ownImageBytes.get(p)!] as const),
      ]),
    );
  }

  private sha(info: ModelInfo, path: string): string {
    return info.formats.flatMap((f) => [f.entry, ...f.weights]).find((f) => f.path === path)!.sha256;
  }

  /** Runs (or resumes) a stored run, saving each finished cell as it completes. */
  private async execute(stored: StoredRun, files: Map<string, ArrayBuffer>): Promise<void> {
    const { plan } = stored;
    this.running = true;
    this.current = stored;
    this.cells = stored.cells;
    this.result = null;
    this.abort = new AbortController();
    const max = plan.sampling.mode === 'fixed' ? plan.sampling.samples : plan.sampling.maxSamples;
    const cellStates: CellProgress[] = plan.cells.map((c) => {
      const before = stored.cells.find((x) => x.cell.id === c.id);
      return {
        id: c.id,
        phase: before ? 'done earlier' : 'waiting',
        samples: before?.status === 'ok' ? before.samples.length : 0,
        max,
        status: before?.status ?? 'waiting',
        startedAt: null,
        ms: null,
      };
    });
    this.progress = {
      cellCount: plan.cells.length,
      cellsDone: stored.cells.length,
      startedAt: performance.now(),
      cells: cellStates,
      current: 0,
    };
    // Sample events arrive fast; the page redraws at most 4 times a second so its own work disturbs the
    // measurement (on the cores the workers share) as little as possible.
    let liveTotals: number[] = [];
    let liveId = '';
    let dirty = false;
    const flush = setInterval(() => {
      if (!dirty || !this.progress) return;
      dirty = false;
      this.progress = { ...this.progress, cells: cellStates.map((c) => ({ ...c })) };
      this.live = { id: liveId, totals: liveTotals.slice(-300) };
    }, 250);
    let saving = Promise.resolve();
    const save = () => {
      const snapshot = { ...stored, cells: [...stored.cells], parity: { ...stored.parity } };
      saving = saving
        .then(() => runStore.put(snapshot))
        .catch((e) => void (this.runError = `could not save to IndexedDB: ${message(e)}`));
    };
    save();
    try {
      const result = await runPlan(
        plan,
        { manifestVersion: 1, models: this.modelsFor(stored), images: this.manifest?.images ?? [] },
        {
          modelsBaseUrl: this.base,
          source: 'page',
          signal: this.abort.signal,
          environment: stored.environment,
          files,
          prior: { cells: stored.cells, parity: stored.parity },
          onCellStart: (i) => {
            cellStates[i]!.status = 'running';
            cellStates[i]!.phase = 'starting';
            cellStates[i]!.startedAt = performance.now();
            if (this.progress) this.progress = { ...this.progress, current: i };
            dirty = true;
          },
          onCellEvent: (i, e) => {
            const c = cellStates[i]!;
            if (e.type === 'phase') c.phase = e.phase;
            else {
              c.samples = e.from + e.samples.length;
              if (liveId !== c.id) {
                liveId = c.id;
                liveTotals = [];
              }
              for (const s of e.samples) liveTotals.push(s.total);
            }
            if (this.progress) this.progress.current = i;
            dirty = true;
          },
          onCellDone: (i, r, parity: ParityData[]) => {
            cellStates[i]!.status = r.status;
            cellStates[i]!.phase = r.status;
            const began = cellStates[i]!.startedAt;
            cellStates[i]!.ms = began === null ? null : performance.now() - began;
            stored.cells = [...stored.cells.filter((c) => c.cell.id !== r.cell.id), r];
            if (r.status === 'ok') stored.parity[r.cell.id] = parity;
            this.cells = stored.cells;
            if (this.progress)
              this.progress = {
                ...this.progress,
                cellsDone: stored.cells.length,
                cells: cellStates.map((c) => ({ ...c })),
              };
            save();
          },
        },
      );
      stored.status = this.abort.signal.aborted ? 'cancelled' : 'done';
      stored.result = result;
      stored.cells = result.cells;
      this.result = result;
      this.cells = result.cells;
      save();
    } catch (e) {
      this.runError = message(e);
    } finally {
      clearInterval(flush);
      await saving;
      this.running = false;
      this.progress = null;
      this.abort = null;
      this.current = { ...stored };
      await this.refreshHistory();
    }
  }

  private modelsFor(stored: StoredRun): ModelInfo[] {
    const zoo = this.manifest?.models ?? [];
    return [...zoo.filter((m) => !stored.ownModels.some((o) => o.id === m.id)), ...stored.ownModels];
  }

  /** Runs the cells a reload interrupted, keeping those that finished. */
  async resume(): Promise<void> {
    const stored = this.current;
    if (!stored || this.running) return;
    this.runError = null;
    const files = new Map<string, ArrayBuffer>();
    for (const m of stored.ownModels) {
      for (const f of m.formats.flatMap((x) => [x.entry, ...x.weights])) {
        const bytes = await runStore.getFile(f.sha256);
        if (!bytes) {
          this.runError = `can't resume: the file ${f.path} of your model '${m.id}' is no longer stored; add the model again and start a new run`;
          return;
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
          this.runError = `can't resume: your picture ${f.name} is no longer stored; pick it again and start a new run`;
          return;
        }
        files.set(f.path, bytes);
      }
    }
    await this.execute({ ...stored, status: 'running' }, files);
  }

  cancel(): void {
    this.abort?.abort();
  }

  // ---------------------------------------------------------------- history

  async refreshHistory(): Promise<void> {
    try {
      const { runs, broken } = await runStore.list();
      this.history = runs;
      this.historyErrors = broken;
    } catch (e) {
      this.historyErrors = [`IndexedDB is not available here: ${message(e)}`];
    }
  }

  /** Shows a stored run; with `restoreSetup`, the setup that produced it too (own models and pictures included). */
  async show(id: string, restoreSetup = true): Promise<void> {
    const run = await runStore.get(id).catch((e: unknown) => {
      this.historyErrors = [message(e)];
      return null;
    });
    if (!run) return;
    if (run.result?.serving) {
      this.servingResult = run.result;
      return;
    }
    if (restoreSetup && run.setupLink !== undefined) await this.restoreSetup(run);
    this.current = run;
    this.result = run.result;
    this.cells = run.result?.cells ?? run.cells;
  }

  private async restoreSetup(run: StoredRun): Promise<void> {
    const missing: string[] = [];
    for (const info of run.ownModels) {
      if (this.ownModels.some((o) => o.info.id === info.id)) continue;
      const own = await loadStoredModel(info);
      if (own) this.ownModels = [...this.ownModels, own];
      else missing.push(`your model '${info.id}' (its files are no longer stored: add it again)`);
    }
    const pictures = new Map(this.ownImageBytes);
    for (const p of Object.values(run.setupValues ?? {})) {
      if (p.kind !== 'image') continue;
      for (const f of p.images) {
        if (!f.path.startsWith('own-images/') || pictures.has(f.path)) continue;
        const bytes = await runStore.getFile(f.sha256).catch(() => null);
        if (bytes) pictures.set(f.path, bytes);
        else missing.push(`your picture ${f.name}`);
      }
    }
    this.ownImageBytes = pictures;
    const { setup } = decodeSetup(run.setupLink ?? '');
    this.applySetup({ ...setup, ...(run.setupValues ? { values: run.setupValues } : {}) });
    this.linkErrors = missing.length ? [`the setup of this run is back, except ${missing.join(', ')}`] : [];
  }

  /** A finished serving or monitor run, kept in the history beside the cell runs. */
  async keepServingRun(result: RunResult): Promise<void> {
    const own = this.ownModels.filter((o) => result.plan.cells.some((c) => c.modelId === o.info.id));
    const stored: StoredRun = {
      id: `serving-${result.createdAt}`,
      createdAt: result.createdAt,
      status: 'done',
      plan: result.plan,
      environment: result.environment,
      ownModels: own.map((o) => o.info),
      cells: [],
      parity: {},
      result,
    };
    try {
      await runStore.put(stored);
    } catch (e) {
      this.historyErrors = [`the serving run was not kept: ${message(e)}`];
    }
    await this.refreshHistory();
  }

  async remove(id: string): Promise<void> {
    const gone = this.history.find((h) => h.id === id);
    await runStore.delete(id);
    if (gone?.result?.serving && gone.result.createdAt === this.servingResult?.createdAt) this.servingResult = null;
    if (this.current?.id === id) {
      this.current = null;
      this.result = null;
      this.cells = [];
    }
    await this.refreshHistory();
  }

  okCells = $derived(okCells(this.cells));
}
