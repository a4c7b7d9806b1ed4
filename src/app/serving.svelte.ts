/** The serving simulator's state on the page: its form, the run in progress and the last serving result. */
import { errorMessage } from '../lib/errors.ts';
import { BatcherConfig } from '../lib/schema/serving.ts';
import type { RunResult } from '../lib/schema.ts';
import type { LabState } from './lab.svelte.ts';
import { defaultModelsBaseUrl } from './runner.ts';
import { MONITOR_DEFAULTS as M, SERVING_DEFAULTS as S } from '../lib/plan/defaults.ts';

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

  constructor(private readonly lab: LabState) {}

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
    if (this.running || !this.lab.manifest || !this.lab.setup.model) return;
    this.error = null;
    this.running = true;
    this.abort = new AbortController();
    try {
      const [{ runServing }, { runMonitor }] = await Promise.all([import('./serving.ts'), import('./monitor.ts')]);
      const manifest = {
        manifestVersion: 1 as const,
        models: this.lab.setup.models,
        images: this.lab.manifest?.images ?? [],
      };
      const cb = { signal: this.abort.signal, onStatus: (t: string) => (this.status = t) };
      const base = defaultModelsBaseUrl();
      if (kind === 'serve') {
        const batchers = this.list(this.maxBatchText, 'max batch').map((maxBatch) =>
          BatcherConfig.parse({ maxBatch, maxWaitMs: maxBatch === 1 ? 0 : this.maxWaitMs }),
        );
        this.result = await runServing(
          {
            model: this.lab.setup.model.id,
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
            model: this.lab.setup.model.id,
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
      this.status = 'done';
      if (this.result) await this.lab.keepServingRun(this.result);
    } catch (e) {
      this.error = errorMessage(e);
    } finally {
      this.running = false;
      this.abort = null;
    }
  }

  sweep = () => this.go('serve');
  monitor = () => this.go('monitor');
  cancel = () => this.abort?.abort();
}
