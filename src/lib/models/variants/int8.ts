/**
 * The int8 variant: dynamic quantization of the weights of MatMul, Gemm and Conv, as onnxruntime's
 * quantize_dynamic does. Weights become int8, symmetric (zero point 0) with one scale per output channel (a
 * MatMul's column, a Conv's filter), so each channel keeps its own range. Activations are quantized at run time.
 *
 * Two forms (docs/variants.md says which the lab ships and why):
 * - `qoperator`: DynamicQuantizeLinear on the activation, MatMulInteger/ConvInteger on the int8 weight, the int32
 *   result cast to float and multiplied by activation scale x channel scale (then Gemm's/Conv's bias added). The
 *   per-channel scale is applied after the integer op, so the integer op needs only a scalar zero point.
 * - `qdq`: DequantizeLinear on the int8 weight in front of the unchanged float op (smaller file, float compute).
 * Pure: bytes in, bytes out.
 */
import {
  DT,
  asBytes,
  attrFloat,
  attrInt,
  attrName,
  encodeModel,
  floatValues,
  intAttr,
  makeTensor,
  node,
  parseModel,
  refuseIfReduced,
  tensorDims,
  tensorName,
  valueName,
  VariantRefusal,
} from './onnx.ts';
import type { OnnxGraph, OnnxNode } from './onnx.ts';
import type { Message } from './proto.ts';

/** `mixed`: MatMul/Gemm as qoperator, Conv as qdq. */
export type Int8Form = 'qoperator' | 'qdq' | 'mixed';

/**
 * The form the lab ships, measured on ORT-web 1.30 wasm (1 thread, docs/variants.md): MatMulInteger beat float
 * MatMul on the text encoder, while ConvInteger made MobileNetV2 4.5x slower than fp32 and QDQ Conv only ~1.2x.
 */
export const INT8_FORM: Int8Form = 'mixed';

interface Quantized {
  /** int8 values, same layout as the float weight (or transposed, for Gemm with transB). */
  q: Int8Array;
  /** One scale per channel along `axis`. */
  scales: Float32Array;
}

/** Symmetric int8 per channel: scale = max|w| / 127 over the channel (1 for an all-zero channel). */
export function quantizePerChannel(w: Float32Array, dims: readonly number[], axis: number): Quantized {
  const channels = dims[axis]!;
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const maxAbs = new Float32Array(channels);
  for (let i = 0; i < w.length; i++) {
    const c = Math.floor(i / inner) % channels;
    maxAbs[c] = Math.max(maxAbs[c]!, Math.abs(w[i]!));
  }
  const scales = maxAbs.map((m) => (m > 0 ? m / 127 : 1));
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const c = Math.floor(i / inner) % channels;
    q[i] = Math.max(-127, Math.min(127, Math.round(w[i]! / scales[c]!)));
  }
  return { q, scales };
}

function transpose2d(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c]!;
  return out;
}

/** Makes the int8 variant of an ONNX model. Throws VariantRefusal when there's nothing to quantize or it is reduced. */
export function toInt8(bytes: Uint8Array, form: Int8Form = INT8_FORM): Uint8Array {
  const model = parseModel(bytes);
  refuseIfReduced(model, 'int8');
  if (model.opset < 11)
    throw new VariantRefusal(
      `int8 needs opset 11 or later (DynamicQuantizeLinear); the model has opset ${model.opset}`,
    );
  const q = new Quantizer(model.graph, form, model.opset);
  const graph = q.run();
  if (q.count === 0)
    throw new VariantRefusal('the model has no MatMul, Gemm or Conv with a constant float weight to quantize');
  return encodeModel({ ...model, graph });
}

class Quantizer {
  count = 0;
  private inits: Map<string, Message>;
  private added: Message[] = [];
  private dynamic = new Map<string, [string, string, string]>();
  private used = new Set<string>();

  private form: 'qoperator' | 'qdq';

  constructor(
    private g: OnnxGraph,
    private forms: Int8Form,
    private opset: number,
  ) {
    this.inits = new Map(g.initializers.map((t) => [tensorName(t), t]));
    this.form = forms === 'qdq' ? 'qdq' : 'qoperator';
  }

