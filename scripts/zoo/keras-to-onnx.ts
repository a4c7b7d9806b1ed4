/**
 * The project's own TF.js-layers (Keras functional topology) -> ONNX converter.
 *
 * Why: no npm package ships one network in both formats, and the lab's cross-runtime comparisons are only
 * meaningful on the very same weights. The ONNX graph takes the same NHWC input as TF.js (one Transpose at the
 * front) and keeps a symbolic `batch` dim, so both runtimes share one input buffer and one output layout.
 * Inside, 4-D tensors are NCHW (ONNX's layout); layers are emitted one by one, following the topology.
 */
import { OnnxGraph, type ShapeDim } from './onnx-graph.ts';

type KerasDim = number | null;

interface KerasLayer {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: [string, number, number, unknown][][];
}

interface KerasModelConfig {
  layers: KerasLayer[];
  input_layers: [string, number, number][];
  output_layers: [string, number, number][];
}

/** A converted tensor: its ONNX name and its shape in Keras (NHWC) terms; 4-D tensors are NCHW inside ONNX. */
interface Tensor {
  name: string;
  shape: (number | string | null)[];
}

export class ConverterError extends Error {
  override name = 'ConverterError';
}

/** Dense kernels are [in, out]; Conv2D kernels HWIO; the converter reorders these into ONNX's layouts. */
function transposeHWIOtoOIHW(k: Float32Array, [h, w, i, o]: number[]): Float32Array {
  const out = new Float32Array(k.length);
  for (let y = 0; y < h!; y++)
    for (let x = 0; x < w!; x++)
      for (let ci = 0; ci < i!; ci++)
        for (let co = 0; co < o!; co++)
          out[((co * i! + ci) * h! + y) * w! + x] = k[((y * w! + x) * i! + ci) * o! + co]!;
  return out;
}

/** Depthwise kernels are [h, w, C, mult]; ONNX grouped Conv wants [C*mult, 1, h, w] with channel c*mult+m. */
function depthwiseToOIHW(k: Float32Array, [h, w, c, m]: number[]): Float32Array {
  const out = new Float32Array(k.length);
  for (let y = 0; y < h!; y++)
    for (let x = 0; x < w!; x++)
      for (let ci = 0; ci < c!; ci++)
        for (let mi = 0; mi < m!; mi++)
          out[((ci * m! + mi) * h! + y) * w! + x] = k[((y * w! + x) * c! + ci) * m! + mi]!;
  return out;
}

function pair(v: unknown, label: string): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number'))
    return [v[0] as number, v[1] as number];
  throw new ConverterError(`${label}: expected a number or a pair, got ${JSON.stringify(v)}`);
}

/**
 * TF 'same' padding: out = ceil(in / stride), the total padding split with the odd pixel at the end
 * (so stride 2 on an even size pads [0, 1], not [1, 1]). Unknown sizes fall back to ONNX SAME_UPPER, which
 * is the same rule computed at run time.
 */
function samePads(
  inH: number | string | null,
  inW: number | string | null,
  k: [number, number],
  s: [number, number],
  d: [number, number],
) {
  if (typeof inH !== 'number' || typeof inW !== 'number') return null;
  const one = (n: number, kk: number, ss: number, dd: number) => {
    const eff = (kk - 1) * dd + 1;
    const out = Math.ceil(n / ss);
    const total = Math.max((out - 1) * ss + eff - n, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)] as const;
  };
  const [t, b] = one(inH, k[0], s[0], d[0]);
  const [l, r] = one(inW, k[1], s[1], d[1]);
  return [t, l, b, r];
}

function convOut(n: number | string | null, k: number, s: number, d: number, padding: string): number | null {
  if (typeof n !== 'number') return null;
  if (padding === 'same') return Math.ceil(n / s);
  return Math.floor((n - ((k - 1) * d + 1)) / s) + 1;
}

export interface ConvertOptions {
  /** Name for the symbolic batch dim. */
  batchDim: string;
  docString: string;
}

