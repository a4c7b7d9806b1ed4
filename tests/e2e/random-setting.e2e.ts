/**
 * A cell that fails inside the runtime because a tiny integer input ran on random values (as Silero VAD's `sr` did)
 * says so: the error names the input and suggests a constant. The model: y = Reshape(x [6], shape [1]); a random
 * shape in 0..9 other than 0 or 6 makes ORT fail with its own message.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runInBrowser } from '../../src/cli/driver.ts';
import type { ModelInfo } from '../../src/lib/models/manifest.ts';
import { OnnxGraph } from '../../scripts/zoo/onnx-graph.ts';
import { distWithExtraModels, requireDist, sha256 } from './harness.ts';

function reshapeModel(): Uint8Array {
  const g = new OnnxGraph();
  g.addInput('x', [6], 1);
  g.addInput('shape', [1], 7);
  g.node('Reshape', ['x', 'shape'], ['y']);
  g.addOutput('y', ['n']);
  return g.encode('reshape', 'test model: a shape given as an input');
}

describe('a runtime failure on a random setting', () => {
  let dir = '';
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('names the tiny integer input that ran on random values, and suggests a constant; a constant runs', async () => {
    requireDist();
    const bytes = reshapeModel();
    const info: ModelInfo = {
      id: 'reshape-input',
      title: 'reshape-input',
      task: 'other',
      description: '',
      inputs: [
        { name: 'x', dtype: 'float32', shape: [6] },
        { name: 'shape', dtype: 'int64', shape: [1] },
      ],
      outputs: [{ name: 'y', dtype: 'float32', shape: ['n'] }],
      batchDim: null,
      batchFollowers: [],
      dimDefaults: {},
      valueDefaults: {},
      formats: [
        {
          format: 'onnx',
          entry: { path: 'rs/model.onnx', bytes: bytes.byteLength, sha256: sha256(bytes) },
          weights: [],
        },
      ],
      provenance: { package: 'test', version: '0', license: 'MIT', files: [], notes: '' },
    };
    dir = distWithExtraModels([{ info, files: { 'rs/model.onnx': bytes } }]);
    const run = (shape?: number) =>
      runInBrowser({
        distDir: dir,
        request: {
          models: ['reshape-input'],
          targets: ['ort:wasm'],
          batches: [1],
          order: 'matrix',
          sampling: { mode: 'fixed', samples: 3, warmup: 1, cellTimeoutMs: 60_000, gpuBusyPasses: 0 },
          ...(shape === undefined
            ? {}
            : { inputOverrides: { 'reshape-input': { shape: { values: { kind: 'constant', value: shape } } } } }),
        },
      });
    const random = (await run()).result.cells[0]!;
    expect(random.status).toBe('failed');
    expect(random.status === 'failed' && random.error).toMatch(
      /input 'shape' \(int64 \[1\]\) ran on random values.*give it a constant value/,
    );
    const constant = (await run(6)).result.cells[0]!;
    expect(constant.status).toBe('ok');
  }, 120_000);
});
