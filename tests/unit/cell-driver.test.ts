/**
 * CellDriver (src/app/worker-bridge.ts) at its seam: a fake channel in place of the Web Worker. Every step races
 * the cell's timeout, the run's abort signal and the worker dying; whichever wins, the cell ends with a result that
 * keeps the samples streamed so far.
 */
import { describe, expect, it } from 'vitest';
import { CellDriver, type CellChannel } from '../../src/app/worker-bridge.ts';
import type { CellEvent, CellJob } from '../../src/lib/contracts/job.ts';
import { buildPlan } from '../../src/lib/plan/plan.ts';
import type { Sample } from '../../src/lib/schema.ts';
import { fakeModel } from './fixtures.ts';

const model = fakeModel('m', ['onnx']);

function job(cellTimeoutMs = 60_000): CellJob {
  const plan = buildPlan(
    { models: ['m'], targets: ['ort:wasm'], batches: [1], sampling: { mode: 'fixed', cellTimeoutMs } },
    [model],
  );
  return { cell: plan.cells[0]!, model, sampling: plan.sampling, modelsBaseUrl: 'http://lab.invalid/models/' };
}

const sample: Sample = {
  preprocess: 0,
  upload: null,
  inference: 1,
  readback: null,
  postprocess: null,
  total: 1,
  iterations: 1,
  at: null,
  segment: null,
  parts: null,
  invocation: 0,
};

/** A channel whose prepare streams two samples, then each step does what `behave` says. */
function channel(behave: { sample: 'hang' | 'ok' }) {
  let died: (why: string) => void = () => undefined;
  let terminated = false;
  const steps = {
    prepare: async (_job: CellJob, onEvent: (e: CellEvent) => void) => {
      onEvent({ type: 'samples', from: 0, samples: [sample, sample] } as CellEvent);
      return { ok: true, value: { coldStart: {}, timerResolutionMs: 0.005 } };
    },
    warmup: async () => ({ ok: true, value: {} }),
    sample: () =>
      behave.sample === 'hang'
        ? new Promise(() => undefined)
        : // An answer that takes a moment, as a worker's does: a timeout already spent must win the race.
          new Promise((r) => setTimeout(() => r({ ok: true, value: { samples: [sample], blockMs: 1 } }), 50)),
    finish: async () => ({ result: { status: 'ok' }, parity: [] }),
  };
  const c: CellChannel = {
    steps: steps as unknown as CellChannel['steps'],
    onError: (listener) => (died = listener),
    terminate: () => (terminated = true),
  };
  return { c, die: (why: string) => died(why), terminated: () => terminated };
}

describe('CellDriver', () => {
  it('a step that never answers ends at the cell timeout, failed, keeping the samples streamed so far', async () => {
    const ch = channel({ sample: 'hang' });
    const d = new CellDriver(job(1_000), {}, ch.c);
    expect((await d.prepare()).ok).toBe(true);
    const t = Date.now();
    const step = await d.sample(10);
    expect(Date.now() - t).toBeGreaterThanOrEqual(900);
    expect(step.ok).toBe(false);
    const r = !step.ok ? step.outcome.result : null;
    expect(r?.status).toBe('failed');
    expect(r?.status === 'failed' && r.error).toMatch(/timed out after 1 s \(cell timeout\)/);
    expect(r && 'samples' in r && r.samples).toHaveLength(2);
  });

  it('a worker that dies mid-step fails the cell with its reason, samples kept', async () => {
    const ch = channel({ sample: 'hang' });
    const d = new CellDriver(job(), {}, ch.c);
    await d.prepare();
    const pending = d.sample(10);
    ch.die('out of memory');
    const step = await pending;
    const r = !step.ok ? step.outcome.result : null;
    expect(r?.status === 'failed' && r.error).toMatch(/worker error: out of memory/);
    expect(r && 'samples' in r && r.samples).toHaveLength(2);
  });

  it('a cancel ends the cell as aborted, samples kept; a step after it does not reach the worker', async () => {
    const ch = channel({ sample: 'hang' });
    const controller = new AbortController();
    const d = new CellDriver(job(), { signal: controller.signal }, ch.c);
    await d.prepare();
    const pending = d.sample(10);
    controller.abort();
    const r = await pending;
    expect(!r.ok && r.outcome.result.status).toBe('aborted');
    expect(!r.ok && 'samples' in r.outcome.result && r.outcome.result.samples).toHaveLength(2);
    const after = await d.warmup();
    expect(!after.ok && after.outcome.result.status).toBe('aborted');
    d.terminate();
    expect(ch.terminated()).toBe(true);
  });

  it("the timeout counts the cell's own steps only: waiting between steps does not use it up", async () => {
    const ch = channel({ sample: 'ok' });
    const d = new CellDriver(job(1_000), {}, ch.c);
    await d.prepare();
    await new Promise((r) => setTimeout(r, 1_200)); // another cell's turn, in an interleaved run
    const step = await d.sample(1);
    expect(step.ok).toBe(true);
  });
});
