/**
 * Owns one cell worker's life on the page side: start it, drive its steps over Comlink (prepare -> warmup ->
 * sample blocks -> finish), and terminate it. Every step races the cell's timeout, the run's abort signal and
 * the worker dying; whichever wins, the cell ends with a result that keeps the samples streamed so far.
 */
import { errorMessage } from '../lib/errors.ts';
import * as Comlink from 'comlink';
import type { CellEvent, CellJob, CellOutcome, FinishFacts, Step } from '../lib/contracts/job.ts';
import { abortedCell, failedCell, type Sample } from '../lib/schema.ts';
import type { CellWorkerApi } from '../worker/cell-worker.ts';
import type { ProbeWorkerApi } from '../worker/probe-worker.ts';

/** A started worker, its Comlink proxy, and its one teardown. */
export interface StartedWorker<Api> {
  api: Comlink.Remote<Api>;
  worker: Worker;
  /** Releases the proxy and terminates the worker: every path that ends a page-side worker ends it here. */
  end(): void;
}

function started<Api>(worker: Worker): StartedWorker<Api> {
  const api = Comlink.wrap<Api>(worker);
  return {
    api,
    worker,
    end: () => {
      api[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}

// Each `new Worker(new URL(...))` stays written out: Vite bundles a worker only from that literal form.
export function startCellWorker(): StartedWorker<CellWorkerApi> {
  return started(
    new Worker(new URL('../worker/cell-worker.ts', import.meta.url), { type: 'module', name: 'cell-worker' }),
  );
}

/** A worker for one job (inputs, a probe, a benchmark): `use` runs on it, and it is ended whatever happens. */
export async function withWorker<Api, T>(
  w: StartedWorker<Api>,
  use: (api: Comlink.Remote<Api>) => Promise<T>,
): Promise<T> {
  try {
    return await use(w.api);
  } finally {
    w.end();
  }
}

/** The steps a cell is driven through: a Web Worker's API, or the CLI's native reference cell (native-bridge.ts). */
export type CellSteps = Pick<Comlink.Remote<CellWorkerApi>, 'prepare' | 'warmup' | 'sample' | 'finish'>;

/** Where a cell runs, other than a fresh Web Worker: its steps, how it reports dying, and how it is ended. */
export interface CellChannel {
  steps: CellSteps;
  onError(listener: (why: string) => void): void;
  terminate(): void;
}

export interface CellDriverOptions {
  onEvent?: (event: CellEvent) => void;
  signal?: AbortSignal;
}

/**
 * One cell in one worker. The timeout counts this cell's own steps only, so a cell waiting its turn in an
 * interleaved run does not time out while other cells sample.
 */
export class CellDriver {
  /** The Web Worker, when the cell runs in one (serving and the benchmarks use its extra calls). */
  private readonly api: Comlink.Remote<CellWorkerApi> | null = null;
  private readonly steps: CellSteps;
  private readonly end: () => void;
  private readonly received: Sample[] = [];
  private readonly startedAt = new Date().toISOString();
  private readonly t0 = performance.now();
  private activeMs = 0;
  /** Why the worker died, once it has; and the step waiting on it now (one listener, not one per step). */
  private crash: string | null = null;
  private onCrash: ((why: string) => void) | null = null;
  private closed = false;
  /** When this driver created its Web Worker (epoch ms); undefined for other channels, whose clocks differ. */
  private createdAt: number | undefined;

  constructor(
    readonly job: CellJob,
    private readonly options: CellDriverOptions = {},
    channel?: CellChannel,
  ) {
    const died = (why: string) => {
      this.crash = why;
      this.onCrash?.(why);
    };
    if (channel) {
      this.steps = channel.steps;
      this.end = () => channel.terminate();
      channel.onError(died);
      return;
    }
    this.createdAt = performance.timeOrigin + performance.now();
    const { api, worker, end } = startCellWorker();
    this.api = api;
    this.steps = api;
    this.end = end;
    worker.addEventListener('error', (e) => died(e.message || 'the worker could not start or crashed'));
  }

  private worker(): Comlink.Remote<CellWorkerApi> {
    if (!this.api) throw new Error(`${this.job.cell.id} does not run in a Web Worker`);
    return this.api;
  }

  private common() {
    return { cell: this.job.cell, startedAt: this.startedAt, durationMs: performance.now() - this.t0 };
  }

  private failed(error: string): CellOutcome {
    return {
      result: failedCell(this.job.cell, 'worker', error, { ...this.common(), samples: this.received }),
      parity: [],
    };
  }

  /** Runs one step against the timeout, the abort signal and a worker crash. */
  private async race<T>(call: () => Promise<Step<T>>): Promise<Step<T>> {
    const { signal } = this.options;
    if (signal?.aborted)
      return {
        ok: false,
        outcome: {
          result: abortedCell(this.job.cell, 'cancelled', { ...this.common(), samples: this.received }),
          parity: [],
        },
      };
    const left = this.job.sampling.cellTimeoutMs - this.activeMs;
    const start = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    const stop = new Promise<Step<T>>((resolve) => {
      timer = setTimeout(
        () =>
          resolve({
            ok: false,
            outcome: this.failed(`timed out after ${this.job.sampling.cellTimeoutMs / 1000} s (cell timeout)`),
          }),
        Math.max(0, left),
      );
      onAbort = () =>
        resolve({
          ok: false,
          outcome: {
            result: abortedCell(this.job.cell, 'cancelled', { ...this.common(), samples: this.received }),
            parity: [],
          },
        });
      signal?.addEventListener('abort', onAbort, { once: true });
      // Serving calls a step thousands of times: the crash hook is replaced per step, never accumulated.
      this.onCrash = (why) => resolve({ ok: false, outcome: this.failed(`worker error: ${why}`) });
      if (this.crash) this.onCrash(this.crash);
    });
    const done = call().catch((e: unknown): Step<T> => ({
      ok: false,
      outcome: this.failed(errorMessage(e)),
    }));
    try {
      return await Promise.race([done, stop]);
    } finally {
      this.activeMs += performance.now() - start;
      clearTimeout(timer);
      this.onCrash = null;
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  prepare() {
    const onEvent = (event: CellEvent) => {
      if (event.type === 'samples') this.received.push(...event.samples);
      this.options.onEvent?.(event);
    };
    const transfers = Object.values(this.job.files ?? {});
    const job: CellJob = this.createdAt === undefined ? this.job : { ...this.job, workerCreatedAt: this.createdAt };
    return this.race(() =>
      this.steps.prepare(Comlink.transfer(job, transfers), Comlink.proxy(onEvent), Comlink.proxy(measurePageMemory)),
    );
  }

  warmup() {
    return this.race(() => this.steps.warmup());
  }

  sample(count: number) {
    return this.race(() => this.steps.sample(count));
  }

  async finish(facts: FinishFacts): Promise<CellOutcome> {
    const step = await this.race(async (): Promise<Step<CellOutcome>> => ({
      ok: true,
      value: await this.steps.finish(facts),
    }));
    return step.ok ? step.value : step.outcome;
  }

  /** Serving: one pass at `batch` on this worker (raced against the cell's timeout like every step). */
  async serve(batch: number): Promise<Step<{ ms: number; startedAt: number }>> {
    return this.race(async () => ({ ok: true, value: await this.worker().serve(batch) }));
  }

  memory() {
    return this.worker().memory();
  }

  /** Round trip of one sample-sized message through Comlink (the overhead benchmark's boundary cost). */
  echo(sample: Sample): Promise<Sample> {
    return this.worker().echo(sample);
  }

  get remote(): Comlink.Remote<CellWorkerApi> {
    return this.worker();
  }

  terminate(): void {
    if (this.closed) return;
    this.closed = true;
    this.end();
  }
}

/**
 * performance.measureUserAgentSpecificMemory(): the whole page's memory, workers included. Only when
 * cross-origin isolated, and slow, so cells ask for it only when the plan opts in.
 */
async function measurePageMemory(): Promise<{ bytes: number | null; note: string | null }> {
  const perf = performance as Performance & { measureUserAgentSpecificMemory?: () => Promise<{ bytes: number }> };
  if (!crossOriginIsolated) return { bytes: null, note: 'measureUserAgentSpecificMemory needs cross-origin isolation' };
  if (!perf.measureUserAgentSpecificMemory)
    return { bytes: null, note: 'this browser has no measureUserAgentSpecificMemory' };
  try {
    return { bytes: (await perf.measureUserAgentSpecificMemory()).bytes, note: null };
  } catch (e) {
    return {
      bytes: null,
      note: `measureUserAgentSpecificMemory failed: ${errorMessage(e)}`,
    };
  }
}

/**
 * Isolation, timer resolution and backends as a worker sees them (the page's own clock may differ), from the small
 * probe worker: the page does this at load, and the cell worker's code waits until a run needs it.
 */
export async function probeWorker(): Promise<Awaited<ReturnType<ProbeWorkerApi['probe']>>> {
  const probe = started<ProbeWorkerApi>(
    new Worker(new URL('../worker/probe-worker.ts', import.meta.url), { type: 'module', name: 'probe-worker' }),
  );
  return withWorker(probe, (api) => api.probe());
}
