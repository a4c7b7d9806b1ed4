/**
 * The fp16 variant: float32 weights and compute in float16, the graph's inputs and outputs keeping their types
 * (a Cast after each float input, before each float output), and operators ORT has no float16 kernel for (or whose
 * float16 use loses too much) kept in float32 with Casts around them - the approach of onnxconverter-common's
 * float16 converter and its default block list. Constant nodes, tensor attributes, value infos and subgraphs
 * (If/Loop/Scan bodies) follow. Pure: bytes in, bytes out.
 */
import {
  ATTR,
  DT,
  asBytes,
  attrName,
  encodeGraph,
  encodeModel,
  floatValues,
  intAttr,
  makeTensor,
  node,
  parseGraph,
  parseModel,
  refuseIfReduced,
  retype,
  tensorAttr,
  tensorType,
  valueElemType,
  valueName,
  withElemType,
} from './onnx.ts';
import type { OnnxGraph, OnnxNode } from './onnx.ts';
import { decode, int, replace, intField, msgField } from './proto.ts';
import type { Message } from './proto.ts';
import { inferTypes } from './types.ts';

/**
 * Kept in float32: no float16 kernel in ORT's CPU/wasm provider, or float16 breaks them (index math in Range and
 * CumSum, box coordinates in NonMaxSuppression/RoiAlign, Resize's scales), plus the classic-ML (ai.onnx.ml) ops.
 */
export const FP16_BLOCKED = new Set([
  'ArrayFeatureExtractor',
  'Binarizer',
  'CastMap',
  'CategoryMapper',
  'DictVectorizer',
  'FeatureVectorizer',
  'Imputer',
  'LabelEncoder',
  'LinearClassifier',
  'LinearRegressor',
  'Normalizer',
  'OneHotEncoder',
  'RandomUniformLike',
  'SVMClassifier',
  'SVMRegressor',
  'Scaler',
  'TreeEnsembleClassifier',
  'TreeEnsembleRegressor',
  'ZipMap',
  'NonMaxSuppression',
  'TopK',
  'RoiAlign',
  'Resize',
  'Range',
  'CumSum',
  'Min',
  'Max',
  'Upsample',
]);

const F16_MAX = 65504;
const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** float32 -> IEEE half bits, round to nearest even; beyond the half range clamps to +-65504 (-inf masks stay usable). */
export function halfBits(value: number): number {
  F32[0] = Number.isNaN(value) ? value : Math.max(-F16_MAX, Math.min(F16_MAX, value));
  const x = U32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7bff;
  if (e <= 0) {
    if (e < -10) return sign; // below half's smallest subnormal
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && m & 1)) m++;
    return sign | m;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++; // may carry into the exponent: still the right rounding
  return sign | Math.min(h, 0x7bff);
}

export function toHalf(values: Float32Array): Uint8Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = halfBits(values[i]!);
  return asBytes(out);
}

const halfTensor = (t: Message): Message => retype(t, DT.FLOAT16, toHalf(floatValues(t)));

/** Makes the fp16 variant of an ONNX model. Throws VariantRefusal when the model can't become one (already reduced). */
export function toFloat16(bytes: Uint8Array): Uint8Array {
  const model = parseModel(bytes);
  refuseIfReduced(model, 'fp16');
  return encodeModel({ ...model, graph: convertGraph(model.graph, true) });
}

/** Renames uses of tensors (node inputs, here and in subgraphs that see the outer scope). */
function renameUses(nodes: OnnxNode[], from: Map<string, string>): void {
  for (const n of nodes) {
    n.inputs = n.inputs.map((i) => from.get(i) ?? i);
    n.attrs = n.attrs.map((a) => mapSubgraphs(a, (g) => (renameUses(g.nodes, from), g)));
  }
}

function mapSubgraphs(a: Message, f: (g: OnnxGraph) => OnnxGraph): Message {
  if (!a.some((x) => (x.no === ATTR.g || x.no === ATTR.graphs) && x.wire === 2)) return a;
  return a.map((x) =>
    (x.no === ATTR.g || x.no === ATTR.graphs) && x.wire === 2
      ? { ...x, bytes: encodeGraph(f(parseGraph(x.bytes))) }
      : x,
  );
}