  run(): OnnxGraph {
    const nodes = this.g.nodes.flatMap((n) => this.rewrite(n));
    // Float weights no node reads any more are dropped (that is where the bytes go), from the inputs too (old
    // exporters list initializers among them).
    const read = new Set(nodes.flatMap((n) => n.inputs));
    const outputs = new Set(this.g.outputs.map((v) => valueName(v)));
    const gone = (name: string) => this.used.has(name) && !read.has(name) && !outputs.has(name);
    return {
      ...this.g,
      nodes,
      initializers: [...this.g.initializers.filter((t) => !gone(tensorName(t))), ...this.added],
      inputs: this.g.inputs.filter((v) => !gone(valueName(v))),
    };
  }

  private weight(n: OnnxNode): { name: string; w: Float32Array; dims: number[] } | null {
    const name = n.inputs[1] ?? '';
    const t = this.inits.get(name);
    if (!t || n.domain !== '') return null;
    const dims = tensorDims(t);
    try {
      return { name, w: floatValues(t), dims };
    } catch {
      return null;
    }
  }

  private rewrite(n: OnnxNode): OnnxNode[] {
    if (this.inits.has(n.inputs[0] ?? '')) return [n];
    const w = this.weight(n);
    if (!w || w.w.length !== w.dims.reduce((a, b) => a * b, 1)) return [n];
    if (n.opType === 'MatMul' && w.dims.length === 2) return this.matmul(n, w, false);
    if (n.opType === 'Gemm' && w.dims.length === 2 && !attrInt(n, 'transA')) return this.matmul(n, w, true);
    // A Conv bias that is computed (not a weight) would need a reshape to broadcast: such a Conv stays float.
    const constBias = !n.inputs[2] || this.inits.has(n.inputs[2]);
    if (n.opType === 'Conv' && w.dims.length >= 3 && constBias) {
      this.form = this.forms === 'qoperator' ? 'qoperator' : 'qdq';
      return this.conv(n, w);
    }
    this.form = this.forms === 'qdq' ? 'qdq' : 'qoperator';
    return [n];
  }

  private init(name: string, dataType: number, dims: number[], data: ArrayBufferView): string {
    this.added.push(makeTensor(name, dataType, dims, asBytes(data)));
    return name;
  }

  /** One DynamicQuantizeLinear per activation tensor, shared by the ops that read it (Q, K and V). */
  private quantizeActivation(x: string, nodes: OnnxNode[]): [string, string, string] {
    const known = this.dynamic.get(x);
    if (known) return known;
    const out: [string, string, string] = [`${x}__q`, `${x}__q_scale`, `${x}__q_zero`];
    nodes.push(node('DynamicQuantizeLinear', [x], [...out]));
    this.dynamic.set(x, out);
    return out;
  }

  /** MatMul [K,N] or Gemm (B [K,N], or [N,K] with transB): int8 weight per column. */
  private matmul(n: OnnxNode, w: { name: string; w: Float32Array; dims: number[] }, gemm: boolean): OnnxNode[] {
    const transB = gemm && attrInt(n, 'transB') === 1n;
    const [k, cols] = transB ? [w.dims[1]!, w.dims[0]!] : [w.dims[0]!, w.dims[1]!];
    const kn = transB ? transpose2d(w.w, cols, k) : w.w;
    const { q, scales } = this.quantize(kn, [k, cols], 1);
    const alpha = gemm ? (attrFloat(n, 'alpha') ?? 1) : 1;
    const beta = gemm ? (attrFloat(n, 'beta') ?? 1) : 1;
    const y = n.outputs[0]!;
    const base = `${w.name}__${this.count++}`;
    this.used.add(w.name);
    const nodes: OnnxNode[] = [];
    const bias = gemm && n.inputs[2] ? n.inputs[2] : null;
    const product = bias ? `${y}__nobias` : y;
    if (this.form === 'qdq') {
      const wq = this.init(`${base}_int8`, DT.INT8, [k, cols], q);
      const sc = this.init(`${base}_scale`, DT.FLOAT, this.perAxis ? [cols] : [], scales);
      const zp = this.init(`${base}_zero`, DT.INT8, this.perAxis ? [cols] : [], new Int8Array(scales.length));
      const wf = `${base}_dq`;
      nodes.push(node('DequantizeLinear', [wq, sc, zp], [wf], this.perAxis ? [intAttr('axis', 1)] : []));
      const mm = alpha === 1 ? product : `${y}__noalpha`;
      nodes.push(node('MatMul', [n.inputs[0]!, wf], [mm]));
      if (alpha !== 1)
        nodes.push(node('Mul', [mm, this.init(`${base}_alpha`, DT.FLOAT, [], new Float32Array([alpha]))], [product]));
    } else {
      const [xq, xs, xz] = this.quantizeActivation(n.inputs[0]!, nodes);
      const wq = this.init(`${base}_int8`, DT.INT8, [k, cols], q);
      const zp = this.init(`${base}_zero`, DT.INT8, [], new Int8Array(1));
      const sc = this.init(
        `${base}_scale`,
        DT.FLOAT,
        [cols],
        scales.map((s) => s * alpha),
      );
      nodes.push(node('MatMulInteger', [xq, wq, xz, zp], [`${base}_i32`]));
      nodes.push(node('Cast', [`${base}_i32`], [`${base}_f32`], [intAttr('to', DT.FLOAT)]));
      nodes.push(node('Mul', [xs, sc], [`${base}_rescale`]));
      nodes.push(node('Mul', [`${base}_f32`, `${base}_rescale`], [product]));
    }
    if (bias) {
      const c = beta === 1 ? bias : `${base}_betac`;
      if (beta !== 1)
        nodes.push(node('Mul', [bias, this.init(`${base}_beta`, DT.FLOAT, [], new Float32Array([beta]))], [c]));
      nodes.push(node('Add', [product, c], [y]));
    }
    return nodes;
  }

