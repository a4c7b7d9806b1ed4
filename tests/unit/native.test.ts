/** Native reference cells: the plan that adds them, the wire that carries their inputs, and the browser tax. */
import { describe, expect, it } from 'vitest';
import type { ModelInfo } from '../../src/lib/models/manifest.ts';
import { fromWire, toWire } from '../../src/lib/contracts/native-wire.ts';
import { buildPlan, workKey, type PlanRequest } from '../../src/lib/plan/plan.ts';
import type { HostTensor } from '../../src/lib/models/inputs.ts';
import { applyTax, browserTax, nativeFor, taxable } from '../../src/lib/report/tax.ts';
import { modelWorkOf as modelWork } from '../../src/lib/measure/model-work.ts';
import { fakeModel, okCell } from './fixtures.ts';

const model = (id: string, formats: ModelInfo['formats'][number]['format'][]): ModelInfo =>
  fakeModel(id, formats, 'other');
const zoo = [model('both', ['onnx', 'tfjs-layers']), model('tfjs-only', ['tfjs-graph']), model('onnx-only', ['onnx'])];
const request: PlanRequest = {
  models: ['both', 'tfjs-only', 'onnx-only'],
  targets: ['ort:wasm', 'tfjs:wasm', 'ort:webgpu'],
  batches: [1, 4],
  threads: [1, 2],
  seed: 7,
  sampling: { mode: 'fixed', samples: 10, warmup: 2 },
  native: true,
  skipMissingFormats: true,
};

describe('a plan with native reference cells', () => {
  const plan = buildPlan(request, zoo);
  const natives = plan.cells.filter((c) => c.runtime === 'ort-node');

  it('adds one ort-node:cpu cell per ONNX model x batch x threads, and says why a TF.js-only model has none', () => {
    expect(natives.map((c) => c.id).sort()).toEqual(
      ['both', 'onnx-only']
        .flatMap((m) => [1, 4].flatMap((b) => [1, 2].map((t) => `${m}/ort-node:cpu/b${b}/t${t}`)))
        .sort(),
    );
    expect(natives.every((c) => c.format === 'onnx' && c.backend === 'cpu' && c.build === null)).toBe(true);
    expect(plan.nativeSkipped).toEqual([
      {
        modelId: 'tfjs-only',
        reason: expect.stringMatching(/onnxruntime-node runs ONNX files, and 'tfjs-only' has only tfjs-graph/),
      },
    ]);
  });

  it('interleaves, lists the cells of one work key together, and holds the largest such group live at once', () => {
    expect(plan.schedule).toBe('interleaved');
    const keys = plan.cells.map(workKey);
    // Contiguous: once a key's run of cells ends, it never comes back.
    const seen = new Set<string>();
    keys.forEach((k, i) => {
      if (i > 0 && keys[i - 1] !== k) expect(seen.has(k), k).toBe(false);
      seen.add(k);
    });
    const largest = Math.max(...[...seen].map((k) => keys.filter((x) => x === k).length));
    expect(largest).toBe(4); // both/b1/t1: ort:wasm, tfjs:wasm, ort:webgpu (threads 1 only) and ort-node:cpu
    expect(plan.liveCells).toBeGreaterThanOrEqual(Math.max(4, largest));
  });

  it('adds nothing and keeps the schedule as asked without --native', () => {
    const plain = buildPlan({ ...request, native: false }, zoo);
    expect(plain.cells.some((c) => c.runtime === 'ort-node')).toBe(false);
    expect(plain.schedule).toBe('sequential');
    expect(plain.nativeSkipped).toEqual([]);
  });
});

describe('the native wire', () => {
  it('carries every dtype byte for byte, and refuses bytes that do not fit the shape', () => {
    const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');
    const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
    const tensors: HostTensor[] = [
      { name: 'f', dtype: 'float32', shape: [1, 3], data: Float32Array.from([0.5, -1.25, 3e-8]) },
      { name: 'h', dtype: 'float16', shape: [2], data: Uint16Array.from([0x3c00, 0xc000]) },
      { name: 'i', dtype: 'int64', shape: [2, 1], data: BigInt64Array.from([-(2n ** 40n), 7n]) },
      { name: 'u', dtype: 'uint8', shape: [3], data: Uint8Array.from([0, 128, 255]) },
      { name: 's', dtype: 'int8', shape: [2], data: Int8Array.from([-128, 127]) },
      // A view into a larger buffer: only its own bytes travel.
      { name: 'v', dtype: 'int32', shape: [2], data: new Int32Array(Int32Array.from([9, 1, 2, 9]).buffer, 4, 2) },
    ];
    for (const t of tensors) {
      const back = fromWire(toWire(t, b64), unb64);
      expect(back.shape).toEqual(t.shape);
      expect(Array.from(back.data as ArrayLike<number | bigint>), t.name).toEqual(
        Array.from(t.data as ArrayLike<number | bigint>),
      );
      expect(back.data.constructor).toBe(t.data.constructor);
    }
    expect(() => fromWire({ name: 'x', dtype: 'float32', shape: [4], base64: b64(new Uint8Array(12)) }, unb64)).toThrow(
      /12 bytes for shape \[4\] float32 \(16 expected\)/,
    );
  });
});

describe('the browser tax', () => {
  const browser = okCell('m/ort:wasm/b1', 4, 1, 200);
  const native = { ...okCell('m/ort-node:cpu/b1', 1, 2, 200), inputDigest: 'abc' };
  native.cell = { ...native.cell, runtime: 'ort-node', backend: 'cpu' };
  const webgpu = okCell('m/ort:webgpu/b1', 9, 3);

  it('is the ratio of median model work, with a CI that holds it', () => {
    const t = browserTax({ ...browser, inputDigest: 'abc' }, native);
    expect(t.ratio).toBeGreaterThan(3.8);
    expect(t.ratio).toBeLessThan(4.2);
    expect(t.ci95[0]).toBeLessThan(t.ratio);
    expect(t.ci95[1]).toBeGreaterThan(t.ratio);
    expect(t.ci95[1] - t.ci95[0]).toBeLessThan(0.1);
    expect(t.inputsMatch).toBe(true);
    expect(t.parity).toBeNull();
    expect(t.nativeCellId).toBe('m/ort-node:cpu/b1');
  });

  it('counts upload + inference + readback, not the app-side stages', () => {
    const s = browser.samples[0]!;
    expect(modelWork({ ...s, preprocess: 100, upload: 1, inference: 2, readback: 3, postprocess: 100 })).toBe(6);
    expect(modelWork({ ...s, upload: null, inference: 2, readback: null })).toBe(2);
  });

  it('pairs CPU browser cells with the native cell of the same work, and warns when their inputs differ', () => {
    expect(taxable(browser.cell)).toBe(true);
    expect(taxable(webgpu.cell)).toBe(false);
    expect(taxable(native.cell)).toBe(false);
    expect(nativeFor(browser.cell, [browser, native])?.cell.id).toBe('m/ort-node:cpu/b1');
    expect(nativeFor({ ...browser.cell, batch: 4 }, [browser, native])).toBeNull();
    const other = { ...browser, inputDigest: 'different', warnings: [] as string[] };
    applyTax([other, webgpu, native], () => undefined);
    expect(other.tax?.inputsMatch).toBe(false);
    expect(other.warnings.join()).toMatch(/inputs differ from the native reference m\/ort-node:cpu\/b1/);
    expect(webgpu.tax).toBeNull();
  });
});
