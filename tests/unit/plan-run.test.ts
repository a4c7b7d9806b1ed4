/**
 * The run's procedure (src/app/plan-run.ts) at its seam, without a browser: each invocation gets a fake channel in
 * place of a Web Worker (RunOptions.channelFor), whose samples sit at a level the test chooses per cell and
 * invocation. Checks the rounds (A1 B1, then A2 B2 ...), the merge, pairing, an invocation that fails after others
 * succeeded, a cell that fails at once, and a cancel.
 */
import { describe, expect, it } from 'vitest';
import { PlanRun } from '../../src/app/plan-run.ts';
import type { CellChannel } from '../../src/app/worker-bridge.ts';
import type { CellJob, CellOutcome, FinishFacts } from '../../src/lib/contracts/job.ts';
import { compareToFastest } from '../../src/lib/measure/compare.ts';
import { buildPlan } from '../../src/lib/plan/plan.ts';
import { okCells, type OkCellResult, type Sample } from '../../src/lib/schema.ts';
import { fakeEnvironment, fakeModel, okCell } from './fixtures.ts';

const model = fakeModel('m', ['onnx', 'tfjs-layers']);
const environment = fakeEnvironment();

interface FakeWorld {
  /** "open <cell> <invocation>" and "close <cell>" in the order they happened. */
  log: string[];
  /**
   * Level (ms per pass) of a cell's invocation k; a string: that invocation fails with it at warm-up, or, prefixed
   * `sample:`, at its first sample block.
   */
  level: (cellId: string, k: number) => number | string;
}

/** A channel that plays one invocation of a cell: its samples sit at the level the world gives it. */
function fakeChannels(world: FakeWorld): (job: CellJob) => CellChannel {
  const opened = new Map<string, number>();
  return (job) => {
    const id = job.cell.id;
    const k = opened.get(id) ?? 0;
    opened.set(id, k + 1);
    const level = world.level(id, k);
    let taken = 0;
    const sample = (i: number): Sample => ({
      preprocess: 0,
      upload: null,
      inference: typeof level === 'number' ? level : 0,
      readback: null,
      postprocess: null,
      // A little scatter, so each invocation has its own CI.
      total: typeof level === 'number' ? level * (1 + 0.002 * Math.sin(i)) : 0,
      iterations: 1,
      at: null,
      segment: null,
      parts: null,
      invocation: 0,
    });
    const steps = {
      prepare: async () => {
        world.log.push(`open ${id} ${k}`);
        return {
          ok: true,
          value: { coldStart: { sessionCreateMs: 1, firstInferenceMs: 1 }, timerResolutionMs: 0.005 },
        };
      },
      warmup: async () => {
        if (typeof level === 'string' && !level.startsWith('sample:'))
          return { ok: false, outcome: failedOutcome(job, level) };
        const warm = { passes: 5, ownPasses: 5, passMs: [1, 1, 1, 1, 1], stop: 'primed', totalMs: 5 };
        return { ok: true, value: { ...warm, iterations: { iterations: 1, why: 'fixed' } } };
      },
      sample: async (n: number) => {
        if (typeof level === 'string') return { ok: false, outcome: failedOutcome(job, level.slice(7)) };
        const samples = Array.from({ length: n }, () => sample(taken++));
        return { ok: true, value: { samples, blockMs: n * (level as number) } };
      },
      finish: async (facts: FinishFacts): Promise<CellOutcome> => {
        const base = okCell('m/ort:wasm/b1', level as number, 7, taken);
        const samples = Array.from({ length: taken }, (_, i) => sample(i));
        const result: OkCellResult = { ...base, cell: job.cell, samples, sampling: facts.sampling };
        result.summary.total.median = level as number;
        result.summary.total.medianCI95 = [(level as number) * 0.995, (level as number) * 1.005];
        return { result, parity: [] };
      },
    };
    return {
      steps: steps as unknown as CellChannel['steps'],
      onError: () => undefined,
      terminate: () => undefined,
    };
  };
}

function failedOutcome(job: CellJob, error: string): CellOutcome {
  return {
    result: {
      status: 'failed',
      cell: job.cell,
      startedAt: '',
      durationMs: 0,
      phase: 'warmup',
      error,
      coldStart: null,
      samples: [],
    },
    parity: [],
  };
}

async function runWith(world: FakeWorld, sampling: Record<string, unknown>, signal?: AbortSignal) {
  const plan = buildPlan(
    { models: ['m'], targets: ['ort:wasm', 'tfjs:wasm'], batches: [1], order: 'matrix', seed: 3, sampling },
    [model],
  );
  const cells = await new PlanRun(plan, [model], environment, {
    modelsBaseUrl: 'http://lab.invalid/models/',
    source: 'api',
    signal,
    channelFor: fakeChannels(world),
    onCellDone: (_, r) => world.log.push(`close ${r.cell.id}`),
  }).run();
  return { plan, cells };
}

