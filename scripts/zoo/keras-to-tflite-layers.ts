/**
 * One handler per Keras layer class for the TFLite converter (keras-to-tflite.ts). Tensors are NHWC throughout, as in
 * Keras; weights are reordered into TFLite's layouts here.
 */
import { scalar } from './flatbuffer-writer.ts';
import { ConverterError, convOut, pair, type KerasLayer } from './keras-topology.ts';
import { Converter, FUSE_FIELD, firstInput, type Handler } from './tflite-converter.ts';
import { ACT, OP, OPTIONS, PAD } from './tflite-graph.ts';

/** Conv2D kernels are HWIO in Keras, [out, kh, kw, in] in TFLite. */
function hwioToOhwi(k: Float32Array, [h, w, i, o]: number[]): Float32Array {
  const out = new Float32Array(k.length);
  for (let y = 0; y < h!; y++)
    for (let x = 0; x < w!; x++)
      for (let ci = 0; ci < i!; ci++)
        for (let co = 0; co < o!; co++)
          out[((co * h! + y) * w! + x) * i! + ci] = k[((y * w! + x) * i! + ci) * o! + co]!;
  return out;
}

/** Dense kernels are [in, out] in Keras, [out, in] in TFLite. */
function transpose2d(k: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(k.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = k[r * cols + c]!;
  return out;
}

interface ConvGeometry {
  k: [number, number];
  s: [number, number];
  d: [number, number];
  padding: 'same' | 'valid';
}

function convGeometry(layer: KerasLayer): ConvGeometry {
  const c = layer.config;
  if (c.data_format && c.data_format !== 'channels_last')
    throw new ConverterError(`${layer.name}: data_format ${String(c.data_format)}`);
  const padding = String(c.padding ?? 'valid');
  if (padding !== 'same' && padding !== 'valid') throw new ConverterError(`${layer.name}: padding '${padding}'`);
  return {
    k: pair(c.kernel_size ?? c.pool_size ?? 2, `${layer.name}.kernel_size`),
    s: pair(c.strides ?? (c.pool_size ? c.pool_size : 1), `${layer.name}.strides`),
    d: pair(c.dilation_rate ?? 1, `${layer.name}.dilation_rate`),
    padding,
  };
}

function outShape(shape: (number | null)[], g: ConvGeometry, channels: number): (number | null)[] {
  return [
    shape[0]!,
    convOut(shape[1]!, g.k[0], g.s[0], g.d[0], g.padding),
    convOut(shape[2]!, g.k[1], g.s[1], g.d[1], g.padding),
    channels,
  ];
}

const conv: Handler = (cv, layer, inbound) => {
  const c = layer.config;
  const t = cv.get(firstInput(layer, inbound));
  const geo = convGeometry(layer);
  const { k, s, d } = geo;
  const depthwise = layer.class_name === 'DepthwiseConv2D';
  const cin = t.shape[3];
  if (typeof cin !== 'number') throw new ConverterError(`${layer.name}: input channels unknown`);
  const kernel = cv.weight(layer.name, depthwise ? 'depthwise_kernel' : 'kernel');
  const mult = depthwise ? Number(c.depth_multiplier ?? 1) : 1;
  const cout = depthwise ? cin * mult : Number(c.filters);
  if (kernel.length !== k[0] * k[1] * cin * (depthwise ? mult : cout))
    throw new ConverterError(`${layer.name}: kernel has ${kernel.length} values for ${k} x ${cin} -> ${cout}`);
  // A depthwise kernel [kh, kw, C, mult] is already [1, kh, kw, C*mult] in memory (channel c*mult+m). Copies,
  // because a following batch norm is folded into them in place.
  const w = depthwise
    ? cv.g.constant(`${layer.name}/depthwise_kernel`, [1, k[0], k[1], cout], Float32Array.from(kernel))
    : cv.g.constant(`${layer.name}/kernel`, [cout, k[0], k[1], cin], hwioToOhwi(kernel, [k[0], k[1], cin, cout]));
  const bias = c.use_bias !== false ? Float32Array.from(cv.weight(layer.name, 'bias')) : new Float32Array(cout);
  const b = cv.g.constant(`${layer.name}/bias`, [cout], bias);
  const pad = scalar('i8', geo.padding === 'same' ? PAD.SAME : PAD.VALID);
  const [sw, sh, dw, dh] = [scalar('i32', s[1]), scalar('i32', s[0]), scalar('i32', d[1]), scalar('i32', d[0])];
  const none = scalar('i8', ACT.NONE);
  if (depthwise)
    cv.emit(
      layer.name,
      OP.DEPTHWISE_CONV_2D,
      [t.index, w, b],
      outShape(t.shape, geo, cout),
      OPTIONS.DepthwiseConv2DOptions,
      [pad, sw, sh, scalar('i32', mult), none, dw, dh],
    );
  else
    cv.emit(layer.name, OP.CONV_2D, [t.index, w, b], outShape(t.shape, geo, cout), OPTIONS.Conv2DOptions, [
      pad,
      sw,
      sh,
      none,
      dw,
      dh,
    ]);
  cv.activation(layer.name, layer.name, String(c.activation ?? 'linear'));
};

/** Folds into the conv before it (scales its output channels, shifts its bias); else a MUL and an ADD. */
const batchNorm: Handler = (cv, layer, inbound) => {
  const c = layer.config;
  const src = firstInput(layer, inbound);
  const t = cv.get(src);
  const axis = Number(c.axis ?? -1);
  if (axis !== -1 && axis !== t.shape.length - 1)
    throw new ConverterError(`${layer.name}: axis ${axis} (only the channel axis)`);
  const ch = t.shape[t.shape.length - 1];
  if (typeof ch !== 'number') throw new ConverterError(`${layer.name}: channels unknown`);
  const gamma = c.scale === false ? new Float32Array(ch).fill(1) : cv.weight(layer.name, 'gamma');
  const beta = c.center === false ? new Float32Array(ch) : cv.weight(layer.name, 'beta');
  const mean = cv.weight(layer.name, 'moving_mean');
  const variance = cv.weight(layer.name, 'moving_variance');
  const eps = Number(c.epsilon ?? 1e-3);
  const scale = new Float32Array(ch);
  const shift = new Float32Array(ch);
  for (let i = 0; i < ch; i++) {
    scale[i] = gamma[i]! / Math.sqrt(variance[i]! + eps);
    shift[i] = beta[i]! - mean[i]! * scale[i]!;
  }
  const op = cv.soleProducer(src);
  const isConv = op?.code === OP.CONV_2D || op?.code === OP.DEPTHWISE_CONV_2D;
  if (op && isConv && !op.options[FUSE_FIELD[op.code]!]?.value) {
    const w = cv.g.data(op.inputs[1]!);
    const b = cv.g.data(op.inputs[2]!);
    // Conv weights are [out, kh, kw, in] (channel outermost); depthwise [1, kh, kw, C] (channel innermost).
    const per = w.length / ch;
    for (let i = 0; i < w.length; i++) w[i]! *= scale[op.code === OP.CONV_2D ? Math.floor(i / per) : i % ch]!;
    for (let i = 0; i < ch; i++) b[i] = b[i]! * scale[i]! + shift[i]!;
    return cv.alias(layer.name, t);
  }
  const mul = cv.g.constant(`${layer.name}/scale`, [ch], scale);
  const add = cv.g.constant(`${layer.name}/shift`, [ch], shift);
  const none = [scalar('i8', ACT.NONE)];
  const scaled = `${layer.name}/scaled`;
  cv.emit(scaled, OP.MUL, [t.index, mul], t.shape, OPTIONS.MulOptions, none);
  cv.emit(layer.name, OP.ADD, [cv.get(scaled).index, add], t.shape, OPTIONS.AddOptions, none);
};

const relu: Handler = (cv, layer, inbound) => {
  const c = layer.config;
  const src = firstInput(layer, inbound);
  if (Number(c.threshold ?? 0) !== 0 || Number(c.negative_slope ?? 0) !== 0)
    throw new ConverterError(`${layer.name}: ReLU with a threshold or negative slope`);
  const max = c.max_value == null ? null : Number(c.max_value);
  if (max !== null && max !== 6) throw new ConverterError(`${layer.name}: ReLU max_value ${max} (only 6)`);
  cv.activation(layer.name, src, max === 6 ? 'relu6' : 'relu');
};

const elementwise: Handler = (cv, layer, inbound) => {
  const codes: Record<string, [number, number]> = {
    Add: [OP.ADD, OPTIONS.AddOptions],
    Multiply: [OP.MUL, OPTIONS.MulOptions],
    Subtract: [OP.SUB, OPTIONS.SubOptions],
    Maximum: [OP.MAXIMUM, OPTIONS.MaximumMinimumOptions],
    Minimum: [OP.MINIMUM, OPTIONS.MaximumMinimumOptions],
  };
  const [code, options] = codes[layer.class_name]!;
  if (inbound.length < 2) throw new ConverterError(`${layer.name}: ${layer.class_name} needs two inputs`);
  const fusable = FUSE_FIELD[code] !== undefined;
  let acc = cv.get(inbound[0]!);
  inbound.slice(1).forEach((name, i) => {
    const key = i === inbound.length - 2 ? layer.name : `${layer.name}/${i}`;
    cv.emit(key, code, [acc.index, cv.get(name).index], acc.shape, options, fusable ? [scalar('i8', ACT.NONE)] : []);
    acc = cv.get(key);
  });
};

const pool: Handler = (cv, layer, inbound) => {
  const t = cv.get(firstInput(layer, inbound));
  const geo = convGeometry(layer);
  const code = layer.class_name === 'MaxPooling2D' ? OP.MAX_POOL_2D : OP.AVERAGE_POOL_2D;
  cv.emit(layer.name, code, [t.index], outShape(t.shape, geo, t.shape[3] as number), OPTIONS.Pool2DOptions, [
    scalar('i8', geo.padding === 'same' ? PAD.SAME : PAD.VALID),
    scalar('i32', geo.s[1]),
    scalar('i32', geo.s[0]),
    scalar('i32', geo.k[1]),
    scalar('i32', geo.k[0]),
    scalar('i8', ACT.NONE),
  ]);
};

export const LAYER_HANDLERS: Record<string, Handler> = {
  Conv2D: conv,
  DepthwiseConv2D: conv,
  BatchNormalization: batchNorm,
  ReLU: relu,
  Activation: (cv, layer, inbound) =>
    cv.activation(layer.name, firstInput(layer, inbound), String(layer.config.activation)),
  Add: elementwise,
  Multiply: elementwise,
  Subtract: elementwise,
  Maximum: elementwise,
  Minimum: elementwise,
  AveragePooling2D: pool,
  MaxPooling2D: pool,
};

export { transpose2d, type Converter };
