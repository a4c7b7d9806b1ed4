import { describe, expect, it } from 'vitest';
import { remainingMs, type EtaCell } from '../../src/lib/plan/eta.ts';
import { runOutcome } from '../../src/lib/report/run-outcome.ts';
import {
  ecdf,
  histogram,
  latencyVs,
  latencyVsBatch,
  medianBars,
  stageStacks,
  sweepAxes,
  throughputVs,
  throughputVsBatch,
  timeline,
} from '../../src/lib/report/chart-data.ts';
import { decodeSetup, encodeSetup, type Setup } from '../../src/lib/plan/setup-url.ts';
import { chromeTrace } from '../../src/lib/report/trace.ts';
import type { OkCellResult, RunResult } from '../../src/lib/schema.ts';

function cell(id: string, totals: number[], batch = 1): OkCellResult {
  const [modelId, target] = id.split('/');
  const [runtime, backend] = target!.split(':');
  const sorted = [...totals].sort((a, b) => a - b);
  const med = sorted[Math.floor(sorted.length / 2)]!;
  return {
    status: 'ok',
    cell: { id, modelId, runtime, backend, batch, threads: 1 },
    startedAt: '2026-11-28T00:00:00.000Z',
    samples: totals.map((t, i) => ({
      preprocess: 0.1,
      upload: null,
      inference: t - 0.1,
      readback: null,
      postprocess: null,
      total: t,
      iterations: 2,
      at: 1000 + i * 10,
    })),
    summary: {
      total: { median: med, medianCI95: [med * 0.9, med * 1.1] },
      preprocess: { median: 0.1 },
      upload: null,
      inference: { median: med - 0.1 },
      readback: null,
      postprocess: null,
    },
    sampling: { warmupPassesMs: [9, 5] },
    steadyState: { steadyStart: 0, changepoints: [], segments: [{ start: 0, end: totals.length, medianMs: med }] },
  } as unknown as OkCellResult;
}