export interface ConvertResult {
  onnx: Uint8Array;
  inputs: { name: string; shape: ShapeDim[] }[];
  outputs: { name: string; shape: ShapeDim[] }[];
}

export function kerasToOnnx(
  modelTopology: unknown,
  weights: Map<string, Float32Array>,
  options: ConvertOptions,
): ConvertResult {
  const topo = modelTopology as { model_config?: { class_name: string; config: KerasModelConfig } };
  const mc = topo.model_config;
  if (!mc || (mc.class_name !== 'Model' && mc.class_name !== 'Functional')) {
    throw new ConverterError(`only functional Keras models are converted, got ${mc?.class_name ?? 'no model_config'}`);
  }
  const g = new OnnxGraph();
  const tensors = new Map<string, Tensor>();
  const used = new Set<string>();
  const weight = (layer: string, param: string): Float32Array => {
    const key = `${layer}/${param}`;
    const w = weights.get(key);
    if (!w) throw new ConverterError(`weight ${key} is missing from the weights manifest`);
    used.add(key);
    return w;
  };
  const inputsOut: ConvertResult['inputs'] = [];

  /** Applies a Keras activation by name to a tensor (NCHW when 4-D). */
  const activation = (x: Tensor, act: unknown, hint: string): Tensor => {
    const rank4 = x.shape.length === 4;
    switch (act ?? 'linear') {
      case 'linear':
        return x;
      case 'relu':
        return { ...x, name: g.op('Relu', [x.name], hint) };
      case 'relu6':
        return {
          ...x,
          name: g.op(
            'Clip',
            [
              x.name,
              g.floatInit(g.name('zero'), [], new Float32Array([0])),
              g.floatInit(g.name('six'), [], new Float32Array([6])),
            ],
            hint,
          ),
        };
      case 'sigmoid':
        return { ...x, name: g.op('Sigmoid', [x.name], hint) };
      case 'tanh':
        return { ...x, name: g.op('Tanh', [x.name], hint) };
      case 'elu':
        return { ...x, name: g.op('Elu', [x.name], hint) };
      case 'softmax':
        // Keras softmax is over the last (channel) axis; inside ONNX a 4-D tensor has channels at axis 1.
        return { ...x, name: g.op('Softmax', [x.name], hint, { axis: rank4 ? 1 : -1 }) };
      case 'swish':
      case 'silu':
        return { ...x, name: g.op('Mul', [x.name, g.op('Sigmoid', [x.name], `${hint}_sig`)], hint) };
      default:
        throw new ConverterError(`activation '${String(act)}' is not supported by the converter`);
    }
  };

  for (const layer of mc.config.layers) {
    const c = layer.config;
    const inbound = (layer.inbound_nodes[0] ?? []).map(([name]) => {
      const t = tensors.get(name);
      if (!t) throw new ConverterError(`layer ${layer.name}: input ${name} was not converted before it`);
      return t;
    });
    const x = inbound[0];
    const need = (): Tensor => {
      if (!x) throw new ConverterError(`layer ${layer.name} (${layer.class_name}) has no input`);
      return x;
    };
    const set = (t: Tensor) => tensors.set(layer.name, t);
    const name = layer.name.replace(/[^A-Za-z0-9_]/g, '_');

    switch (layer.class_name) {
      case 'InputLayer': {
        const shape = (c.batch_input_shape ?? c.batch_shape) as KerasDim[];
        const onnxShape: ShapeDim[] = shape.map((d, i) =>
          d === null ? (i === 0 ? options.batchDim : `${name}_d${i}`) : d,
        );
        g.addInput(layer.name, onnxShape);
        inputsOut.push({ name: layer.name, shape: onnxShape });
        // NHWC in, NCHW inside: one Transpose so the ONNX model takes TF.js's own input buffer.
        const inner =
          shape.length === 4 ? g.op('Transpose', [layer.name], `${name}_nchw`, { perm: [0, 3, 1, 2] }) : layer.name;
        set({ name: inner, shape: onnxShape });
        break;
      }
      case 'ZeroPadding2D': {
        const t = need();
        const [[top, bottom], [left, right]] = c.padding as [[number, number], [number, number]];
        const pads = g.int64Init(g.name(`${name}_pads`), [0, 0, top, left, 0, 0, bottom, right]);
        const [n, h, w, ch] = t.shape;
        set({
          name: g.op('Pad', [t.name, pads], name, { mode: 'constant' }),
          shape: [
            n!,
            typeof h === 'number' ? h + top + bottom : null,
            typeof w === 'number' ? w + left + right : null,
            ch!,
          ],
        });
        break;
      }
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        const t = need();
        if (c.data_format && c.data_format !== 'channels_last')
          throw new ConverterError(`${layer.name}: data_format ${String(c.data_format)}`);
        const k = pair(c.kernel_size, `${layer.name}.kernel_size`);
        const s = pair(c.strides ?? 1, `${layer.name}.strides`);
        const d = pair(c.dilation_rate ?? 1, `${layer.name}.dilation_rate`);
        const padding = String(c.padding);
        const depthwise = layer.class_name === 'DepthwiseConv2D';
        const cin = t.shape[3];
        if (typeof cin !== 'number') throw new ConverterError(`${layer.name}: input channels unknown`);
        const kernel = weight(layer.name, depthwise ? 'depthwise_kernel' : 'kernel');
        const mult = depthwise ? Number(c.depth_multiplier ?? 1) : 1;
        const cout = depthwise ? cin * mult : Number(c.filters);
        const kdims = depthwise ? [k[0], k[1], cin, mult] : [k[0], k[1], cin, cout];
        if (kernel.length !== kdims.reduce((a, b) => a * b, 1))
          throw new ConverterError(`${layer.name}: kernel has ${kernel.length} values, expected [${kdims}]`);
        const w = g.floatInit(
          g.name(`${name}_W`),
          [cout, depthwise ? 1 : cin, k[0], k[1]],
          depthwise ? depthwiseToOIHW(kernel, kdims) : transposeHWIOtoOIHW(kernel, kdims),
        );
        const ins = [t.name, w];
        if (c.use_bias !== false) ins.push(g.floatInit(g.name(`${name}_B`), [cout], weight(layer.name, 'bias')));
        const attrs: Record<string, number[] | number | string> = { kernel_shape: k, strides: s, dilations: d };
        if (depthwise) attrs.group = cin;
        if (padding === 'same') {
          const pads = samePads(t.shape[1]!, t.shape[2]!, k, s, d);
          if (pads) attrs.pads = pads;
          else attrs.auto_pad = 'SAME_UPPER';
        } else if (padding !== 'valid') throw new ConverterError(`${layer.name}: padding '${padding}'`);
        const conv = g.op('Conv', ins, name, attrs);
        const shape = [
          t.shape[0]!,
          convOut(t.shape[1]!, k[0], s[0], d[0], padding),
          convOut(t.shape[2]!, k[1], s[1], d[1], padding),
          cout,
        ];
        set(activation({ name: conv, shape }, c.activation, `${name}_act`));
        break;
      }
      case 'BatchNormalization': {
        const t = need();
        const axis = Number(c.axis ?? -1);
        if (axis !== -1 && axis !== t.shape.length - 1)
          throw new ConverterError(`${layer.name}: axis ${axis} (only the channel axis)`);
        const ch = t.shape[t.shape.length - 1];
        if (typeof ch !== 'number') throw new ConverterError(`${layer.name}: channels unknown`);
        const gamma = c.scale === false ? new Float32Array(ch).fill(1) : weight(layer.name, 'gamma');
        const beta = c.center === false ? new Float32Array(ch) : weight(layer.name, 'beta');
        const ins = [
          t.name,
          g.floatInit(g.name(`${name}_scale`), [ch], gamma),
          g.floatInit(g.name(`${name}_bias`), [ch], beta),
          g.floatInit(g.name(`${name}_mean`), [ch], weight(layer.name, 'moving_mean')),
          g.floatInit(g.name(`${name}_var`), [ch], weight(layer.name, 'moving_variance')),
        ];
        if (t.shape.length !== 4 && t.shape.length !== 2)
          throw new ConverterError(`${layer.name}: rank ${t.shape.length}`);
        set({
          name: g.op('BatchNormalization', ins, name, { epsilon: { float: Number(c.epsilon ?? 1e-3) } }),
          shape: t.shape,
        });
        break;
      }
      case 'ReLU': {
        const t = need();
        if (Number(c.threshold ?? 0) !== 0)
          throw new ConverterError(`${layer.name}: ReLU threshold ${String(c.threshold)}`);
        const slope = Number(c.negative_slope ?? 0);
        const max = c.max_value;
        if (slope !== 0 && max != null)
          throw new ConverterError(`${layer.name}: ReLU with both negative_slope and max_value`);
        if (slope !== 0) set({ ...t, name: g.op('LeakyRelu', [t.name], name, { alpha: { float: slope } }) });
        else if (max == null) set({ ...t, name: g.op('Relu', [t.name], name) });
        else {
          const lo = g.floatInit(g.name(`${name}_min`), [], new Float32Array([0]));
          const hi = g.floatInit(g.name(`${name}_max`), [], new Float32Array([Number(max)]));
          set({ ...t, name: g.op('Clip', [t.name, lo, hi], name) });
        }
        break;
      }
      case 'Activation':
        set(activation(need(), c.activation, name));
        break;
      case 'Add':
      case 'Multiply':
      case 'Subtract':
      case 'Maximum':
      case 'Minimum': {
        const op = { Add: 'Add', Multiply: 'Mul', Subtract: 'Sub', Maximum: 'Max', Minimum: 'Min' }[layer.class_name]!;
        if (inbound.length < 2) throw new ConverterError(`${layer.name}: ${layer.class_name} needs two inputs`);
        let acc = inbound[0]!.name;
        for (const other of inbound.slice(1)) acc = g.op(op, [acc, other.name], name);
        set({ name: acc, shape: inbound[0]!.shape });
        break;
      }
      case 'Concatenate': {
        const t = need();
        const rank = t.shape.length;
        let axis = Number(c.axis ?? -1);
        if (axis < 0) axis += rank;
        // Keras axis in NHWC -> ONNX axis in NCHW for 4-D tensors.
        const onnxAxis = rank === 4 ? [0, 2, 3, 1][axis]! : axis;
        const shape = [...t.shape];
        const sizes = inbound.map((i) => i.shape[axis]);
        shape[axis] = sizes.every((s) => typeof s === 'number') ? (sizes as number[]).reduce((a, b) => a + b, 0) : null;
        set({
          name: g.op(
            'Concat',
            inbound.map((i) => i.name),
            name,
            { axis: onnxAxis },
          ),
          shape,
        });
        break;
      }
      case 'AveragePooling2D':
      case 'MaxPooling2D': {
        const t = need();
        const k = pair(c.pool_size ?? 2, `${layer.name}.pool_size`);
        const s = pair(c.strides ?? k, `${layer.name}.strides`);
        const padding = String(c.padding ?? 'valid');
        const attrs: Record<string, number[] | string> = { kernel_shape: k, strides: s };
        if (padding === 'same') {
          const pads = samePads(t.shape[1]!, t.shape[2]!, k, s, [1, 1]);
          if (pads) attrs.pads = pads;
          else attrs.auto_pad = 'SAME_UPPER';
        }
        const op = layer.class_name === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool';
        set({
          name: g.op(op, [t.name], name, attrs),
          shape: [
            t.shape[0]!,
            convOut(t.shape[1]!, k[0], s[0], 1, padding),
            convOut(t.shape[2]!, k[1], s[1], 1, padding),
            t.shape[3]!,
          ],
        });
        break;
      }
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D': {
        const t = need();
        const op = layer.class_name === 'GlobalMaxPooling2D' ? 'GlobalMaxPool' : 'GlobalAveragePool';
        const pooled = g.op(op, [t.name], `${name}_pool`);
        set({ name: g.op('Flatten', [pooled], name, { axis: 1 }), shape: [t.shape[0]!, t.shape[3]!] });
        break;
      }
      case 'Flatten': {
        const t = need();
        if (t.shape.length === 2) {
          set(t);
          break;
        }
        // Keras flattens in NHWC order; go back to NHWC first so Dense weights line up.
        const nhwc =
          t.shape.length === 4 ? g.op('Transpose', [t.name], `${name}_nhwc`, { perm: [0, 2, 3, 1] }) : t.name;
        const rest = t.shape.slice(1);
        const size = rest.every((s) => typeof s === 'number') ? (rest as number[]).reduce((a, b) => a * b, 1) : null;
        set({ name: g.op('Flatten', [nhwc], name, { axis: 1 }), shape: [t.shape[0]!, size] });
        break;
      }
      case 'Dense': {
        const t = need();
        if (t.shape.length !== 2) throw new ConverterError(`${layer.name}: Dense on a rank-${t.shape.length} tensor`);
        const units = Number(c.units);
        const inDim = t.shape[1];
        if (typeof inDim !== 'number') throw new ConverterError(`${layer.name}: input size unknown`);
        const W = g.floatInit(g.name(`${name}_W`), [inDim, units], weight(layer.name, 'kernel'));
        const ins = [t.name, W];
        if (c.use_bias !== false) ins.push(g.floatInit(g.name(`${name}_B`), [units], weight(layer.name, 'bias')));
        const gemm = g.op('Gemm', ins, name);
        set(activation({ name: gemm, shape: [t.shape[0]!, units] }, c.activation, `${name}_act`));
        break;
      }
      case 'Dropout':
      case 'SpatialDropout2D':
      case 'GaussianNoise':
      case 'GaussianDropout':
        set(need()); // identity at inference
        break;
      case 'UpSampling2D': {
        const t = need();
        const [sh, sw] = pair(c.size ?? 2, `${layer.name}.size`);
        if ((c.interpolation ?? 'nearest') !== 'nearest')
          throw new ConverterError(`${layer.name}: interpolation ${String(c.interpolation)}`);
        const scales = g.floatInit(g.name(`${name}_scales`), [4], new Float32Array([1, 1, sh, sw]));
        const roi = g.floatInit(g.name(`${name}_roi`), [0], new Float32Array(0));
        const [n, h, w, ch] = t.shape;
        set({
          name: g.op('Resize', [t.name, roi, scales], name, {
            mode: 'nearest',
            coordinate_transformation_mode: 'asymmetric',
            nearest_mode: 'floor',
          }),
          shape: [n!, typeof h === 'number' ? h * sh : null, typeof w === 'number' ? w * sw : null, ch!],
        });
        break;
      }
      default:
        throw new ConverterError(`layer ${layer.name}: ${layer.class_name} is not supported by the converter`);
    }
  }

  const outputs: ConvertResult['outputs'] = [];
  for (const [layerName] of mc.config.output_layers) {
    const t = tensors.get(layerName);
    if (!t) throw new ConverterError(`output ${layerName} was not produced`);
    const outShape: ShapeDim[] = t.shape.map((d, i) =>
      d === null ? (i === 0 ? options.batchDim : `${layerName}_d${i}`) : d,
    );
    // Back to NHWC so the ONNX output has the same layout as TF.js's.
    const src =
      t.shape.length === 4 ? g.op('Transpose', [t.name], `${layerName}_nhwc`, { perm: [0, 2, 3, 1] }) : t.name;
    g.node('Identity', [src], [layerName]);
    g.addOutput(layerName, outShape);
    outputs.push({ name: layerName, shape: outShape });
  }
  const unused = [...weights.keys()].filter((k) => !used.has(k));
  if (unused.length) throw new ConverterError(`weights not used by any layer: ${unused.slice(0, 5).join(', ')}`);
  return { onnx: g.encode('converted', options.docString), inputs: inputsOut, outputs };
}
