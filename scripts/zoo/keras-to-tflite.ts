/**
 * The project's own TF.js-layers (Keras functional topology) -> TFLite converter, the sibling of keras-to-onnx.ts:
 * the same weights, so the lab can time LiteRT.js on the very network it times in ORT and TF.js.
 *
 * TFLite is NHWC like Keras, so tensors keep Keras's layout: no transposes at the ends. Weights are reordered into
 * TFLite's layouts (Conv2D [out, kh, kw, in], DepthwiseConv2D [1, kh, kw, in*mult], FullyConnected [out, in]).
 * Keras 'same' padding is TF's rule (the odd pixel at the end, so stride 2 on an even size pads [0, 1]), which is
 * TFLite's SAME too, and the ONNX copy's explicit pads come from the same rule: no explicit PAD is needed for it.
 * ZeroPadding2D becomes a PAD op. Like TFLite's own converter, a BatchNormalization right after a conv is folded
 * into the conv's weights and bias, and a ReLU/ReLU6 is fused into the op before it when nothing else reads that
 * op's output. The batch size is fixed (1 unless asked): LiteRT.js 2.5 runs no input signature with a free dim.
 */
import { scalar } from './flatbuffer-writer.ts';
import { ConverterError, kerasModel, pair, type KerasLayer } from './keras-topology.ts';
import { LAYER_HANDLERS, transpose2d } from './keras-to-tflite-layers.ts';
import { Converter, firstInput, type Handler } from './tflite-converter.ts';
import { ACT, OP, OPTIONS } from './tflite-graph.ts';

export interface TfliteConvertResult {
  tflite: Uint8Array;
  /** Input and output tensor names (the Keras layer names), as the signature names them. */
  inputs: string[];
  outputs: string[];
}

const int32 = (cv: Converter, name: string, dims: number[], values: number[]) =>
  cv.g.constant(name, dims, Int32Array.from(values));

const inputLayer: Handler = (cv, layer) => {
  const c = layer.config;
  const shape = (c.batch_input_shape ?? c.batch_shape) as (number | null)[];
  if (shape.slice(1).some((d) => d === null))
    throw new ConverterError(`input ${layer.name}: only the batch dim may be free, got [${shape}]`);
  const index = cv.g.tensor(layer.name, shape);
  cv.g.markInput(index);
  cv.alias(layer.name, { index, shape });
};

const zeroPadding: Handler = (cv, layer, inbound) => {
  const t = cv.get(firstInput(layer, inbound));
  const [[top, bottom], [left, right]] = layer.config.padding as [[number, number], [number, number]];
  const pads = int32(cv, `${layer.name}/paddings`, [4, 2], [0, 0, top, bottom, left, right, 0, 0]);
  const [n, h, w, ch] = t.shape;
  const shape = [n!, h == null ? null : h + top + bottom, w == null ? null : w + left + right, ch!];
  cv.emit(layer.name, OP.PAD, [t.index, pads], shape, OPTIONS.PadOptions, []);
};

const globalPool: Handler = (cv, layer, inbound) => {
  const t = cv.get(firstInput(layer, inbound));
  const axes = int32(cv, `${layer.name}/axes`, [2], [1, 2]);
  const code = layer.class_name === 'GlobalMaxPooling2D' ? OP.REDUCE_MAX : OP.MEAN;
  cv.emit(layer.name, code, [t.index, axes], [t.shape[0]!, t.shape[3]!], OPTIONS.ReducerOptions, [scalar('bool', 0)]);
};

const flatten: Handler = (cv, layer, inbound) => {
  const t = cv.get(firstInput(layer, inbound));
  if (t.shape.length === 2) return cv.alias(layer.name, t);
  const rest = t.shape.slice(1);
  if (!rest.every((d) => typeof d === 'number')) throw new ConverterError(`${layer.name}: flattening unknown sizes`);
  const size = (rest as number[]).reduce((a, b) => a * b, 1);
  // NHWC order is Keras's own flatten order, so Dense weights line up without a transpose.
  const newShape = int32(cv, `${layer.name}/shape`, [2], [-1, size]);
  cv.emit(layer.name, OP.RESHAPE, [t.index, newShape], [t.shape[0]!, size], OPTIONS.ReshapeOptions, []);
};

