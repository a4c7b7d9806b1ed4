/**
 * Every zoo model with both formats gives the same outputs in ONNX Runtime (wasm) and TensorFlow.js (cpu) on the
 * same synthesized input: the converter and the unwrapping are checked here, in Node, before any browser runs.
 * The browser e2e suite checks parity again across the real backends.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web';
import * as tf from '@tensorflow/tfjs';
import { parseManifest, findFormat } from '../../src/lib/models/manifest.ts';
import { synthesizeInputs } from '../../src/lib/models/inputs.ts';

const modelsDir = join(import.meta.dirname, '..', '..', 'public', 'models');
const manifestPath = join(modelsDir, 'manifest.json');

describe('zoo parity across runtimes', () => {
  it('has a built zoo (run `npm run zoo`)', () => {
    expect(existsSync(manifestPath)).toBe(true);
  });
  if (!existsSync(manifestPath)) return;
  const manifest = parseManifest(JSON.parse(readFileSync(manifestPath, 'utf8')));
  const both = manifest.models.filter((m) => findFormat(m, 'onnx') && findFormat(m, 'tfjs-layers'));

  it('has at least two models in both formats', () => {
    expect(both.map((m) => m.id)).toEqual(expect.arrayContaining(['tiny-cnn', 'mobilenet-v2']));
  });

  for (const model of both) {
    it(`${model.id}: ORT and TF.js agree within 1e-4 at batch 2`, async () => {
      ort.env.wasm.numThreads = 1;
      const inputs = synthesizeInputs(model.inputs, model.batchDim, 2, 42, {}, model.dimDefaults);
      const onnx = findFormat(model, 'onnx')!;
      const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(join(modelsDir, onnx.entry.path))));
      const feeds = Object.fromEntries(
        inputs.map((i) => [i.name, new ort.Tensor(i.dtype as 'float32', i.data as Float32Array, i.shape)]),
      );
      const ortOut = await session.run(feeds);
      await session.release();

      const layers = findFormat(model, 'tfjs-layers')!;
      const json = JSON.parse(readFileSync(join(modelsDir, layers.entry.path), 'utf8'));
      const shards = layers.weights.map((w) => readFileSync(join(modelsDir, w.path)));
      const weightData = new Uint8Array(Buffer.concat(shards)).buffer;
      await tf.setBackend('cpu');
      const tfModel = await tf.loadLayersModel(
        tf.io.fromMemory({
          modelTopology: json.modelTopology,
          weightSpecs: json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights),
          weightData,
        }),
      );
      const x = tf.tensor(inputs[0]!.data as Float32Array, inputs[0]!.shape);
      const y = tfModel.predict(x) as tf.Tensor;
      const tfData = (await y.data()) as Float32Array;
      x.dispose();
      y.dispose();
      tfModel.dispose();

      const out = model.outputs[0]!;
      const ortData = ortOut[out.name]!.data as Float32Array;
      expect(ortOut[out.name]!.dims).toEqual(y.shape);
      expect(ortData.length).toBe(tfData.length);
      let maxDiff = 0;
      for (let i = 0; i < ortData.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ortData[i]! - tfData[i]!));
      expect(maxDiff).toBeLessThanOrEqual(1e-4);
      // Guard against a vacuous pass: outputs must not be all zeros or constant.
      expect(Math.max(...tfData) - Math.min(...tfData)).toBeGreaterThan(1e-6);
    }, 120_000);
  }
});
