import { describe, expect, it } from 'vitest';
import { parseBudget } from '../../src/lib/plan/budget.ts';
import type { CellResult, OkCellResult, RunResult } from '../../src/lib/schema.ts';
import type { FirstVisit, FirstVisits } from '../../src/lib/schema/first-visit.ts';
import { firstResultOutcome, paretoSet, runVerdicts, type VerdictCandidate } from '../../src/lib/report/verdict.ts';
import { verdictHeadline, verdictLines, candidateRows } from '../../src/lib/report/verdict-words.ts';
import { okCell } from './fixtures.ts';

function run(cells: CellResult[], extra: Partial<RunResult> = {}): RunResult {
  return { device: null, firstVisits: null, cells, ...extra } as unknown as RunResult;
}

/** An ok cell with model bytes, a cold start and (optionally) a variant. */
function cell(id: string, ms: number, seed: number, over: Partial<OkCellResult> = {}): OkCellResult {
  const c = okCell(id, ms, seed);
  return { ...c, modelBytes: { raw: 1000, compressed: null }, ...over };
}

const failed = (id: string): CellResult => {
  const c = okCell(id, 1, 9);
  return {
    status: 'failed',
    cell: c.cell,
    startedAt: '',
    durationMs: 1,
    phase: 'session',
    error: 'boom',
    coldStart: null,
    samples: [],
  };
};