  /** Per-axis DequantizeLinear needs opset 13; older models get one scale per tensor. */
  private get perAxis(): boolean {
    return this.opset >= 13;
  }

  /** Per channel, except QDQ in opsets before 13 (one scale for the tensor). */
  private quantize(w: Float32Array, dims: number[], axis: number): Quantized {
    return this.form === 'qdq' && !this.perAxis
      ? quantizePerChannel(w, [1, w.length], 0)
      : quantizePerChannel(w, dims, axis);
  }

  /** Conv weight [M, C/group, k...]: int8 per filter (axis 0). */
  private conv(n: OnnxNode, w: { name: string; w: Float32Array; dims: number[] }): OnnxNode[] {
    const m = w.dims[0]!;
    const base = `${w.name}__${this.count++}`;
    this.used.add(w.name);
    const nodes: OnnxNode[] = [];
    if (this.form === 'qdq') {
      const { q, scales } = this.quantize(w.w, w.dims, 0);
      const wq = this.init(`${base}_int8`, DT.INT8, w.dims, q);
      const sc = this.init(`${base}_scale`, DT.FLOAT, this.perAxis ? [m] : [], scales);
      const zp = this.init(`${base}_zero`, DT.INT8, this.perAxis ? [m] : [], new Int8Array(scales.length));
      nodes.push(node('DequantizeLinear', [wq, sc, zp], [`${base}_dq`], this.perAxis ? [intAttr('axis', 0)] : []));
      return [...nodes, { ...n, inputs: [n.inputs[0]!, `${base}_dq`, ...n.inputs.slice(2)] }];
    }
    const { q, scales } = quantizePerChannel(w.w, w.dims, 0);
    const [xq, xs, xz] = this.quantizeActivation(n.inputs[0]!, nodes);
    const wq = this.init(`${base}_int8`, DT.INT8, w.dims, q);
    const zp = this.init(`${base}_zero`, DT.INT8, [], new Int8Array(1));
    const bshape = [1, m, ...w.dims.slice(2).map(() => 1)];
    const sc = this.init(`${base}_scale`, DT.FLOAT, bshape, scales);
    const attrs = n.attrs.filter((a) => attrName(a) !== 'activation');
    const y = n.outputs[0]!;
    const bias = n.inputs[2];
    const scaled = bias ? `${base}_nobias` : y;
    nodes.push({
      ...n,
      opType: 'ConvInteger',
      name: `${n.name}/lab_int8`,
      inputs: [xq, wq, xz, zp],
      outputs: [`${base}_i32`],
      attrs,
    });
    nodes.push(node('Cast', [`${base}_i32`], [`${base}_f32`], [intAttr('to', DT.FLOAT)]));
    nodes.push(node('Mul', [xs, sc], [`${base}_rescale`]));
    nodes.push(node('Mul', [`${base}_f32`, `${base}_rescale`], [scaled]));
    if (bias) {
      const b = this.inits.get(bias);
      this.used.add(bias);
      nodes.push(node('Add', [scaled, this.init(`${base}_bias`, DT.FLOAT, bshape, floatValues(b!))], [y]));
    }
    return nodes;
  }
}
