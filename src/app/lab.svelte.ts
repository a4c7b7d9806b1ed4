/**
 * The page's state: the setup form, the run in progress, and the last result. One class, runes inside, so
 * components stay small and read from one place.
 */
import type { Manifest } from '../lib/manifest.ts';
import { buildPlan, DEFAULT_SAMPLING, freshSeed } from '../lib/plan.ts';
import type { CellResult, Environment, RunResult } from '../lib/schema.ts';
import { collectEnvironment } from './environment.ts';
import { defaultModelsBaseUrl, loadManifest, runPlan } from './runner.ts';

export interface Progress {
  cellIndex: number;
  cellCount: number;
  cellId: string;
  phase: string;
  samplesDone: number;
  /** The most samples the cell may take (auto mode usually stops earlier). */
  samplesMax: number;
  cellsDone: number;
}

export { allTargets } from '../lib/plan.ts';

export class LabState {
  manifest = $state.raw<Manifest | null>(null);
  environment = $state.raw<Environment | null>(null);
  loadError = $state<string | null>(null);

  modelId = $state('tiny-cnn');
  targets = $state<string[]>(['ort:wasm', 'tfjs:cpu', 'tfjs:wasm']);
  batchText = $state('1');
  threadsText = $state('1');
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

  running = $state(false);
  progress = $state<Progress | null>(null);
  cells = $state.raw<CellResult[]>([]);
  result = $state.raw<RunResult | null>(null);
  runError = $state<string | null>(null);

  private abort: AbortController | null = null;
  private readonly base = defaultModelsBaseUrl();

  model = $derived(this.manifest?.models.find((m) => m.id === this.modelId) ?? null);

  async init(): Promise<void> {
    try {
      this.manifest = await loadManifest(this.base);
      this.environment = await collectEnvironment();
    } catch (e) {
      this.loadError = e instanceof Error ? e.message : String(e);
    }
  }

  /** Lists typed as "1, 4, 16": parsed strictly so a typo is an error, not a silent drop. */
  parseList(text: string, what: string): number[] {
    const parts = text.split(/[,\s]+/).filter(Boolean);
    return parts.map((p) => {
      const n = Number(p);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${what} '${p}' is not a whole number of at least 1`);
      return n;
    });
  }

  /** Why a runtime:backend can't run in this browser, or null when it can. */
  unavailableReason(target: string): string | null {
    const cap = this.environment?.capabilities.find((c) => c.target === target);
    return cap && !cap.available ? (cap.reason ?? 'unavailable') : null;
  }

  async start(): Promise<void> {
    if (!this.manifest || this.running) return;
    this.runError = null;
    let plan;
    try {
      const seed = this.seedText.trim() === '' ? freshSeed() : Number(this.seedText);
      if (!Number.isInteger(seed)) throw new Error(`seed '${this.seedText}' is not a whole number (leave it empty for a fresh one)`);
      plan = buildPlan(
        {
          models: [this.modelId],
          targets: this.targets,
          batches: this.parseList(this.batchText, 'batch size'),
          threads: this.parseList(this.threadsText, 'thread count'),
          seed,
          schedule: this.interleave ? 'interleaved' : 'sequential',
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
        this.manifest.models,
      );
    } catch (e) {
      this.runError = e instanceof Error ? e.message : String(e);
      return;
    }
    this.running = true;
    this.cells = [];
    this.result = null;
    this.abort = new AbortController();
    const samplesDone = new Map<number, number>();
    try {
      this.result = await runPlan(plan, this.manifest, {
        modelsBaseUrl: this.base,
        source: 'page',
        signal: this.abort.signal,
        environment: this.environment ?? undefined,
        onCellStart: (i, n, cell) => {
          const samplesMax = plan.sampling.mode === 'fixed' ? plan.sampling.samples : plan.sampling.maxSamples;
          this.progress = { cellIndex: i, cellCount: n, cellId: cell.id, phase: 'starting', samplesDone: 0, samplesMax, cellsDone: this.cells.length };
        },
        onCellEvent: (i, e) => {
          if (!this.progress) return;
          // Interleaved runs have several live cells: the bar follows whichever cell reported last.
          const cell = { cellIndex: i, cellId: plan.cells[i]?.id ?? '' };
          if (e.type === 'sample') samplesDone.set(i, e.index + 1);
          this.progress = { ...this.progress, ...cell, ...(e.type === 'phase' ? { phase: e.phase } : {}), samplesDone: samplesDone.get(i) ?? 0 };
        },
        onCellDone: (_i, r) => {
          this.cells = [...this.cells, r];
          if (this.progress) this.progress = { ...this.progress, cellsDone: this.cells.length };
        },
      });
      // Parity is computed once every cell is done: show the final, validated cells.
      this.cells = this.result.cells;
    } catch (e) {
      this.runError = e instanceof Error ? e.message : String(e);
    } finally {
      this.running = false;
      this.progress = null;
      this.abort = null;
    }
  }

  cancel(): void {
    this.abort?.abort();
  }
}
