import { describe, expect, it } from 'vitest';
import { buildPlan, type PlanRequest } from '../../src/lib/plan/plan.ts';
import type { ModelInfo } from '../../src/lib/models/manifest.ts';
import { fakeModel } from './fixtures.ts';
import { parseTarget, PlanError } from '../../src/lib/plan/target-parse.ts';

const model = (id: string, formats: ModelInfo['formats'][number]['format'][]): ModelInfo => fakeModel(id, formats);
const zoo = [model('both', ['onnx', 'tfjs-layers']), model('onnx-only', ['onnx'])];
const base: PlanRequest = {
  models: ['both'],
  targets: ['ort:wasm', 'tfjs:cpu'],
  batches: [1, 4],
  order: 'matrix',
  sampling: { mode: 'fixed', samples: 10, warmup: 2, cellTimeoutMs: 60_000 },
};

describe('parseTarget', () => {
  it('accepts runtime:backend pairs', () => {
    expect(parseTarget('ort:wasm')).toEqual({ runtime: 'ort', backend: 'wasm' });
    expect(parseTarget(' tfjs:webgpu ')).toEqual({ runtime: 'tfjs', backend: 'webgpu' });
  });
  it('names what is wrong and what is valid', () => {
    expect(() => parseTarget('ort:cpu')).toThrow(
      /runtime 'ort' has no backend 'cpu'; valid: wasm, webgl, webgpu, webnn/,
    );
    expect(() => parseTarget('onnx:wasm')).toThrow(/unknown runtime 'onnx'.*ort, tfjs, litert, calib/);
    expect(() => parseTarget('wasm')).toThrow(PlanError);
  });
});