describe('runVerdicts', () => {
  it('picks the fastest eligible cell and says the runner-up is slower with its CI', () => {
    const [v] = runVerdicts(run([cell('m/tfjs:wasm/b1', 13, 1), cell('m/ort:wasm/b1', 10, 2)]));
    expect(v!.pick!.id).toBe('m/ort:wasm/b1');
    expect(v!.runnerUp!.id).toBe('m/tfjs:wasm/b1');
    expect(v!.comparison!.verdict).toBe('slower');
    expect(v!.comparison!.ratio).toBeCloseTo(1.3, 1);
    expect(v!.tiedWith).toEqual([]);
    const h = verdictHeadline(v!);
    expect(h).toMatch(
      /^ship ort:wasm .*the runner-up tfjs:wasm .* is 1\.\d\dx slower \(ratio 1\.\d{3}, 95% CI 1\.\d+–1\.\d+, one invocation's passes/,
    );
  });

  it('says no clear winner when the CI overlaps, and still names the pick by median', () => {
    const [v] = runVerdicts(run([cell('m/tfjs:wasm/b1', 10.02, 3), cell('m/ort:wasm/b1', 10, 4)]));
    expect(v!.comparison!.verdict).toBe('indistinguishable');
    expect(v!.tiedWith).toEqual([v!.runnerUp!.id]);
    const h = verdictHeadline(v!);
    expect(h).toContain('no clear winner between');
    expect(h).toContain(`ship ${v!.pick!.label}`);
    expect(h).toMatch(/95% CI/);
  });

  it('leaves out failed, unsupported, flagged, unmeasured variants, parity failures, software GPUs and crowded cells, with reasons', () => {
    const flagged = cell('m/ort:wasm/b1', 5, 5, {
      agreement: {
        referenceCellId: 'x',
        outputs: [],
        top1: null,
        minCosine: 0.99,
        flagged: true,
        reason: 'top-1 changed',
      },
    });
    flagged.cell = { ...flagged.cell, variant: 'int8', id: 'm/ort:wasm/b1/int8' };
    const unmeasured = cell('m/ort:wasm/b1', 6, 6);
    unmeasured.cell = { ...unmeasured.cell, variant: 'fp16', id: 'm/ort:wasm/b1/fp16' };
    const good16 = cell('m/ort:wasm/b1', 7, 7, {
      agreement: { referenceCellId: 'x', outputs: [], top1: null, minCosine: 0.99, flagged: false, reason: null },
    });
    good16.cell = { ...good16.cell, variant: 'fp16', id: 'm/ort:wasm/b1/fp16b' };
    const parity = cell('m/tfjs:cpu/b1', 1, 8, {
      parity: {
        referenceCellId: 'r',
        maxAbsDiff: 1,
        mismatch: null,
        comparedValues: 4,
        tolerance: 1e-3,
        withinTolerance: false,
      },
    });
    const gpu = cell('m/ort:webgpu/b1', 0.5, 9);
    gpu.validity = { ...gpu.validity, softwareGpu: true };
    const crowded = cell('m/tfjs:wasm/b1', 0.4, 11);
    crowded.validity = { ...crowded.validity, overlapped: ['a run in another tab of the lab'] };
    const unsupported: CellResult = {
      status: 'unsupported',
      cell: okCell('m/ort:webnn/b1', 1, 1).cell,
      startedAt: '',
      durationMs: 0,
      reason: 'no WebNN',
    };
    const cells = [
      flagged,
      unmeasured,
      good16,
      parity,
      gpu,
      crowded,
      unsupported,
      failed('m/tfjs:webgl/b1'),
      cell('m/ort:wasm/b1', 9, 10),
    ];
    const [v] = runVerdicts(run(cells));
    expect(v!.pick!.id).toBe('m/ort:wasm/b1/fp16b');
    const why = Object.fromEntries(v!.excluded.map((e) => [e.id, e.why]));
    expect(why['m/ort:wasm/b1/int8']).toContain('top-1 changed');
    expect(why['m/ort:wasm/b1/fp16']).toContain('not measured');
    expect(why['m/tfjs:cpu/b1']).toContain('outputs differ');
    expect(why['m/ort:webgpu/b1']).toContain('software GPU');
    expect(why['m/tfjs:wasm/b1']).toBe(
      'measured while a run in another tab of the lab ran: run it again alone to judge it',
    );
    expect(why['m/ort:webnn/b1']).toBe('unsupported: no WebNN');
    expect(why['m/tfjs:webgl/b1']).toBe('failed: boom');
    expect(verdictLines([v!]).join('\n')).toContain(
      'excluded m/ort:wasm/b1/int8: int8 variant disagrees with fp32: top-1 changed',
    );
  });

  it('applies budgets that name a cell; a model with nothing left says so', () => {
    const rules = [parseBudget('m ort:wasm median <= 8ms')];
    const [v] = runVerdicts(run([cell('m/tfjs:wasm/b1', 12, 1), cell('m/ort:wasm/b1', 10, 2)]), { rules });
    expect(v!.pick!.id).toBe('m/tfjs:wasm/b1');
    expect(v!.excluded[0]!.why).toMatch(/budget m ort:wasm median <= 8ms breached \(10\.\d ms\)/);
    expect(v!.budgets).toEqual(['m ort:wasm median <= 8ms']);
    const [none] = runVerdicts(run([cell('m/ort:wasm/b1', 10, 2)]), { rules });
    expect(none!.pick).toBeNull();
    expect(verdictHeadline(none!)).toMatch(/^nothing to ship/);
  });

  it('gives one verdict per model and batch size, and per device', () => {
    const vs = runVerdicts(
      run([cell('a/ort:wasm/b1', 1, 1), cell('a/ort:wasm/b4', 3, 2), cell('b/ort:wasm/b1', 2, 3)], { device: 'phone' }),
    );
    expect(vs.map((v) => `${v.device} ${v.modelId} b${v.batch}`)).toEqual(['phone a b1', 'phone a b4', 'phone b b1']);
    expect(verdictHeadline(vs[0]!)).toContain('the only configuration that qualifies');
  });

  it('takes bytes from the result, else the manifest, else says unknown; Pareto on latency and bytes', () => {
    const small = cell('m/tfjs:wasm/b1', 12, 1, { modelBytes: { raw: 100, compressed: null } });
    const fromManifest = cell('m/tfjs:cpu/b1', 20, 2, { modelBytes: null });
    const unknown = cell('m/ort:webgl/b1', 30, 3, { modelBytes: null });
    unknown.cell = { ...unknown.cell, variant: 'int8' };
    unknown.agreement = {
      referenceCellId: 'x',
      outputs: [],
      top1: null,
      minCosine: 0.99,
      flagged: false,
      reason: null,
    };
    const [v] = runVerdicts(run([small, fromManifest, unknown, cell('m/ort:wasm/b1', 10, 4)]), {
      manifestBytes: (c) => (c.variant === 'fp32' ? 5000 : null),
    });
    expect(v!.pareto).toEqual(['m/tfjs:wasm/b1', 'm/ort:wasm/b1']);
    expect(v!.bytesUnknown).toEqual(['m/ort:webgl/b1']);
    const rows = candidateRows(v!);
    expect(rows.find((r) => r[1] === 'm/tfjs:cpu/b1')![4]).toContain('(manifest)');
    expect(rows.find((r) => r[1] === 'm/ort:webgl/b1')![6]).toBe('unknown');
  });

  it('counts the inferences after which the steady pick pays back a slower first visit', () => {
    const a = cell('m/ort:wasm/b1', 10, 1);
    const b = cell('m/tfjs:wasm/b1', 14, 2);
    const visit = (cellId: string, ms: number): FirstVisit =>
      ({ cellId, profile: '4g', visit: 'first', status: 'ok', firstResultMs: ms }) as FirstVisit;
    const fv = {
      profiles: [{ name: '4g' }],
      visits: [visit('m/ort:wasm/b1', 3000), visit('m/tfjs:wasm/b1', 1000)],
    } as unknown as FirstVisits;
    const [v] = runVerdicts(run([a, b], { firstVisits: fv }));
    const g = v!.firstResult.find((f) => f.profile === '4g')!;
    expect(g.quickest!.id).toBe('m/tfjs:wasm/b1');
    // 2000 ms later, ~4 ms a pass faster: ~500 inferences.
    expect(g.paysBackAfter).toBeGreaterThan(450);
    expect(g.paysBackAfter).toBeLessThan(560);
    expect(verdictLines([v!]).join('\n')).toMatch(/first visit on 4g \(emulated\).*makes that up after \d+ inferences/);
  });
});

describe('paretoSet and firstResultOutcome', () => {
  const c = (id: string, medianMs: number, total: number | null) =>
    ({ id, medianMs, bytes: { total } }) as unknown as VerdictCandidate;
  it('keeps what no other beats on both, ties on both kept', () => {
    expect(paretoSet([c('a', 1, 10), c('b', 2, 5), c('c', 3, 6), c('d', 1, 10), c('e', 0.5, null)])).toEqual([
      'b',
      'a',
      'd',
    ]);
  });
  it('never pays back when the quicker start is not slower per pass', () => {
    const out = firstResultOutcome('lab', false, [c('a', 1, 1), c('b', 1, 1)], (x) => (x.id === 'a' ? 50 : 10));
    expect(out.paysBackAfter).toBe(Infinity);
    const same = firstResultOutcome('lab', false, [c('a', 1, 1), c('b', 2, 1)], (x) => (x.id === 'a' ? 5 : 10));
    expect(same.paysBackAfter).toBeNull();
    expect(same.quickest!.id).toBe('a');
  });
});