const A = 'm/ort:wasm@wasm/b1/t1';
const B = 'm/tfjs:wasm/b1/t1';

describe('PlanRun with invocations', () => {
  it('runs invocations in rounds, merges each cell, and pairs the comparison by round', async () => {
    const world: FakeWorld = { log: [], level: (id, k) => (id === A ? 1 : 2) * (1 + 0.01 * k) };
    const { cells } = await runWith(world, { mode: 'fixed', samples: 12, warmup: 1, invocations: 3 });
    // Round k holds invocation k of both cells before any invocation k + 1 starts.
    const opens = world.log.filter((l) => l.startsWith('open')).map((l) => Number(l.split(' ')[2]));
    expect(opens).toEqual([0, 0, 1, 1, 2, 2]);
    // Each cell is closed once, right after its last invocation (not before).
    expect(world.log.filter((l) => l.startsWith('close'))).toHaveLength(2);
    expect(world.log.indexOf(`close ${A}`)).toBeGreaterThan(world.log.lastIndexOf(`open ${A} 2`));
    const ok = okCells(cells);
    const a = ok.find((c) => c.cell.id === A)!;
    expect(a.invocations).toHaveLength(3);
    expect(a.samples).toHaveLength(36);
    expect(a.summary.total.median).toBeCloseTo(1.01, 9); // mean of 1, 1.01, 1.02
    const vs = compareToFastest(ok).get(B)!;
    expect(vs.method).toBe('paired');
    expect(vs.pairs).toBe(3);
    expect(vs.ratio).toBeCloseTo(2, 6); // each round's ratio is exactly 2: the paired CI is tight around it
    expect(vs.ci95[1] - vs.ci95[0]).toBeLessThan(0.01);
    expect(vs.verdict).toBe('slower');
  });

  it('an invocation that fails after others keeps what they measured, with a warning; a first one ends the cell', async () => {
    const world: FakeWorld = {
      log: [],
      level: (id, k) => (id === A ? (k === 2 ? 'out of memory' : 1) : 'no kernel for op X'),
    };
    const { cells } = await runWith(world, { mode: 'fixed', samples: 12, warmup: 1, invocations: 3 });
    const a = cells.find((c) => c.cell.id === A)!;
    expect(a.status).toBe('ok');
    expect((a as OkCellResult).invocations).toHaveLength(2);
    expect((a as OkCellResult).warnings.join(' ')).toMatch(/invocation 3 did not complete \(warmup: out of memory\)/);
    const b = cells.find((c) => c.cell.id === B)!;
    expect(b.status).toBe('failed');
    // A cell whose first invocation failed takes no more: opened once.
    expect(world.log.filter((l) => l.startsWith(`open ${B}`))).toEqual([`open ${B} 0`]);
  });

  it('an invocation that fails mid-sampling is recorded once, and its ended worker is not asked to finish', async () => {
    const world: FakeWorld = { log: [], level: (id, k) => (k === 1 ? 'sample:worker lost' : id === A ? 1 : 2) };
    const { cells } = await runWith(world, { mode: 'fixed', samples: 12, warmup: 1, invocations: 3 });
    for (const c of okCells(cells)) {
      expect(c.invocations).toHaveLength(1);
      const about = c.warnings.filter((w) => w.startsWith('invocation 2 did not complete'));
      expect(about).toEqual([
        "invocation 2 did not complete (warmup: worker lost): the cell's numbers come from the 1 before it",
      ]);
    }
  });

  it('auto mode runs a pilot of three and stops adding invocations once the level is precise', async () => {
    const world: FakeWorld = { log: [], level: (id) => (id === A ? 1 : 1.5) };
    const { cells } = await runWith(world, { maxSamplingMs: 2000, minWarmupMs: 0, targetCI: 0.02, minSamples: 6 });
    for (const c of okCells(cells)) {
      expect(c.invocations).toHaveLength(3);
      expect(c.sampling.stopReason).toBe('precision-reached');
    }
  });

  it('a cancel before the run starts leaves every cell aborted, and nothing is opened', async () => {
    const world: FakeWorld = { log: [], level: () => 1 };
    const controller = new AbortController();
    controller.abort();
    const { cells } = await runWith(world, { mode: 'fixed', samples: 6, invocations: 2 }, controller.signal);
    expect(cells.map((c) => c.status)).toEqual(['aborted', 'aborted']);
    expect(world.log.filter((l) => l.startsWith('open'))).toEqual([]);
  });
});
