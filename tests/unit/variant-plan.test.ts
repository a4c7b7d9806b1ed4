/**
 * Variants as a matrix dimension: the plan's cells and ids (fp32 ids unchanged), bad names refused by name, native
 * reference cells fp32 only; and agreement of a variant cell with its fp32 cell (cosine, max abs diff, top-1).
 */
import { describe, expect, it } from 'vitest';
import { buildPlan, type PlanRequest } from '../../src/lib/plan/plan.ts';
import { fakeModel, okCell } from './fixtures.ts';
import { variantRows } from '../../src/lib/report/variant-report.ts';
import type { CellResult } from '../../src/lib/schema.ts';
import { variantRefused } from '../../src/worker/variant-errors.ts';
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

describe('variant rows in the reports', () => {
  it('show bytes against fp32, the median ratio and the agreement; unsupported cells say why', () => {
    const fp32 = okCell('m/ort:wasm/b1/t1', 10, 1);
    fp32.modelBytes = { raw: 1000, compressed: 900 };
    const int8 = okCell('m/ort:wasm/b1/t1', 5, 2);
    int8.cell = { ...int8.cell, id: 'm/ort:wasm/b1/t1/int8', variant: 'int8' };
    int8.modelBytes = { raw: 250, compressed: 200 };
    int8.agreement = computeAgreement(
      [{ name: 'y', shape: [2], values: Float32Array.from([1, 0]) }],
      [{ name: 'y', shape: [2], values: Float32Array.from([0.8, 0.6]) }],
      fp32.cell.id,
      { agree: 1, of: 2 },
    );
    const fp16: CellResult = {
      cell: { ...fp32.cell, id: 'm/ort:wasm/b1/t1/fp16', variant: 'fp16' },
      status: 'unsupported',
      reason: 'no fp16 variant: the model is already float16',
      startedAt: fp32.startedAt,
      durationMs: 0,
    };
    const other = okCell('n/ort:wasm/b1/t1', 3, 3); // a model without variant cells: not listed
    const rows = variantRows([fp32, int8, fp16, other]);
    expect(rows.map((r) => r[0])).toEqual(['m/ort:wasm/b1/t1', 'm/ort:wasm/b1/t1/int8', 'm/ort:wasm/b1/t1/fp16']);
    const [ref, q, refused] = rows;
    expect(ref!.at(-1)).toBe('reference');
    expect(q!.slice(1, 5)).toEqual(['int8', '250 B', '200 B', '0.25x']);
    // The median ratio comes with its CI (no ratio without one): "×0.50 faster (lo–hi)".
    expect(q![6]).toMatch(/^(≈ )?×0\.5\d? ?\S* ?\(\d+\.\d\d–\d+\.\d\d\)$/);
    expect(q![7]).toBe('0.80000');
    expect(q![9]).toBe('1/2');
    expect(q!.at(-1)).toMatch(/^FLAGGED: y: cosine 0\.8000 < 0\.99; top-1 changed on 1 of 2 pictures/);
    expect(refused!.at(-1)).toMatch(/unsupported: no fp16 variant: the model is already float16/);
  });
});

describe('a variant the backend cannot run', () => {
  const cell = buildPlan({ ...base, targets: ['ort:webgpu'], variants: ['fp32', 'fp16'] }, zoo).cells;
  const [fp32, fp16] = cell;
  const f16 = 'Program Slice requires f16 but the device does not support it.';
  it('is unsupported in the runtime words: any session refusal, and a first pass that lacks float16', () => {
    expect(variantRefused(fp16!, 'Could not find an implementation for MatMulInteger(10)')).toMatch(
      /^ort:webgpu can't run the fp16 variant: Could not find an implementation/,
    );
    expect(variantRefused(fp16!, f16, true)).toMatch(/requires f16 but the device does not support it/);
  });
  it('is not: fp32 cells, and first-pass errors of another kind', () => {
    expect(variantRefused(fp32!, f16)).toBeNull();
    expect(variantRefused(fp16!, 'out of memory', true)).toBeNull();
  });
});