describe('chart data', () => {
  const cells = [
    cell('m/ort:wasm/b1/t1', [2, 2, 2], 1),
    cell('m/ort:wasm/b4/t1', [4, 4, 4], 4),
    cell('m/tfjs:wasm/b1/t1', [1, 1, 1], 1),
  ];
  it('median bars sort fastest first within a model, with CI and budget verdicts', () => {
    const bars = medianBars(cells, (c) => c.summary.total.median <= 2);
    expect(bars.map((b) => [b.label, b.median, b.pass])).toEqual([
      ['m/tfjs:wasm/b1/t1', 1, true],
      ['m/ort:wasm/b1/t1', 2, true],
      ['m/ort:wasm/b4/t1', 4, false],
    ]);
    expect(bars[1]!.lo).toBeCloseTo(1.8);
  });
  it('latency and throughput against batch size, one series per backend', () => {
    const lat = latencyVsBatch(cells);
    expect(lat.map((s) => s.label)).toEqual(['m ort:wasm', 'm tfjs:wasm']);
    expect(lat[0]!.points.map((p) => [p.x, p.y])).toEqual([
      [1, 2],
      [4, 4],
    ]);
    const tp = throughputVsBatch(cells);
    expect(tp[0]!.points.map((p) => p.y)).toEqual([500, 1000]); // 1 item / 2 ms, 4 items / 4 ms
    expect(tp[0]!.points[0]!.lo).toBeCloseTo(1000 / 2.2); // CI flips under 1/x
  });
  it('latency and throughput against a swept dim: one line per backend (and batch), points at the dim values', () => {
    const seq = (id: string, n: number, batch: number, totals: number[]) => {
      const c = cell(id, totals, batch);
      return { ...c, cell: { ...c.cell, dims: { seq: n } } } as OkCellResult;
    };
    const swept = [
      seq('t/ort:wasm/b1/t1/seq=64', 64, 1, [4]),
      seq('t/ort:wasm/b1/t1/seq=16', 16, 1, [1]),
      seq('t/ort:wasm/b2/t1/seq=16', 16, 2, [1.5]),
      seq('t/ort:webgpu/b1/t1/seq=16', 16, 1, [9]),
    ];
    expect(sweepAxes(swept)).toEqual([{ kind: 'batch' }, { kind: 'dim', name: 'seq' }]);
    const axis = { kind: 'dim', name: 'seq' } as const;
    const lat = latencyVs(swept, axis);
    expect(lat.map((s) => s.label)).toEqual(['t ort:wasm b1', 't ort:wasm b2', 't ort:webgpu b1']);
    expect(lat[0]!.points.map((p) => [p.x, p.y])).toEqual([
      [16, 1],
      [64, 4],
    ]);
    // Throughput counts the batch's items: batch 2 at 1.5 ms is 1333 sequences/s.
    expect(throughputVs(swept, axis)[1]!.points[0]!.y).toBeCloseTo(2000 / 1.5);
    // Against batch, the lines split by seq instead.
    expect(latencyVs(swept, { kind: 'batch' }).map((s) => s.label)).toContain('t ort:wasm seq=16');
    expect(sweepAxes(cells)).toEqual([{ kind: 'batch' }]);
  });
  it('stage stacks, ECDF, histogram and the timeline with warm-up', () => {
    expect(stageStacks(cells).stages.find((s) => s.stage === 'inference')!.values).toEqual([1.9, 3.9, 0.9]);
    expect(stageStacks(cells).stages.find((s) => s.stage === 'upload')!.values).toEqual([0, 0, 0]);
    const e = ecdf(cell('x/ort:wasm/b1/t1', [3, 1, 2, 4]));
    expect(e).toEqual([
      { x: 1, y: 0.25 },
      { x: 2, y: 0.5 },
      { x: 3, y: 0.75 },
      { x: 4, y: 1 },
    ]);
    const h = histogram(
      cell(
        'x/ort:wasm/b1/t1',
        Array.from({ length: 100 }, (_, i) => i),
      ),
      10,
    );
    expect(h).toHaveLength(10);
    expect(h.reduce((a, b) => a + b.count, 0)).toBe(100);
    expect(timeline(cells[0]!)).toEqual({
      warmup: [
        { x: -2, y: 9 },
        { x: -1, y: 5 },
      ],
      settling: [],
      samples: [
        { x: 0, y: 2 },
        { x: 1, y: 2 },
        { x: 2, y: 2 },
      ],
      changepoints: [],
      levels: [{ from: 0, to: 2, y: 2, steady: true }],
    });
  });
  it('the timeline splits warm-up samples from steady ones and marks each changepoint; the ECDF shows steady samples', () => {
    const c = cell('x/ort:wasm/b1/t1', [9, 8, 2, 2, 2], 1);
    (c as { steadyState: unknown }).steadyState = {
      steadyStart: 2,
      changepoints: [{ sample: 2, afterMs: 1500, afterPasses: 12, at: null, ratio: 0.25 }],
      segments: [
        { start: 0, end: 2, medianMs: 8.5 },
        { start: 2, end: 5, medianMs: 2 },
      ],
    };
    const t = timeline(c);
    expect(t.settling).toEqual([
      { x: 0, y: 9 },
      { x: 1, y: 8 },
    ]);
    expect(t.samples.map((p) => p.x)).toEqual([2, 3, 4]);
    expect(t.changepoints).toEqual([{ x: 2, label: 'steady from 1.5 s' }]);
    expect(t.levels).toEqual([
      { from: 0, to: 1, y: 8.5, steady: false },
      { from: 2, to: 4, y: 2, steady: true },
    ]);
    expect(ecdf(c).map((p) => p.x)).toEqual([2, 2, 2]);
  });
  it('marks at most 4 level changes before the steady state (the largest) and its start; none inside it', () => {
    const c = cell(
      'x/ort:wasm/b1/t1',
      Array.from({ length: 100 }, () => 1),
      1,
    );
    const cp = (sample: number, ratio: number) => ({
      sample,
      afterMs: sample * 10,
      afterPasses: sample,
      at: null,
      ratio,
    });
    (c as { steadyState: unknown }).steadyState = {
      steadyStart: 60,
      changepoints: [
        cp(5, 0.5),
        cp(10, 1.1),
        cp(20, 0.9),
        cp(30, 0.3),
        cp(40, 1.05),
        cp(50, 2),
        cp(60, 0.8),
        cp(70, 1.4),
        cp(80, 0.7),
      ],
      segments: [{ start: 0, end: 100, medianMs: 1 }],
    };
    expect(timeline(c).changepoints).toEqual([
      { x: 5, label: '×0.50' },
      { x: 20, label: '×0.90' },
      { x: 30, label: '×0.30' },
      { x: 50, label: '×2.00' },
      { x: 60, label: 'steady from 0.6 s' },
    ]);
  });
});

