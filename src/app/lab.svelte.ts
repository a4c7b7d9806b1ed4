/**
 * The page's state, as a few small parts that components read: the setup (setup.svelte.ts), the run on screen
 * (run.svelte.ts), the history (history.svelte.ts) and imported result files (imports.svelte.ts). This class loads
 * the zoo and probes the browser, and does what crosses parts: starting a run from the setup, showing a stored run
 * with the setup that made it.
 */
import { errorMessage } from '../lib/errors.ts';
import type { Manifest } from '../lib/models/manifest.ts';
import type { Environment, RunResult } from '../lib/schema.ts';
import { encodeSetup, SHARE_PREFIX } from '../lib/plan/setup-url.ts';
import { collectEnvironment } from './environment.ts';
import { HistoryState } from './history.svelte.ts';
import { ImportState } from './imports.svelte.ts';
import { RunState } from './run.svelte.ts';
import { ServingState } from './serving.svelte.ts';
import { defaultModelsBaseUrl, loadManifest } from './runner.ts';
import { SetupState } from './setup.svelte.ts';
import { loadSetupDraft } from './setup-draft.ts';

export class LabState {
  manifest = $state.raw<Manifest | null>(null);
  environment = $state.raw<Environment | null>(null);
  loadError = $state<string | null>(null);
  /** Set once init has put back what a reload should (the setup draft is saved from then on). */
  ready = $state(false);

  readonly setup = new SetupState({ manifest: () => this.manifest, environment: () => this.environment });
  readonly history = new HistoryState();
  readonly run = new RunState({
    manifest: () => this.manifest,
    environment: () => this.environment,
    modelsBaseUrl: defaultModelsBaseUrl(),
    ended: () => this.history.refresh(),
  });
  /** Result files brought in to compare (src/app/imports.svelte.ts). */
  readonly imports = new ImportState(() => this.run.result);
  /** The serving simulator (src/app/serving.svelte.ts); here so a run and a sweep know of each other. */
  readonly serving = new ServingState(this);

  /** One measurement at a time (they would share the cores): why Run can't start now, or null. */
  runBlocked = $derived(
    this.serving.running
      ? 'A serving measurement is running: one measurement at a time (Cancel it in Serving, or wait for its end).'
      : null,
  );
  /** Why the serving sweep or monitor can't start now, or null. */
  servingBlocked = $derived(
    this.run.running ? 'A run is measuring: one measurement at a time (Cancel it, or wait for its end).' : null,
  );

  /** One line for exported charts: which models ran, on what browser and device. */
  runFacts = $derived.by(() => {
    const env = this.run.result?.environment ?? this.environment;
    const models = [...new Set(this.run.cells.map((c) => c.cell.modelId))].join(', ');
    const where = env
      ? `${env.browser.name} ${env.browser.version} · ${env.platform} · ${env.hardwareConcurrency} cores${env.gpu?.software ? ' · software GPU' : ''}`
      : '';
    return [models, where, this.run.result?.createdAt?.slice(0, 16).replace('T', ' ')].filter(Boolean).join(' · ');
  });

  async init(): Promise<void> {
    let linked: boolean;
    try {
      this.manifest = await loadManifest(defaultModelsBaseUrl());
      // The link's setup applies before anything else shows (the backend probe takes a moment).
      // A result link (#result=...) is not a setup: SharedRunPanel reads it.
      linked = location.hash.length > 1 && !location.hash.startsWith(SHARE_PREFIX);
      if (linked) this.setup.applyLink(location.hash);
    } catch (e) {
      this.loadError = `the model zoo did not load: ${errorMessage(e)}`;
      return;
    }
    // History and the own models added before the reload (a run's own models come with its setup) come back before
    // the backend probe: they need nothing from it, and a slow GPU probe should not hide them.
    await this.history.refresh();
    const broken = await this.setup.restoreOwnModels();
    if (broken) this.history.errors = [...this.history.errors, broken];
    try {
      this.environment = await collectEnvironment();
    } catch (e) {
      this.loadError = `the backend probe failed: ${errorMessage(e)}`;
      return;
    }
    // The last run comes back after a reload; one that was still running can resume its unfinished cells. The last
    // serving run comes back in the serving panel.
    const last = this.history.runs.find((h) => !h.result?.serving);
    this.history.servingResult = this.history.runs.find((h) => h.result?.serving)?.result ?? null;
    // A link in the address bar wins over the last run's setup, and edits made after that run win over it too.
    const draft = linked ? null : loadSetupDraft();
    const edited = draft && (!last || draft.savedAt > last.createdAt);
    if (last) await this.show(last.id, !linked && !edited);
    if (draft && edited) {
      const known = this.setup.models.some((m) => m.id === draft.setup.model);
      // An own model that is no longer stored: the rest of the draft, not its model's dims and values.
      this.setup.apply(known ? draft.setup : { ...draft.setup, model: undefined, dims: undefined, values: undefined });
    }
  }

  /** Runs the setup on screen. */
  async start(): Promise<void> {
    if (!this.manifest || this.run.running) return;
    if (this.runBlocked) {
      this.run.error = this.runBlocked;
      return;
    }
    this.run.error = null;
    let plan;
    try {
      plan = this.setup.plan();
    } catch (e) {
      this.run.error = errorMessage(e);
      return;
    }
    await this.run.start({
      plan,
      setupLink: encodeSetup(this.setup.snapshot()),
      setupValues: $state.snapshot(this.setup.resolvedValues()),
      ownModels: this.setup.own.modelsIn(plan),
      files: await this.setup.own.filesFor(plan, this.setup.models),
    });
  }

  /** Shows a stored run; with `restoreSetup`, the setup that produced it too (own models and pictures included). */
  async show(id: string, restoreSetup = true): Promise<void> {
    const run = await this.history.get(id);
    if (!run) return;
    if (run.result?.serving) {
      this.history.servingResult = run.result;
      return;
    }
    if (restoreSetup && run.setupLink !== undefined) await this.setup.restore(run);
    this.run.show(run);
  }

  async remove(id: string): Promise<void> {
    await this.history.remove(id);
    if (this.run.current?.id === id) this.run.clear();
  }

  /** A finished serving or monitor run, kept in the history with the own models it ran. */
  async keepServingRun(result: RunResult): Promise<void> {
    await this.history.keepServingRun(result, this.setup.own.modelsIn(result.plan));
  }
}
