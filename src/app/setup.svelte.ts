/**
 * The setup on screen: which model (zoo or the person's own), inputs and their values, the matrix, sampling and the
 * budget. It becomes a Plan (`plan()`), a link (`link()`), and is restored from a link or a stored run. The
 * person's own models and pictures are their own part (own-files.svelte.ts).
 */
import { errorMessage } from '../lib/errors.ts';
import { budgetVerdict, formatBudget, parseBudget, type BudgetRule } from '../lib/plan/budget.ts';
import { bundledImages, type Manifest, type ModelInfo } from '../lib/models/manifest.ts';
import { parseCountList } from '../lib/parse.ts';
import { buildPlan, freshSeed } from '../lib/plan/plan.ts';
import { DEFAULT_MODEL, DEFAULT_SAMPLING, DEFAULT_TARGETS } from '../lib/plan/defaults.ts';
import type {
  Environment,
  ImagePolicy,
  InputOverride,
  OkCellResult,
  Plan,
  RuntimeId,
  ValuePolicy,
} from '../lib/schema.ts';
import { decodeSetup, encodeSetup, type Setup } from '../lib/plan/setup-url.ts';
import { OwnFiles } from './own-files.svelte.ts';
import type { StoredRun } from './store.ts';
import { allTargets } from '../lib/targets.ts';
import { pickFormat, RUNTIME_FORMATS } from '../lib/plan/target-parse.ts';
import { sweepableDims } from '../lib/models/dims.ts';

/** What the setup reads from the page around it: the zoo, and what this browser can run. */
export interface SetupContext {
  manifest(): Manifest | null;
  environment(): Environment | null;
}

/** Each field of a Setup (the link, the stored run) and the SetupState property that holds it on screen. */
const SETUP_FIELDS = {
  model: 'modelId',
  targets: 'targets',
  batch: 'batchText',
  threads: 'threadsText',
  ortBuilds: 'ortBuilds',
  variants: 'variants',
  mode: 'mode',
  targetPct: 'targetPct',
  minSamples: 'minSamples',
  maxSamples: 'maxSamples',
  maxSamplingS: 'maxSamplingS',
  samples: 'samples',
  warmup: 'warmup',
  coldStarts: 'coldStarts',
  invocations: 'invocations',
  interleave: 'interleave',
  seed: 'seedText',
  budget: 'budgetText',
  dims: 'dims',
  values: 'values',
} as const satisfies Record<keyof Setup, keyof SetupState>;

/** Lists typed as "1, 4, 16": parsed strictly so a typo is an error, not a silent drop. */
export function parseList(text: string, what: string): number[] {
  const list = parseCountList(text);
  if (list.ok) return list.values;
  throw new Error(
    list.bad === null ? `give at least one ${what}` : `${what} '${list.bad}' is not a whole number of at least 1`,
  );
}

export class SetupState {
  /** Messages about the link's setup (unknown keys, bad values); the rest of the link applied. */
  linkErrors = $state<string[]>([]);
  modelId = $state(DEFAULT_MODEL);
  targets = $state<string[]>([...DEFAULT_TARGETS]);
  batchText = $state('1');
  threadsText = $state('1');
  /** ORT builds per ORT target: 'recommended' (per backend) and/or build names. */
  ortBuilds = $state<string[]>(['recommended']);
  /** Model variants, a matrix dimension: fp32 (the model as given), fp16, int8 (made from ONNX files). */
  variants = $state<string[]>(['fp32']);
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
  /** Fresh starts per cell, its CI across them; 0: auto (a pilot of 3 in auto mode, 1 in fixed mode). */
  invocations = $state(0);
  interleave = $state(false);
  /** Empty: a fresh seed each run (recorded in the result, so the run can be replayed). */
  seedText = $state('');
  /** e.g. "p95 <= 16ms": shown as pass/fail wherever results appear. */
  budgetText = $state('');
  /** Values for the selected model's symbolic dims (other than the batch dim), by dim name; several sweep the dim. */
  dims = $state<Record<string, number[]>>({});
  /** Value policy per input name of the selected model. */
  values = $state<Record<string, ValuePolicy>>({});

  /** The person's own models and pictures (own-files.svelte.ts). */
  readonly own = new OwnFiles();

  constructor(private readonly context: SetupContext) {}

  models = $derived.by((): ModelInfo[] => [
    ...(this.context.manifest()?.models ?? []),
    ...this.own.models.map((o) => o.info),
  ]);
  model = $derived(this.models.find((m) => m.id === this.modelId) ?? null);
  budget = $derived.by((): { rule: BudgetRule | null; error: string | null } => {
    if (!this.budgetText.trim()) return { rule: null, error: null };
    try {
      return { rule: parseBudget(this.budgetText), error: null };
    } catch (e) {
      return { rule: null, error: errorMessage(e) };
    }
  });
  budgetLabel = $derived(this.budget.rule ? formatBudget(this.budget.rule).replace(/^\* /, '') : '');

  /** Pass (true), fail (false) or no budget (null) for a cell. */
  budgetPass = (c: OkCellResult): boolean | null => {
    const rule = this.budget.rule;
    return rule ? (budgetVerdict(rule, c)?.pass ?? null) : null;
  };

  // ---------------------------------------------------------------- link and stored setups

  /** The setup on screen, as plain data (for the link, and stored with each run so a reload shows what ran). */
  snapshot(): Setup {
    const self = this as unknown as Record<string, unknown>;
    return Object.fromEntries(
      Object.entries(SETUP_FIELDS).map(([key, field]) => [key, $state.snapshot(self[field])]),
    ) as unknown as Setup;
  }

