/**
 * The zoo's FlatBuffers encoder and Keras -> TFLite converter, in Node: the layout rules a reader relies on, and
 * the converter's choices (folding, fusing, refusing). Whether the files compute the right numbers is checked in
 * LiteRT.js itself (tests/e2e/tflite-zoo.e2e.ts).
 */
import { describe, expect, it } from 'vitest';
import { encode, ref, refs, scalar, str, table, vec } from '../../scripts/zoo/flatbuffer-writer.ts';
import { kerasToTflite } from '../../scripts/zoo/keras-to-tflite.ts';
import { ConverterError } from '../../scripts/zoo/keras-to-onnx.ts';
import { decodeWeights } from '../../scripts/zoo/tfjs-weights.ts';
import { generateTinyCnn } from '../../scripts/zoo/tiny-cnn.ts';
import { Converter } from '../../scripts/zoo/tflite-converter.ts';
import { LAYER_HANDLERS } from '../../scripts/zoo/keras-to-tflite-layers.ts';
import { OP } from '../../scripts/zoo/tflite-graph.ts';
import type { KerasLayer } from '../../scripts/zoo/keras-topology.ts';

const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);

describe('flatbuffer-writer', () => {
  it('writes the root offset, the identifier, forward offsets and aligned vectors', () => {
    const bytes = encode(
      table([scalar('u32', 7), ref(str('hi')), ref(vec('u8', new Uint8Array([1, 2, 3]), 16)), ref(refs([table([])]))]),
      'TEST',
    );
    expect(new TextDecoder().decode(bytes.subarray(4, 8))).toBe('TEST');
    const root = u32(bytes, 0);
    const vtable = root - new DataView(bytes.buffer).getInt32(root, true);
    const view = new DataView(bytes.buffer);
    expect(view.getUint16(vtable, true)).toBe(4 + 2 * 4); // four field slots
    const field = (id: number) => root + view.getUint16(vtable + 4 + 2 * id, true);
    expect(u32(bytes, field(0))).toBe(7);
    const s = field(1) + u32(bytes, field(1));
    expect(s).toBeGreaterThan(field(1)); // offsets point forward
    expect(new TextDecoder().decode(bytes.subarray(s + 4, s + 4 + u32(bytes, s)))).toBe('hi');
    expect(bytes[s + 6]).toBe(0); // NUL-terminated
    const v = field(2) + u32(bytes, field(2));
    expect((v + 4) % 16).toBe(0); // the data starts 16-byte aligned
    expect([...bytes.subarray(v + 4, v + 7)]).toEqual([1, 2, 3]);
  });

  it('refuses an identifier that is not 4 characters', () => {
    expect(() => encode(table([]), 'TFL')).toThrow(/4 characters/);
  });
});

/** A Keras layer reading the named layers. */
const layer = (name: string, cls: string, config: Record<string, unknown>, inbound: string[]): KerasLayer => ({
  name,
  class_name: cls,
  config,
  inbound_nodes: inbound.length ? [inbound.map((n): [string, number, number, unknown] => [n, 0, 0, {}])] : [],
});
const conv = (name: string, inbound: string) =>
  layer(name, 'Conv2D', { filters: 2, kernel_size: [1, 1], strides: [1, 1], padding: 'same', use_bias: false }, [
    inbound,
  ]);
const input = layer('x', 'InputLayer', { batch_input_shape: [null, 4, 4, 2] }, []);

describe('keras-to-tflite', () => {
  it('folds a batch norm into the conv before it and fuses the ReLU6 after', () => {
    const bn = layer('bn', 'BatchNormalization', { epsilon: 0 }, ['c']);
    const relu = layer('r', 'ReLU', { max_value: 6 }, ['bn']);
    const weights = new Map<string, Float32Array>([
      ['c/kernel', Float32Array.from([1, 2, 3, 4])], // HWIO [1,1,2,2]: in 0 -> (1, 2), in 1 -> (3, 4)
      ['bn/gamma', Float32Array.from([2, 1])],
      ['bn/beta', Float32Array.from([0.5, 0])],
      ['bn/moving_mean', Float32Array.from([1, 0])],
      ['bn/moving_variance', Float32Array.from([1, 1])],
    ]);
    const cv = new Converter([input, conv('c', 'x'), bn, relu], ['r'], weights, LAYER_HANDLERS_WITH_INPUT, 1);
    cv.convert();
    expect(cv.g.ops.map((o) => o.code)).toEqual([OP.CONV_2D]);
    const op = cv.g.ops[0]!;
    // OHWI kernel [[1, 3], [2, 4]], output channels scaled by gamma / sqrt(var) = (2, 1); bias = beta - mean * scale.
    expect([...cv.g.data(op.inputs[1]!)]).toEqual([2, 6, 2, 4]);
    expect([...cv.g.data(op.inputs[2]!)]).toEqual([-1.5, 0]);
    expect(op.options[3]).toEqual(scalar('i8', 3)); // RELU6
    expect(cv.get('r').index).toBe(op.outputs[0]);
  });

  it('keeps a separate ReLU when another layer also reads the conv', () => {
    const relu = layer('r', 'ReLU', {}, ['c']);
    const add = layer('a', 'Add', {}, ['c', 'r']);
    const weights = new Map([['c/kernel', new Float32Array(4)]]);
    const cv = new Converter([input, conv('c', 'x'), relu, add], ['a'], weights, LAYER_HANDLERS_WITH_INPUT, 1);
    cv.convert();
    expect(cv.g.ops.map((o) => o.code)).toEqual([OP.CONV_2D, OP.RELU, OP.ADD]);
  });

  it('refuses a layer it does not know, by name', () => {
    const { modelJson, weightSpecs, weightData } = generateTinyCnn();
    const topo = JSON.parse(JSON.stringify(modelJson.modelTopology));
    topo.model_config.config.layers[3].class_name = 'LSTM';
    const weights = decodeWeights([{ paths: ['w'], weights: weightSpecs }], [weightData]);
    expect(() => kerasToTflite(topo, weights, 'x')).toThrow(ConverterError);
    expect(() => kerasToTflite(topo, weights, 'x')).toThrow(/layer gap: LSTM is not supported by the TFLite converter/);
  });
});

/** The layer handlers plus a minimal InputLayer, for hand-made topologies. */
const LAYER_HANDLERS_WITH_INPUT = {
  ...LAYER_HANDLERS,
  InputLayer: (cv: Converter, l: KerasLayer) => {
    const shape = l.config.batch_input_shape as (number | null)[];
    const index = cv.g.tensor(l.name, shape);
    cv.g.markInput(index);
    cv.alias(l.name, { index, shape });
  },
};
