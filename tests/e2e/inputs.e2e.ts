/**
 * A model unlike the zoo's: several inputs of other dtypes (float32 [batch, 4], an int64 scalar, bool [batch, 4]),
 * built here with the project's ONNX writer and run on ORT wasm and webgpu with input overrides.
 * y = x * float(n) * float(mask): with n = 3 and mask all ones (range 1..1), y = 3x exactly.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInBrowser, type DriverResult } from '../../src/cli/driver.ts';
import type { ModelInfo } from '../../src/lib/models/manifest.ts';
import type { OkCellResult } from '../../src/lib/schema.ts';
import { distWithExtraModels, multiInputModel, requireDist, sha256 } from './harness.ts';

describe('a model with several inputs of other dtypes', () => {
  let dir: string;
  let run: DriverResult;
  beforeAll(async () => {
    requireDist();
    const bytes = multiInputModel();
    const info: ModelInfo = {
      id: 'multi-input',
      title: 'multi-input',
      task: 'other',
      description: '',
      inputs: [
        { name: 'x', dtype: 'float32', shape: ['batch', 4] },
        { name: 'n', dtype: 'int64', shape: [] },
        { name: 'mask', dtype: 'bool', shape: ['batch', 4] },
      ],
      outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 4] }],
      batchDim: 'batch',
      batchFollowers: [],
      dimDefaults: {},
      valueDefaults: {},
      formats: [
        {
          format: 'onnx',
          entry: { path: 'multi/model.onnx', bytes: bytes.byteLength, sha256: sha256(bytes) },
          weights: [],
        },
      ],
      provenance: { package: 'test', version: '0', license: 'MIT', files: [], notes: '' },
    };
    dir = distWithExtraModels([{ info, files: { 'multi/model.onnx': bytes } }]);
    run = await runInBrowser({
      distDir: dir,
      request: {
        models: ['multi-input'],
        targets: ['ort:wasm', 'ort:webgpu'],
        batches: [1, 3],
        order: 'matrix',
        sampling: { mode: 'fixed', samples: 3, warmup: 1, cellTimeoutMs: 120_000, gpuBusyPasses: 0 },
        inputOverrides: {
          'multi-input': {
            n: { values: { kind: 'constant', value: 3 } },
            mask: { values: { kind: 'range', min: 1, max: 1 } },
          },
        },
      },
    });
  }, 300_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs on every backend at every batch, with the inputs it was given', () => {
    expect(run.result.cells.map((c) => [c.cell.id, c.status])).toEqual([
      ['multi-input/ort:wasm@wasm/b1/t1', 'ok'],
      ['multi-input/ort:wasm@wasm/b3/t1', 'ok'],
      ['multi-input/ort:webgpu@webgpu/b1/t1', 'ok'],
      ['multi-input/ort:webgpu@webgpu/b3/t1', 'ok'],
    ]);
    for (const c of run.result.cells as OkCellResult[]) {
      expect(c.inputs).toEqual([
        { name: 'x', dtype: 'float32', shape: [c.cell.batch, 4] },
        { name: 'n', dtype: 'int64', shape: [] },
        { name: 'mask', dtype: 'bool', shape: [c.cell.batch, 4] },
      ]);
      expect(c.outputs[0]!.shape).toEqual([c.cell.batch, 4]);
      // x is uniform in [0, 1), so y = 3x lies in [0, 3) and is not all zero (the mask passed through as ones)
      expect(c.outputs[0]!.max).toBeLessThan(3);
      expect(c.outputs[0]!.max).toBeGreaterThan(0.5);
      expect(c.stageNotes.some((n) => n.stage === 'postprocess')).toBe(true); // task 'other': no postprocess, said so
      expect(c.summary.postprocess).toBeNull();
    }
    const gpu = run.result.cells.find((c) => c.cell.id === 'multi-input/ort:webgpu@webgpu/b3/t1') as OkCellResult;
    expect(gpu.parity?.maxAbsDiff).toBe(0);
  });
});