describe('buildPlan', () => {
  it('makes one cell per model x target x batch, with formats picked per runtime', () => {
    const plan = buildPlan(base, zoo);
    expect(plan.cells.map((c) => c.id)).toEqual([
      'both/ort:wasm@wasm/b1/t1',
      'both/ort:wasm@wasm/b4/t1',
      'both/tfjs:cpu/b1/t1',
      'both/tfjs:cpu/b4/t1',
    ]);
    expect(plan.cells.map((c) => c.format)).toEqual(['onnx', 'onnx', 'tfjs-layers', 'tfjs-layers']);
    expect(plan.order).toBe('matrix');
  });
  it('multiplies threads only on wasm backends', () => {
    const plan = buildPlan({ ...base, batches: [1], threads: [1, 2] }, zoo);
    expect(plan.cells.map((c) => c.id)).toEqual([
      'both/ort:wasm@wasm/b1/t1',
      'both/ort:wasm@wasm/b1/t2',
      'both/tfjs:cpu/b1/t1',
    ]);
  });
  it('keeps unknown models and missing formats as cells, unless asked to skip missing formats', () => {
    const plan = buildPlan({ ...base, models: ['nope', 'onnx-only'], batches: [1] }, zoo);
    expect(plan.cells.map((c) => [c.id, c.format])).toEqual([
      ['nope/ort:wasm@wasm/b1/t1', null],
      ['nope/tfjs:cpu/b1/t1', null],
      ['onnx-only/ort:wasm@wasm/b1/t1', 'onnx'],
      ['onnx-only/tfjs:cpu/b1/t1', null],
    ]);
    const skipped = buildPlan({ ...base, models: ['onnx-only'], batches: [1], skipMissingFormats: true }, zoo);
    expect(skipped.cells.map((c) => c.id)).toEqual(['onnx-only/ort:wasm@wasm/b1/t1']);
  });
  it('ORT builds: the recommended one per backend by default, a list is a matrix dimension, @build names one', () => {
    const one = (request: Partial<typeof base>) =>
      buildPlan({ ...base, batches: [1], ...request }, zoo).cells.map((c) => [c.id, c.build]);
    expect(one({ targets: ['ort:wasm', 'ort:webgpu', 'ort:webgl', 'ort:webnn', 'tfjs:cpu'] })).toEqual([
      ['both/ort:wasm@wasm/b1/t1', 'wasm'],
      ['both/ort:webgpu@webgpu/b1/t1', 'webgpu'],
      ['both/ort:webgl@webgl/b1/t1', 'webgl'],
      ['both/ort:webnn@default/b1/t1', 'default'],
      ['both/tfjs:cpu/b1/t1', null],
    ]);
    // A list multiplies ORT targets by the builds that have their backend (webgl only in /all and /webgl).
    expect(one({ targets: ['ort:wasm', 'ort:webgl'], ortBuilds: ['wasm', 'default', 'all'] })).toEqual([
      ['both/ort:wasm@wasm/b1/t1', 'wasm'],
      ['both/ort:wasm@default/b1/t1', 'default'],
      ['both/ort:wasm@all/b1/t1', 'all'],
      ['both/ort:webgl@all/b1/t1', 'all'],
    ]);
    expect(one({ targets: ['ort:wasm@jspi'], ortBuilds: ['wasm'] })).toEqual([['both/ort:wasm@jspi/b1/t1', 'jspi']]);
  });
  it('ORT builds that cannot be used are refused by name, with the valid ones', () => {
    expect(() => parseTarget('ort:webgl@wasm')).toThrow(
      /build 'wasm' \(onnxruntime-web\/wasm\) has no webgl backend; builds with it: all, webgl/,
    );
    expect(() => parseTarget('ort:wasm@fast')).toThrow(
      /unknown ORT build 'fast'.*valid: wasm, default, webgpu, jspi, all, webgl/,
    );
    expect(() => parseTarget('tfjs:wasm@wasm')).toThrow(/only ort has builds/);
    expect(() => buildPlan({ ...base, targets: ['ort:webgl'], ortBuilds: ['wasm'] }, zoo)).toThrow(
      /ort:webgl: none of the ORT builds wasm has the webgl backend/,
    );
    expect(() => buildPlan({ ...base, ortBuilds: ['turbo'] }, zoo)).toThrow(
      /unknown ORT build 'turbo'; valid: recommended, wasm/,
    );
  });
  it('orders cells from a recorded seed by default, and interleaves only when asked', () => {
    const { order: _drop, ...rest } = base;
    const plan = buildPlan({ ...rest, seed: 3 }, zoo);
    expect(plan.order).toBe('seeded-shuffle');
    expect(plan.seed).toBe(3);
    expect(plan.schedule).toBe('sequential');
    expect(buildPlan({ ...base, schedule: 'interleaved', liveCells: 3 }, zoo)).toMatchObject({
      schedule: 'interleaved',
      liveCells: 3,
    });
    expect(() => buildPlan({ ...base, schedule: 'interleaved', liveCells: 1 }, zoo)).toThrow(
      /live cells: 1 is not a whole number in 2\.\.32/,
    );
    // The input values do not follow the order seed: a reshuffled run still sees the same inputs.
    expect(buildPlan({ ...base, seed: 9 }, zoo).cells[0]!.inputSeed).toBe(1);
  });
  it('sweeps symbolic dims: one cell per value, on the models and inputs that have the dim', () => {
    const text: ModelInfo = {
      ...model('text', ['onnx']),
      inputs: [
        { name: 'ids', dtype: 'int64', shape: ['batch', 'seq'] },
        { name: 'extra', dtype: 'float32', shape: ['batch', 4] },
      ],
    };
    const plan = buildPlan(
      {
        ...base,
        models: ['text', 'both'],
        targets: ['ort:wasm'],
        batches: [1],
        dims: { seq: [16, 64] },
        inputOverrides: { text: { ids: { values: { kind: 'zeros' } } } },
      },
      [...zoo, text],
    );
    expect(plan.cells.map((c) => c.id)).toEqual([
      'text/ort:wasm@wasm/b1/t1/seq=16',
      'text/ort:wasm@wasm/b1/t1/seq=64',
      'both/ort:wasm@wasm/b1/t1',
    ]);
    const c64 = plan.cells[1]!;
    expect(c64.dims).toEqual({ seq: 64 });
    // The dim lands on the input that has it, next to that input's own policy; the other input is untouched.
    expect(c64.inputOverrides).toEqual({ ids: { values: { kind: 'zeros' }, dims: { seq: 64 } } });
    expect(plan.cells[2]!.dims).toEqual({});
    // Two swept dims: every combination.
    const two: ModelInfo = {
      ...text,
      id: 'two',
      inputs: [{ name: 'img', dtype: 'float32', shape: ['batch', 3, 'h', 'w'] }],
    };
    const grid = buildPlan(
      { ...base, models: ['two'], targets: ['ort:wasm'], batches: [1], dims: { h: [8, 16], w: [32, 64] } },
      [two],
    );
    expect(grid.cells.map((c) => `${c.dims.h}x${c.dims.w}`)).toEqual(['8x32', '8x64', '16x32', '16x64']);
  });
  it("refuses a model whose symbolic dims have no value, naming them all at once, in the caller's words", () => {
    const free: ModelInfo = {
      ...model('free', ['onnx']),
      inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 3, 'h', 'w'] }],
      dimDefaults: {},
    };
    expect(() => buildPlan({ ...base, models: ['free'], targets: ['ort:wasm'] }, [free])).toThrow(
      /model 'free' has symbolic dims with no value: h, w; give each a value: --dim h=N --dim w=N/,
    );
    expect(() =>
      buildPlan(
        { ...base, models: ['free'], targets: ['ort:wasm'], dims: { h: [8] }, dimHint: () => 'use the dims editor' },
        [free],
      ),
    ).toThrow(/symbolic dim with no value: w; use the dims editor/);
    expect(
      buildPlan(
        {
          ...base,
          models: ['free'],
          targets: ['ort:wasm'],
          dims: { h: [8] },
          inputOverrides: { free: { x: { dims: { w: 4 } } } },
        },
        [free],
      ).cells,
    ).toHaveLength(2);
    expect(
      buildPlan({ ...base, models: ['free'], targets: ['ort:wasm'] }, [{ ...free, dimDefaults: { h: 8, w: 8 } }]).cells,
    ).toHaveLength(2);
  });
  it('refuses a dim no model has, naming the dims each model has', () => {
    expect(() => buildPlan({ ...base, dims: { seq: [16] } }, zoo)).toThrow(
      /no model in the plan has a symbolic dim named seq \(both: none\)/,
    );
    expect(() => buildPlan({ ...base, dims: { seq: [0] } }, zoo)).toThrow(/dim seq: 0 is not a whole number/);
  });
  it('defaults to auto sampling with a 2% target', () => {
    const { sampling: _s, ...rest } = base;
    const plan = buildPlan({ ...rest, sampling: {} }, zoo);
    expect(plan.sampling).toMatchObject({
      mode: 'auto',
      targetCI: 0.02,
      minSamples: 10,
      coldStarts: 1,
      iterations: null,
    });
  });
  it('shuffles reproducibly from the seed', () => {
    const req: PlanRequest = {
      ...base,
      targets: ['ort:wasm', 'tfjs:cpu', 'tfjs:wasm'],
      batches: [1, 2, 4, 8],
      order: 'seeded-shuffle',
      seed: 5,
    };
    const a = buildPlan(req, zoo).cells.map((c) => c.id);
    const b = buildPlan(req, zoo).cells.map((c) => c.id);
    const c = buildPlan({ ...req, seed: 6 }, zoo).cells.map((x) => x.id);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect([...a].sort()).toEqual([...c].sort());
  });
  it('rejects bad settings with the valid range', () => {
    expect(() => buildPlan({ ...base, batches: [0] }, zoo)).toThrow(
      /batch sizes: 0 is not a whole number in 1\.\.4096/,
    );
    expect(() => buildPlan({ ...base, batches: [] }, zoo)).toThrow(/at least one/);
    expect(() =>
      buildPlan({ ...base, sampling: { mode: 'fixed', samples: -1, warmup: 0, cellTimeoutMs: 60_000 } }, zoo),
    ).toThrow(/sampling settings: samples: samples must be in 1\.\.100000/);
    expect(() => buildPlan({ ...base, sampling: { targetCI: 0 } }, zoo)).toThrow(/targetCI must be > 0 and <= 0\.5/);
    expect(() => buildPlan({ ...base, sampling: { minSamples: 50, maxSamples: 20 } }, zoo)).toThrow(
      /maxSamples \(20\) is below minSamples \(50\)/,
    );
    expect(() => buildPlan({ ...base, sampling: { warmup: -2 } }, zoo)).toThrow(/warmup must be in 0\.\.10000/);
    expect(() => buildPlan({ ...base, sampling: { minSamples: 3 } }, zoo)).toThrow(/minSamples must be in 6\.\.100000/);
    expect(() => buildPlan({ ...base, targets: [] }, zoo)).toThrow(/targets/);
    expect(() => buildPlan({ ...base, seed: 1.5 }, zoo)).toThrow(/seed/);
  });
});
