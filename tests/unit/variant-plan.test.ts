/**
 * Variants as a matrix dimension: the plan's cells and ids (fp32 ids unchanged), bad names refused by name, native
 * reference cells fp32 only; and agreement of a variant cell with its fp32 cell (cosine, max abs diff, top-1).
 */
import { describe, expect, it } from 'vitest';
import { buildPlan, type PlanRequest } from '../../src/lib/plan/plan.ts';
import { fakeModel } from './fixtures.ts';
import { computeAgreement, MIN_COSINE } from '../../src/lib/report/agreement.ts';
import { parseConfig } from '../../src/lib/plan/config.ts';
import { variantUnsupported } from '../../src/lib/models/variants/variant-file.ts';

const zoo = [fakeModel('both', ['onnx', 'tfjs-layers'])];
const base: PlanRequest = {
  models: ['both'],
  targets: ['ort:wasm', 'tfjs:cpu'],
  batches: [1],
  order: 'matrix',
  sampling: { mode: 'fixed', samples: 10, warmup: 2, cellTimeoutMs: 60_000 },
};

describe('variants in the plan', () => {
  it('fp32 alone keeps the ids cells had before variants', () => {
    const ids = buildPlan(base, zoo).cells.map((c) => [c.id, c.variant]);
    expect(ids).toEqual([
      ['both/ort:wasm@wasm/b1/t1', 'fp32'],
      ['both/tfjs:cpu/b1/t1', 'fp32'],
    ]);
  });

  it('each variant is a cell per target; the id carries it after the threads', () => {
    const cells = buildPlan({ ...base, targets: ['ort:wasm'], variants: ['int8', 'fp32', 'fp16'] }, zoo).cells;
    expect(cells.map((c) => [c.id, c.variant])).toEqual([
      ['both/ort:wasm@wasm/b1/t1', 'fp32'],
      ['both/ort:wasm@wasm/b1/t1/fp16', 'fp16'],
      ['both/ort:wasm@wasm/b1/t1/int8', 'int8'],
    ]);
  });

  it('names a bad variant and the valid ones', () => {
    expect(() => buildPlan({ ...base, variants: ['int4'] }, zoo)).toThrow(
      /unknown variant 'int4'; valid: fp32, fp16, int8/,
    );
    expect(() => buildPlan({ ...base, variants: [] }, zoo)).toThrow(/variants: give at least one/);
  });

  it('native reference cells measure the model as given (fp32 only)', () => {
    const cells = buildPlan({ ...base, targets: ['ort:wasm'], variants: ['fp32', 'int8'], native: true }, zoo).cells;
    expect(cells.filter((c) => c.runtime === 'ort-node').map((c) => c.variant)).toEqual(['fp32']);
    expect(cells.filter((c) => c.runtime === 'ort').map((c) => c.variant)).toEqual(['fp32', 'int8']);
  });

  it('a config file takes variants, and refuses unknown ones', () => {
    expect(parseConfig({ variants: ['fp32', 'fp16'] }).variants).toEqual(['fp32', 'fp16']);
    expect(() => parseConfig({ variants: ['bf16'] })).toThrow(/variants/);
  });

  it('only ONNX files get variants', () => {
    expect(variantUnsupported(zoo[0]!, 'tfjs-layers', 'int8')).toMatch(/made from ONNX files only.*tfjs-layers/);
    expect(variantUnsupported(zoo[0]!, 'onnx', 'int8')).toBeNull();
    expect(variantUnsupported(zoo[0]!, 'tfjs-layers', 'fp32')).toBeNull();
  });
});

describe('agreement with the fp32 cell', () => {
  const out = (values: number[], shape = [1, values.length]) => ({
    name: 'y',
    shape,
    values: Float32Array.from(values),
  });

  it('gives max abs diff and cosine per output, not flagged when close', () => {
    const a = computeAgreement([out([1, 2, 3.01])], [out([1, 2, 3])], 'ref', { agree: 4, of: 4 });
    expect(a.outputs[0]!.maxAbsDiff).toBeCloseTo(0.01, 5);
    expect(a.outputs[0]!.cosine).toBeGreaterThan(0.9999);
    expect(a.flagged).toBe(false);
    expect(a.minCosine).toBe(MIN_COSINE);
  });

  it('flags a cosine below 0.99 and a changed top-1, saying which', () => {
    const low = computeAgreement([out([1, 0, 0])], [out([0.8, 0.6, 0])], 'ref');
    expect(low.outputs[0]!.cosine).toBeCloseTo(0.8, 5);
    expect(low.flagged).toBe(true);
    expect(low.reason).toMatch(/y: cosine 0\.8000 < 0\.99/);
    const top = computeAgreement([out([1, 2])], [out([1, 2])], 'ref', { agree: 3, of: 4 });
    expect(top.flagged).toBe(true);
    expect(top.reason).toMatch(/top-1 changed on 1 of 4 pictures/);
  });

  it('says why outputs can not be compared', () => {
    const a = computeAgreement([out([1, 2], [2, 1])], [out([1, 2])], 'ref');
    expect(a.outputs[0]).toMatchObject({ maxAbsDiff: null, cosine: null });
    expect(a.reason).toMatch(/shape \[2,1\] vs \[1,2\]/);
    expect(computeAgreement([out([NaN, 1])], [out([1, 1])], 'ref').reason).toMatch(/NaN/);
  });
});