const dense: Handler = (cv, layer, inbound) => {
  const c = layer.config;
  const t = cv.get(firstInput(layer, inbound));
  if (t.shape.length !== 2) throw new ConverterError(`${layer.name}: Dense on a rank-${t.shape.length} tensor`);
  const units = Number(c.units);
  const inDim = t.shape[1];
  if (typeof inDim !== 'number') throw new ConverterError(`${layer.name}: input size unknown`);
  const w = cv.g.constant(
    `${layer.name}/kernel`,
    [units, inDim],
    transpose2d(cv.weight(layer.name, 'kernel'), inDim, units),
  );
  const bias = c.use_bias !== false ? Float32Array.from(cv.weight(layer.name, 'bias')) : new Float32Array(units);
  const b = cv.g.constant(`${layer.name}/bias`, [units], bias);
  // fused activation, weights_format DEFAULT, keep_num_dims false
  const options = [scalar('i8', ACT.NONE), scalar('i8', 0), scalar('bool', 0)];
  cv.emit(
    layer.name,
    OP.FULLY_CONNECTED,
    [t.index, w, b],
    [t.shape[0]!, units],
    OPTIONS.FullyConnectedOptions,
    options,
  );
  cv.activation(layer.name, layer.name, String(c.activation ?? 'linear'));
};

const concatenate: Handler = (cv, layer, inbound) => {
  const ins = inbound.map((n) => cv.get(n));
  const rank = ins[0]!.shape.length;
  let axis = Number(layer.config.axis ?? -1);
  if (axis < 0) axis += rank;
  const shape = [...ins[0]!.shape];
  const sizes = ins.map((i) => i.shape[axis]);
  shape[axis] = sizes.every((s) => typeof s === 'number') ? (sizes as number[]).reduce((a, b) => a + b, 0) : null;
  const options = [scalar('i32', axis), scalar('i8', ACT.NONE)];
  cv.emit(
    layer.name,
    OP.CONCATENATION,
    ins.map((i) => i.index),
    shape,
    OPTIONS.ConcatenationOptions,
    options,
  );
};

const upSampling: Handler = (cv, layer, inbound) => {
  const t = cv.get(firstInput(layer, inbound));
  const [sh, sw] = pair(layer.config.size ?? 2, `${layer.name}.size`);
  if ((layer.config.interpolation ?? 'nearest') !== 'nearest')
    throw new ConverterError(`${layer.name}: interpolation ${String(layer.config.interpolation)}`);
  const [n, h, w, ch] = t.shape;
  if (typeof h !== 'number' || typeof w !== 'number') throw new ConverterError(`${layer.name}: unknown image size`);
  const size = int32(cv, `${layer.name}/size`, [2], [h * sh, w * sw]);
  // align_corners false, half_pixel_centers false: Keras's nearest (floor of out / scale).
  const options = [scalar('bool', 0), scalar('bool', 0)];
  cv.emit(
    layer.name,
    OP.RESIZE_NEAREST_NEIGHBOR,
    [t.index, size],
    [n!, h * sh, w * sw, ch!],
    OPTIONS.ResizeNearestNeighborOptions,
    options,
  );
};

const identity: Handler = (cv, layer, inbound) => cv.alias(layer.name, cv.get(firstInput(layer, inbound)));

const HANDLERS: Record<string, Handler> = {
  ...LAYER_HANDLERS,
  InputLayer: inputLayer,
  ZeroPadding2D: zeroPadding,
  GlobalAveragePooling2D: globalPool,
  GlobalMaxPooling2D: globalPool,
  Flatten: flatten,
  Dense: dense,
  Concatenate: concatenate,
  UpSampling2D: upSampling,
  Dropout: identity, // identity at inference, as are the noise layers
  SpatialDropout2D: identity,
  GaussianNoise: identity,
  GaussianDropout: identity,
};

export function kerasToTflite(
  modelTopology: unknown,
  weights: Map<string, Float32Array>,
  description: string,
  /** The batch size written into the file (null: a free batch dim, -1 in shape_signature). */
  batch: number | null = 1,
): TfliteConvertResult {
  const mc = kerasModel(modelTopology);
  const layers: KerasLayer[] = mc.layers;
  const outputNames = mc.output_layers.map(([n]) => n);
  const cv = new Converter(layers, outputNames, weights, HANDLERS, batch);
  cv.convert();
  for (const name of outputNames) cv.g.markOutput(cv.get(name).index, name);
  const unused = cv.unusedWeights();
  if (unused.length) throw new ConverterError(`weights not used by any layer: ${unused.slice(0, 5).join(', ')}`);
  return { tflite: cv.g.encode(description), inputs: mc.input_layers.map(([n]) => n), outputs: outputNames };
}
