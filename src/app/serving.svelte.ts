/** The serving simulator's state on the page: its form, the run in progress and the last serving result. */
import { errorMessage } from '../lib/errors.ts';
import { BatcherConfig } from '../lib/schema/serving.ts';
import type { Manifest } from '../lib/models/manifest.ts';
import type { Environment, RunResult } from '../lib/schema.ts';
import type { HistoryState } from './history.svelte.ts';
import type { SetupState } from './setup.svelte.ts';
import { oneMeasurementAtATime } from './measure-lock.ts';
import type { OverlapProbe } from './overlap.ts';
import { defaultModelsBaseUrl } from './runner.ts';
import { MONITOR_DEFAULTS as M, SERVING_DEFAULTS as S } from '../lib/plan/defaults.ts';

/** What the serving state reads of the page around it (the LabState, which holds this one). */
export interface ServingHost {
  readonly manifest: Manifest | null;
  readonly environment: Environment | null;
  readonly setup: Pick<SetupState, 'model' | 'models'>;
  readonly history: Pick<HistoryState, 'servingResult'>;
  /** Why a serving measurement can't start now (a run is measuring), or null. */
  readonly servingBlocked: string | null;
  keepServingRun(result: RunResult): Promise<void>;
}

export class ServingState {
  target = $state<string>(S.target);
  ratesText = $state(S.rates.join(', '));
  durationS = $state<number>(S.durationS);
  maxBatchText = $state(S.maxBatches.join(', '));
  maxWaitMs = $state<number>(S.maxWaitMs);
  workersText = $state(S.workers.join(', '));
  budgetMs = $state<number | null>(null);
  percentile = $state<'p99' | 'p95'>(S.percentile);
  cadenceMs = $state<number>(M.cadenceMs);
  minutes = $state<number>(M.minutes);
  windowS = $state<number>(M.windowS);

  running = $state(false);
  status = $state('');
  error = $state<string | null>(null);
  /** The serving result on show: the last one run, or one picked from the history (the lab holds it). */
  get result(): RunResult | null {
    return this.lab.history.servingResult;
  }
  set result(r: RunResult | null) {
    this.lab.history.servingResult = r;
  }
  private abort: AbortController | null = null;

  constructor(private readonly lab: ServingHost) {}

  private list(text: string, what: string): number[] {
    const parts = text
      .split(/[,\s]+/)
      .filter(Boolean)
      .map(Number);
    if (!parts.length || parts.some((n) => !Number.isFinite(n)))
      throw new Error(`${what}: '${text}' is not a list of numbers`);
    return parts;
  }

  private async go(kind: 'serve' | 'monitor'): Promise<void> {
    if (this.running || this.lab.servingBlocked || !this.lab.manifest || !this.lab.setup.model) return;
    this.error = null;
    this.running = true;
    const abort = (this.abort = new AbortController());
    try {
      await oneMeasurementAtATime(
        kind === 'serve' ? 'a serving load sweep' : 'the serving monitor',
        (overlap) => this.measure(kind, abort.signal, overlap),
        () => (this.status = 'waiting for the measurement in another tab of the lab to end (one at a time)'),
        abort.signal,
      );
      // A cancelled sweep keeps the points it finished; it is not 'done'.
      this.status = abort.signal.aborted ? 'cancelled: only the points finished before Cancel are shown' : 'done';
      if (this.result) await this.lab.keepServingRun(this.result);
    } catch (e) {
      if (abort.signal.aborted) this.status = 'cancelled before it measured anything';
      else this.error = errorMessage(e);
    } finally {
      this.running = false;
      this.abort = null;
    }
  }

  /** One sweep or monitor run (the measurement lock held). */
  private async measure(kind: 'serve' | 'monitor', signal: AbortSignal, overlap: OverlapProbe): Promise<void> {
    const model = this.lab.setup.model;
    if (!model) return;
    const [{ runServing }, { runMonitor }] = await Promise.all([import('./serving.ts'), import('./monitor.ts')]);
    const manifest = {
      manifestVersion: 1 as const,
      models: this.lab.setup.models,
      images: this.lab.manifest?.images ?? [],
    };
    const cb = { signal, overlap, onStatus: (t: string) => (this.status = t) };
    const base = defaultModelsBaseUrl();
    if (kind === 'serve') {
      const batchers = this.list(this.maxBatchText, 'max batch').map((maxBatch) =>
        BatcherConfig.parse({ maxBatch, maxWaitMs: maxBatch === 1 ? 0 : this.maxWaitMs }),
      );
      this.result = await runServing(
        {
          model: model.id,
          target: this.target,
          rates: this.list(this.ratesText, 'rates'),
          durationS: this.durationS,
          batchers,
          workers: this.list(this.workersText, 'workers'),
          budgetMs: this.budgetMs || null,
          percentile: this.percentile,
        },
        manifest,
        base,
        cb,
        this.lab.environment ?? undefined,
      );
    } else {
      this.result = await runMonitor(
        {
          model: model.id,
          target: this.target,
          cadenceMs: this.cadenceMs,
          durationS: this.minutes * 60,
          windowS: this.windowS,
        },
        manifest,
        base,
        cb,
        this.lab.environment ?? undefined,
      );
    }
  }

  sweep = () => this.go('serve');
  monitor = () => this.go('monitor');
  cancel = () => this.abort?.abort();
}