  /** Puts a (partial) setup on screen, field by field through the one table. */
  apply(setup: Partial<Setup>): void {
    const self = this as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(setup)) {
      const field = SETUP_FIELDS[key as keyof Setup];
      if (field && value !== undefined) self[field] = structuredClone(value);
    }
  }

  /** The link that restores this setup (not its results). */
  link(): string {
    return `${location.origin}${location.pathname}#${encodeSetup(this.snapshot())}`;
  }

  applyLink(hash: string): void {
    const { setup, errors } = decodeSetup(hash);
    const errs = [...errors];
    if (setup.model && this.context.manifest() && !this.models.some((m) => m.id === setup.model)) {
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
    this.apply(setup);
    this.linkErrors = errs;
  }

  /** The setup a stored run was made with, own models and pictures included; names what is no longer stored. */
  async restore(run: StoredRun): Promise<void> {
    const pictures = Object.values(run.setupValues ?? {}).flatMap((p) => (p.kind === 'image' ? p.images : []));
    const missing = await this.own.restoreFrom(run, pictures);
    const { setup } = decodeSetup(run.setupLink ?? '');
    this.apply({ ...setup, ...(run.setupValues ? { values: run.setupValues } : {}) });
    this.linkErrors = missing.length ? [`the setup of this run is back, except ${missing.join(', ')}`] : [];
  }

  // ---------------------------------------------------------------- model and own files

  /** Switching models clears the previous model's dims and value policies. */
  selectModel(id: string): void {
    this.modelId = id;
    this.dims = {};
    this.values = {};
  }

  /** Marks a symbolic dim of the person's own model as following the batch size (or not). */
  setBatchFollower(modelId: string, dim: string, follows: boolean): void {
    this.own.setBatchFollower(modelId, dim, follows);
    if (follows) {
      const { [dim]: _dropped, ...dims } = this.dims;
      this.dims = dims;
    }
  }

  /** The person's own model: read, kept, and selected. */
  async addOwnModel(files: readonly File[]): Promise<void> {
    await this.own.addModel(files, new Set(this.models.map((m) => m.id)), (own) => this.selectModel(own.info.id));
  }

  /** Own models kept from an earlier visit, back in the model list; a damaged record's reason. */
  restoreOwnModels(): Promise<string | null> {
    return this.own.restore(new Set(this.context.manifest()?.models.map((m) => m.id) ?? []));
  }

  /** The person's own pictures for an image input. */
  async addOwnImages(input: string, policy: ImagePolicy, files: readonly File[]): Promise<void> {
    const images = await this.own.addPictures(files);
    if (images) this.values = { ...this.values, [input]: { ...policy, images } };
  }

  useBundledImages(input: string, policy: ImagePolicy): void {
    const manifest = this.context.manifest();
    this.values = { ...this.values, [input]: { ...policy, images: manifest ? bundledImages(manifest) : [] } };
  }

  /** Image policies from a link or the editor with no pictures get the bundled photos. */
  resolvedValues(): Record<string, ValuePolicy> {
    const manifest = this.context.manifest();
    return Object.fromEntries(
      Object.entries(this.values).map(([k, p]) => [
        k,
        p.kind === 'image' && p.images.length === 0 && manifest ? { ...p, images: bundledImages(manifest) } : p,
      ]),
    );
  }

  // ---------------------------------------------------------------- what can run, and the plan

  /** Why a runtime:backend can't run in this browser, or null when it can. */
  unavailableReason(target: string): string | null {
    const cap = this.context.environment()?.capabilities.find((c) => c.target === target);
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

  /** The plan this setup asks for (plain data, no reactive proxies: it crosses into workers); throws what is wrong. */
  plan(): Plan {
    const model = this.model;
    if (!model) throw new Error('pick a model');
    if (this.budget.error) throw new Error(this.budget.error);
    const seed = this.seedText.trim() === '' ? freshSeed() : Number(this.seedText);
    if (!Number.isInteger(seed))
      throw new Error(`seed '${this.seedText}' is not a whole number (leave it empty for a fresh one)`);
    const plan = buildPlan(
      {
        models: [model.id],
        targets: this.runnableTargets(),
        batches: parseList(this.batchText, 'batch size'),
        dimHint: (missing) =>
          `give ${missing.length > 1 ? 'each a value' : 'it a value'} in the dims editor under the model's inputs`,
        threads: parseList(this.threadsText, 'thread count'),
        ortBuilds: this.ortBuilds,
        variants: this.variants,
        ...(this.tfjsCores ? { tfjsCores: this.tfjsCores } : {}),
        seed,
        schedule: this.interleave ? 'interleaved' : 'sequential',
        inputOverrides: { [model.id]: this.overrides(model) },
        dims: Object.fromEntries(Object.entries(this.dims).filter(([d]) => sweepableDims(model).includes(d))),
        sampling: {
          mode: this.mode,
          targetCI: this.targetPct / 100,
          minSamples: this.minSamples,
          maxSamples: this.maxSamples,
          maxSamplingMs: Math.round(this.maxSamplingS * 1000),
          samples: this.samples,
          warmup: this.warmup,
          coldStarts: this.coldStarts,
          invocations: this.invocations > 0 ? this.invocations : 'auto',
        },
      },
      this.models,
    );
    return $state.snapshot(plan) as Plan;
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
}
