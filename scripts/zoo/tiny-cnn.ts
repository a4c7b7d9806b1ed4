/**
 * The generated `tiny-cnn`: a Keras-style functional model (Conv+ReLU, strided Conv+ReLU, global average
 * pool, Dense+softmax) with seeded weights, written as a TF.js layers model. The ONNX copy comes from the
 * same converter as MobileNetV2, so both formats hold identical weights. Deterministic: same bytes every run.
 */
import { mulberry32 } from '../../src/lib/rng.ts';
import type { WeightSpec } from './tfjs-weights.ts';

interface Generated {
  modelJson: Record<string, unknown>;
  weightSpecs: WeightSpec[];
  weightData: Uint8Array;
  weights: Map<string, Float32Array>;
}

const INPUT = { h: 32, w: 32, c: 3 };

export function generateTinyCnn(seed = 20261101): Generated {
  const rng = mulberry32(seed);
  const weights = new Map<string, Float32Array>();
  const specs: WeightSpec[] = [];
  /** Glorot-uniform-like values, so activations stay in a sensible range through the layers. */
  const add = (name: string, shape: number[], fanIn: number, fanOut: number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = (rng() * 2 - 1) * limit;
    weights.set(name, v);
    specs.push({ name, shape, dtype: 'float32' });
  };
  add('conv1/kernel', [3, 3, INPUT.c, 8], 9 * INPUT.c, 9 * 8);
  add('conv1/bias', [8], 8, 8);
  add('conv2/kernel', [3, 3, 8, 16], 9 * 8, 9 * 16);
  add('conv2/bias', [16], 16, 16);
  add('probs/kernel', [16, 10], 16, 10);
  add('probs/bias', [10], 10, 10);

  const conv = (name: string, inbound: string, filters: number, stride: number) => ({
    name,
    class_name: 'Conv2D',
    config: {
      name,
      trainable: false,
      filters,
      kernel_size: [3, 3],
      strides: [stride, stride],
      padding: 'same',
      data_format: 'channels_last',
      dilation_rate: [1, 1],
      activation: 'relu',
      use_bias: true,
    },
    inbound_nodes: [[[inbound, 0, 0, {}]]],
  });
  const layers = [
    {
      name: 'input',
      class_name: 'InputLayer',
      config: { batch_input_shape: [null, INPUT.h, INPUT.w, INPUT.c], dtype: 'float32', sparse: false, name: 'input' },
      inbound_nodes: [],
    },
    conv('conv1', 'input', 8, 1),
    conv('conv2', 'conv1', 16, 2),
    {
      name: 'gap',
      class_name: 'GlobalAveragePooling2D',
      config: { name: 'gap', trainable: false, data_format: 'channels_last' },
      inbound_nodes: [[['conv2', 0, 0, {}]]],
    },
    {
      name: 'probs',
      class_name: 'Dense',
      config: { name: 'probs', trainable: false, units: 10, activation: 'softmax', use_bias: true },
      inbound_nodes: [[['gap', 0, 0, {}]]],
    },
  ];
  const parts = specs.map((s) => weights.get(s.name)!);
  const total = parts.reduce((a, p) => a + p.byteLength, 0);
  const weightData = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    weightData.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), off);
    off += p.byteLength;
  }
  const modelJson = {
    format: 'layers-model',
    generatedBy: 'inference-latency-lab scripts/build-zoo.ts',
    convertedBy: null,
    modelTopology: {
      keras_version: '2.2.4',
      backend: 'tensorflow',
      model_config: {
        class_name: 'Model',
        config: { name: 'tiny_cnn', layers, input_layers: [['input', 0, 0]], output_layers: [['probs', 0, 0]] },
      },
    },
    weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
  };
  return { modelJson, weightSpecs: specs, weightData, weights };
}