describe('Chrome trace export', () => {
  it('lays each sample out as stage spans in microseconds, one track per cell', () => {
    const run = {
      device: null,
      environment: { browser: { name: 'Chromium', version: '1' } },
      cells: [cell('m/ort:wasm/b1/t1', [2, 3])],
    } as unknown as RunResult;
    const t = chromeTrace([run]);
    const spans = t.traceEvents.filter((e) => e.ph === 'X');
    expect(spans.map((s) => s.name)).toEqual(['preprocess', 'inference', 'preprocess', 'inference']);
    expect(spans[0]).toMatchObject({ ts: 1_000_000, dur: 200, tid: 1 }); // 0.1 ms per pass x 2 passes
    expect(spans[1]!.ts).toBeCloseTo(1_000_200);
    expect(spans[1]!.dur).toBeCloseTo(3800); // 1.9 ms x 2 passes
    expect(t.traceEvents.find((e) => e.name === 'thread_name')!.args).toEqual({ name: 'm/ort:wasm/b1/t1' });
  });
});

describe('setup link', () => {
  const setup: Setup = {
    model: 'tiny-cnn',
    targets: ['ort:wasm', 'tfjs:wasm'],
    batch: '1, 4, 16',
    threads: '1',
    ortBuilds: ['wasm', 'default'],
    variants: ['fp32', 'int8'],
    mode: 'auto',
    targetPct: 2,
    minSamples: 10,
    maxSamples: 500,
    maxSamplingS: 10,
    samples: 30,
    warmup: 5,
    coldStarts: 3,
    invocations: 4,
    interleave: true,
    seed: '42',
    budget: 'p95 <= 16ms',
    dims: { height: [64], seq: [16, 64, 256] },
    values: { x: { kind: 'range', min: -1, max: 1 }, n: { kind: 'constant', value: 3 } },
  };
  it('round-trips', () => {
    const { setup: back, errors } = decodeSetup(`#${encodeSetup(setup)}`);
    expect(errors).toEqual([]);
    expect(back).toEqual(setup);
  });
  it('names unknown keys and bad values, and keeps the rest', () => {
    const { setup: s, errors } = decodeSetup('#model=tiny-cnn&colour=blue&batch=1,x&mode=fast&val.x=sometimes');
    expect(s).toEqual({ model: 'tiny-cnn' });
    expect(errors).toEqual([
      expect.stringMatching(/unknown key 'colour' \(ignored\); known keys: model, targets/),
      expect.stringMatching(/batch=1,x: not a comma-separated list/),
      expect.stringMatching(/mode=fast: not auto or fixed/),
      expect.stringMatching(/val\.x=sometimes: not random, zeros/),
    ]);
    expect(decodeSetup('#model=<script>').errors[0]).toMatch(/not a model id/);
    expect(decodeSetup('#variants=fp32,int4').errors[0]).toMatch(/variants=fp32,int4: not a list of fp32, fp16, int8/);
  });
  it('leaves variants out when only fp32 is asked for (links made before variants read the same)', () => {
    expect(encodeSetup({ ...setup, variants: ['fp32'] })).not.toMatch(/variants/);
    expect(encodeSetup(setup)).toMatch(/variants=fp32%2Cint8/);
  });
});

describe('run outcome in the history', () => {
  it('counts cells by status and colours by the worst', () => {
    expect(runOutcome([{ status: 'unsupported' }, { status: 'unsupported' }, { status: 'failed' }])).toEqual({
      counts: { ok: 0, unsupported: 2, failed: 1, aborted: 0 },
      worst: 'failed',
      text: '2 unsupported · 1 failed',
    });
    expect(runOutcome([{ status: 'ok' }, { status: 'ok' }]).worst).toBe('ok');
    expect(runOutcome([]).text).toBe('no cells yet');
  });
});

describe('time left in a run', () => {
  it('expects each cell to take what finished cells of its runtime:backend took, not the mean so far', () => {
    const cells: EtaCell[] = [
      { key: 'm ort:wasm', status: 'done', ms: 1_000 },
      { key: 'm ort:wasm', status: 'done', ms: 3_000 },
      { key: 'm tfjs:cpu', status: 'done', ms: 40_000 },
      { key: 'm tfjs:cpu', status: 'waiting', ms: null },
      { key: 'm ort:wasm', status: 'running', ms: 500 },
      { key: 'm tfjs:wasm', status: 'waiting', ms: null },
    ];
    // tfjs:cpu 40 s + ort:wasm (2 s - 0.5 s) + tfjs:wasm at the overall mean (44 s / 3)
    expect(remainingMs(cells)).toBeCloseTo(40_000 + 1_500 + 44_000 / 3);
    expect(remainingMs([{ key: 'a', status: 'waiting', ms: null }])).toBeNull();
  });
});