function convertGraph(g: OnnxGraph, main: boolean): OnnxGraph {
  const types = inferTypes(g);
  const isFloat = (name: string) => name !== '' && types.get(name) === DT.FLOAT;
  const nodes: OnnxNode[] = [];
  const ioNames = new Set<string>();
  if (main) {
    // Float inputs: declared float32 still; a Cast makes the float16 copy the graph uses.
    const renamed = new Map<string, string>();
    for (const v of g.inputs) {
      const name = valueName(v);
      if (valueElemType(v) !== DT.FLOAT || g.initializers.some((t) => valueName(t) === name)) continue;
      ioNames.add(name);
      renamed.set(name, `${name}__fp16`);
      nodes.push(node('Cast', [name], [`${name}__fp16`], [intAttr('to', DT.FLOAT16)]));
    }
    renameUses(g.nodes, renamed);
  }
  const outCasts: OnnxNode[] = [];
  if (main) {
    // Float outputs: the graph makes a float16 tensor, a last Cast gives the declared float32 one.
    const renamed = new Map<string, string>();
    for (const v of g.outputs) {
      const name = valueName(v);
      const producer = g.nodes.find((n) => n.outputs.includes(name));
      if (valueElemType(v) !== DT.FLOAT || !producer) continue;
      ioNames.add(name);
      renamed.set(name, `${name}__fp16`);
      producer.outputs = producer.outputs.map((o) => (o === name ? `${name}__fp16` : o));
      outCasts.push(node('Cast', [`${name}__fp16`], [name], [intAttr('to', DT.FLOAT)]));
    }
    renameUses(g.nodes, renamed);
  }
  for (const n of g.nodes) nodes.push(...convertNode(n, isFloat));
  const retypeVi = (v: Message) => (valueElemType(v) === DT.FLOAT ? withElemType(v, DT.FLOAT16) : v);
  return {
    ...g,
    nodes: [...nodes, ...outCasts],
    initializers: g.initializers.map((t) => (tensorType(t) === DT.FLOAT ? halfTensor(t) : t)),
    // Subgraph I/O follows the outer graph's tensors, which are float16 now; the main graph's keeps its types.
    inputs: main ? g.inputs : g.inputs.map(retypeVi),
    outputs: main ? g.outputs : g.outputs.map(retypeVi),
    valueInfo: g.valueInfo.map((v) => (ioNames.has(valueName(v)) ? v : retypeVi(v))),
  };
}

function convertNode(n: OnnxNode, isFloat: (name: string) => boolean): OnnxNode[] {
  const standard = n.domain === '' || n.domain === 'ai.onnx';
  if (!standard || FP16_BLOCKED.has(n.opType)) {
    // float32 island: float16 inputs cast up, float outputs cast back down.
    const before: OnnxNode[] = [];
    const after: OnnxNode[] = [];
    const inputs = n.inputs.map((i, k) => {
      if (!isFloat(i)) return i;
      const up = `${i}__fp32_${n.outputs[0] ?? n.opType}_${k}`;
      before.push(node('Cast', [i], [up], [intAttr('to', DT.FLOAT)]));
      return up;
    });
    const outputs = n.outputs.map((o) => {
      if (!isFloat(o)) return o;
      after.push(node('Cast', [`${o}__fp32`], [o], [intAttr('to', DT.FLOAT16)]));
      return `${o}__fp32`;
    });
    return [...before, { ...n, inputs, outputs }, ...after];
  }
  let attrs = n.attrs.map((a) => convertAttr(a));
  if (n.opType === 'Cast' || n.opType === 'EyeLike' || n.opType.startsWith('Random'))
    attrs = attrs.map((a) =>
      (attrName(a) === 'to' || attrName(a) === 'dtype') && int(a, ATTR.i) === BigInt(DT.FLOAT)
        ? replace(a, [ATTR.i], [intField(ATTR.i, DT.FLOAT16)])
        : a,
    );
  if (n.opType === 'Constant') attrs = attrs.map(constantScalars);
  // ConstantOfShape without a value fills float32 zeros: give it a float16 zero.
  if (n.opType === 'ConstantOfShape' && !attrs.some((a) => attrName(a) === 'value'))
    attrs.push(tensorAttr('value', makeTensor('', DT.FLOAT16, [1], new Uint8Array(2))));
  return [{ ...n, attrs }];
}

/** Float tensors in attributes (Constant's value, ConstantOfShape's value, ...) to float16; subgraphs converted. */
function convertAttr(a: Message): Message {
  const withGraphs = mapSubgraphs(a, (g) => convertGraph(g, false));
  return withGraphs.map((x) => {
    if ((x.no !== ATTR.t && x.no !== ATTR.tensors) || x.wire !== 2) return x;
    const t = decode(x.bytes);
    return tensorType(t) === DT.FLOAT ? msgField(x.no, halfTensor(t)) : x;
  });
}

/** Constant's value_float / value_floats become a float16 `value` tensor. */
function constantScalars(a: Message): Message {
  const name = attrName(a);
  if (name !== 'value_float' && name !== 'value_floats') return a;
  const values: number[] = [];
  for (const x of a) {
    if ((x.no !== ATTR.f && x.no !== ATTR.floats) || x.wire === 0) continue;
    const dv = new DataView(x.bytes.buffer, x.bytes.byteOffset, x.bytes.byteLength);
    for (let i = 0; i + 4 <= x.bytes.length; i += 4) values.push(dv.getFloat32(i, true));
  }
  const dims = name === 'value_float' ? [] : [values.length];
  return tensorAttr('value', makeTensor('', DT.FLOAT16, dims, toHalf(Float32Array.from(values))));
}
