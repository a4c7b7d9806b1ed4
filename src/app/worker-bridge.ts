/**
 * Owns one cell worker's life: start it, run one cell over Comlink, stream its events, and terminate it —
 * when the cell ends, on abort, on timeout, or if the worker dies. Whatever samples arrived are kept.
 */
import * as Comlink from 'comlink';
import type { CellEvent, CellJob, CellOutcome } from '../lib/job.ts';
import type { Sample } from '../lib/schema.ts';
import type { CellWorkerApi } from '../worker/cell-worker.ts';

export function startCellWorker(): { api: Comlink.Remote<CellWorkerApi>; worker: Worker } {
  const worker = new Worker(new URL('../worker/cell-worker.ts', import.meta.url), { type: 'module', name: 'cell-worker' });
  return { api: Comlink.wrap<CellWorkerApi>(worker), worker };
}

export interface CellRunOptions {
  onEvent?: (event: CellEvent) => void;
  signal?: AbortSignal;
}

export async function runCellInWorker(job: CellJob, options: CellRunOptions = {}): Promise<CellOutcome> {
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const received: Sample[] = [];
  const { api, worker } = startCellWorker();
  const common = () => ({ cell: job.cell, startedAt, durationMs: performance.now() - t0 });

  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  // Each of these settles with a result that keeps the samples streamed so far.
  const stop = new Promise<CellOutcome>((resolve) => {
    timer = setTimeout(() => {
      resolve({
        result: { status: 'failed', ...common(), phase: 'worker', error: `timed out after ${job.sampling.cellTimeoutMs / 1000} s (cell timeout)`, coldStart: null, samples: received },
        parity: [],
      });
    }, job.sampling.cellTimeoutMs);
    onAbort = () => resolve({ result: { status: 'aborted', ...common(), reason: 'cancelled', samples: received }, parity: [] });
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    worker.addEventListener('error', (e) => {
      resolve({
        result: { status: 'failed', ...common(), phase: 'worker', error: `worker error: ${e.message || 'the worker could not start or crashed'}`, coldStart: null, samples: received },
        parity: [],
      });
    });
  });

  const onEvent = (event: CellEvent) => {
    if (event.type === 'sample') received.push(event.sample);
    options.onEvent?.(event);
  };
  const transfers = Object.values(job.files ?? {});
  const run = api.runCell(Comlink.transfer(job, transfers), Comlink.proxy(onEvent), Comlink.proxy(measurePageMemory)).catch(
    (e: unknown): CellOutcome => ({
      result: { status: 'failed', ...common(), phase: 'worker', error: e instanceof Error ? e.message : String(e), coldStart: null, samples: received },
      parity: [],
    }),
  );
  try {
    return await Promise.race([run, stop]);
  } finally {
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener('abort', onAbort);
    api[Comlink.releaseProxy]();
    worker.terminate();
  }
}

/**
 * performance.measureUserAgentSpecificMemory(): the whole page's memory, workers included. Only when
 * cross-origin isolated, and slow, so cells ask for it only when the plan opts in.
 */
async function measurePageMemory(): Promise<{ bytes: number | null; note: string | null }> {
  const perf = performance as Performance & { measureUserAgentSpecificMemory?: () => Promise<{ bytes: number }> };
  if (!crossOriginIsolated) return { bytes: null, note: 'measureUserAgentSpecificMemory needs cross-origin isolation' };
  if (!perf.measureUserAgentSpecificMemory) return { bytes: null, note: 'this browser has no measureUserAgentSpecificMemory' };
  try {
    return { bytes: (await perf.measureUserAgentSpecificMemory()).bytes, note: null };
  } catch (e) {
    return { bytes: null, note: `measureUserAgentSpecificMemory failed: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** Isolation and timer resolution as a worker sees them (the page's own clock may differ). */
export async function probeWorker(): Promise<Awaited<ReturnType<CellWorkerApi['probe']>>> {
  const { api, worker } = startCellWorker();
  try {
    return await api.probe();
  } finally {
    api[Comlink.releaseProxy]();
    worker.terminate();
  }
}
