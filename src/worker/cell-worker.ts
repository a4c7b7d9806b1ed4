/**
 * The cell worker: one per cell, started by the page, terminated after its cell. It exposes a small API over
 * Comlink; the page derives its types from `CellWorkerApi`, so the two can't drift. A cell is driven in steps
 * (prepare -> warmup -> sample blocks -> finish) so the page can interleave blocks across live cells.
 */
import * as Comlink from 'comlink';
import type { CellEvent, CellJob, CellOutcome, FinishFacts, Step } from '../lib/contracts/job.ts';
import type { Sample } from '../lib/schema.ts';
import { CellRun } from './pipeline.ts';
import type { MeasureMemory } from './cell-load.ts';

let run: CellRun | null = null;

/** Output prefixes are transferred, not copied. */
function transferOutcome(outcome: CellOutcome): CellOutcome {
  return Comlink.transfer(
    outcome,
    outcome.parity.map((p) => p.values.buffer as ArrayBuffer),
  );
}

function transferStep<T>(step: Step<T>): Step<T> {
  return step.ok
    ? step
    : Comlink.transfer(
        step,
        step.outcome.parity.map((p) => p.values.buffer as ArrayBuffer),
      );
}

function current(): CellRun {
  if (!run) throw new Error('no cell is prepared in this worker');
  return run;
}

const api = {
  /** Cold start through the first inference. */
  async prepare(job: CellJob, onEvent: (event: CellEvent) => void, measureMemory?: MeasureMemory) {
    // Events are fire-and-forget: the worker never waits on the page between samples.
    run = new CellRun(job, (e) => void onEvent(e), measureMemory);
    return transferStep(await run.prepare());
  },

  async warmup() {
    return transferStep(await current().warmup());
  },

  async sample(count: number) {
    return transferStep(await current().sample(count));
  },

  async finish(facts: FinishFacts): Promise<CellOutcome> {
    const outcome = await current().finish(facts);
    run = null;
    return transferOutcome(outcome);
  },

  /** Serving: one pass at the batch size the page's batcher chose. */
  async serve(batch: number) {
    return current().serve(batch);
  },

  memory() {
    return current().memory();
  },

  /** Round trip of one sample-sized message: the worker boundary's cost, for the overhead benchmark. */
  echo(sample: Sample): Sample {
    return sample;
  },

  /** A native reference cell's inputs (src/worker/native-inputs.ts); loaded only when asked for. */
  async nativeInputs(job: CellJob) {
    const { nativeInputs } = await import('./native-inputs.ts');
    return nativeInputs(job);
  },

  /** The ORT webgpu sync benchmark (scripts/bench-webgpu-sync.ts); loaded only when asked for. */
  async benchGpuSync(job: CellJob, rounds: number) {
    const { benchGpuSync } = await import('./bench-gpu-sync.ts');
    return benchGpuSync(job, rounds);
  },

  /** The harness overhead benchmark (scripts/bench-overhead.ts); loaded only when asked for. */
  async benchOverhead(job: CellJob, rounds: number, block: number, iterations = 1) {
    const { benchOverhead } = await import('./bench-overhead.ts');
    return benchOverhead(job, rounds, block, iterations);
  },

  /** A bare loop of the runtime's API for some seconds, every pass timed (scripts/bench-steady.ts). */
  async benchBareLoop(job: CellJob, seconds: number) {
    const { benchBareLoop } = await import('./bench-bare-loop.ts');
    return benchBareLoop(job, seconds);
  },
};

export type CellWorkerApi = typeof api;

Comlink.expose(api);
