/**
 * ONNX models on the generic protobuf codec: the graph's nodes, initializers and value infos as editable records,
 * everything else kept as read. Field numbers are those of onnx.proto (ModelProto, GraphProto, NodeProto,
 * AttributeProto, TensorProto, ValueInfoProto). Pure.
 */
import { decode, encode, int, ints, msgField, msgs, replace, str, strField, strs, intField } from './proto.ts';
import type { Field, Message } from './proto.ts';
import { bytesField, packedInts } from './proto.ts';

/** TensorProto.DataType values the converters meet. */
export const DT = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11 } as const;

/** A variant the model can't become (already float16, already quantized, external data ...): the reason, in words. */
export class VariantRefusal extends Error {}

export interface OnnxNode {
  opType: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  /** Raw AttributeProto messages. */
  attrs: Message[];
  /** Fields the converters don't touch (doc string, metadata). */
  rest: Message;
}

export interface OnnxGraph {
  nodes: OnnxNode[];
  initializers: Message[];
  inputs: Message[];
  outputs: Message[];
  valueInfo: Message[];
  rest: Message;
}

export interface OnnxModel {
  rest: Message;
  graph: OnnxGraph;
  /** Version of the default (ai.onnx) opset. */
  opset: number;
}

const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 } as const;
const GRAPH = { node: 1, initializer: 5, input: 11, output: 12, valueInfo: 13 } as const;
export const ATTR = { name: 1, f: 2, i: 3, s: 4, t: 5, g: 6, floats: 7, ints: 8, tensors: 10, graphs: 11, type: 20 };
export const ATTR_TYPE = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, TENSORS: 9 };
export const TENSOR = { dims: 1, dataType: 2, floatData: 4, int32Data: 5, int64Data: 7, name: 8, raw: 9 } as const;

export function parseNode(m: Message): OnnxNode {
  return {
    opType: str(m, NODE.opType),
    domain: str(m, NODE.domain),
    name: str(m, NODE.name),
    inputs: strs(m, NODE.input),
    outputs: strs(m, NODE.output),
    attrs: msgs(m, NODE.attribute),
    rest: m.filter((f) => !Object.values(NODE).includes(f.no as never)),
  };
}

export function encodeNode(n: OnnxNode): Message {
  return [
    ...n.inputs.map((s) => strField(NODE.input, s)),
    ...n.outputs.map((s) => strField(NODE.output, s)),
    ...(n.name ? [strField(NODE.name, n.name)] : []),
    strField(NODE.opType, n.opType),
    ...n.attrs.map((a) => msgField(NODE.attribute, a)),
    ...(n.domain ? [strField(NODE.domain, n.domain)] : []),
    ...n.rest,
  ];
}

export function parseGraph(bytes: Uint8Array): OnnxGraph {
  const m = decode(bytes);
  return {
    nodes: msgs(m, GRAPH.node).map(parseNode),
    initializers: msgs(m, GRAPH.initializer),
    inputs: msgs(m, GRAPH.input),
    outputs: msgs(m, GRAPH.output),
    valueInfo: msgs(m, GRAPH.valueInfo),
    rest: m.filter((f) => !Object.values(GRAPH).includes(f.no as never)),
  };
}

export function encodeGraph(g: OnnxGraph): Uint8Array {
  return encode([
    ...g.nodes.map((n) => msgField(GRAPH.node, encodeNode(n))),
    ...g.initializers.map((t) => msgField(GRAPH.initializer, t)),
    ...g.inputs.map((v) => msgField(GRAPH.input, v)),
    ...g.outputs.map((v) => msgField(GRAPH.output, v)),
    ...g.valueInfo.map((v) => msgField(GRAPH.valueInfo, v)),
    ...g.rest,
  ]);
}

export function parseModel(bytes: Uint8Array): OnnxModel {
  const m = decode(bytes);
  const graphField = m.find((f) => f.no === 7 && f.wire === 2);
  if (!graphField || graphField.wire !== 2 || int(m, 1) === null)
    throw new VariantRefusal('not an ONNX model: no ir_version and graph in the file');
  const opsets = msgs(m, 8);
  const main = opsets.find((o) => str(o, 1) === '' || str(o, 1) === 'ai.onnx');
  return {
    rest: m.filter((f) => f.no !== 7),
    graph: parseGraph(graphField.bytes),
    opset: Number((main && int(main, 2)) ?? 0),
  };
}

export function encodeModel(model: OnnxModel): Uint8Array {
  return encode([...model.rest, { no: 7, wire: 2, bytes: encodeGraph(model.graph) }]);
}

/* ---------- tensors ---------- */

export const tensorName = (t: Message): string => str(t, TENSOR.name);
export const tensorType = (t: Message): number => Number(int(t, TENSOR.dataType) ?? 0);
export const tensorDims = (t: Message): number[] => ints(t, TENSOR.dims).map(Number);

/** A float tensor's values (raw_data or float_data); external data is refused. */
export function floatValues(t: Message): Float32Array {
  if (int(t, 14) === 1n) throw new VariantRefusal(`tensor '${tensorName(t)}' keeps its data in an external file`);
  const raw = t.find((f) => f.no === TENSOR.raw && f.wire === 2);
  if (raw && raw.wire === 2) {
    // A copy on its own buffer, aligned for Float32Array (a Node Buffer's slice() would share the pool).
    const copy = new Uint8Array(raw.bytes);
    return new Float32Array(copy.buffer, 0, copy.length / 4);
  }
  const vals: number[] = [];
  for (const f of t) {
    if (f.no !== TENSOR.floatData || f.wire === 0) continue;
    const dv = new DataView(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength);
    for (let i = 0; i + 4 <= f.bytes.length; i += 4) vals.push(dv.getFloat32(i, true));
  }
  return Float32Array.from(vals);
}

/** A tensor with its data in raw_data (little-endian), dims as given. */
export function makeTensor(name: string, dataType: number, dims: readonly number[], raw: Uint8Array): Message {
  return [
    ...(dims.length ? [packedInts(TENSOR.dims, dims)] : []),
    intField(TENSOR.dataType, dataType),
    strField(TENSOR.name, name),
    bytesField(TENSOR.raw, raw),
  ];
}

/** The same tensor with new data type and raw data (name, dims and any other field kept). */
export function retype(t: Message, dataType: number, raw: Uint8Array): Message {
  return replace(
    t,
    [TENSOR.dataType, TENSOR.floatData, TENSOR.int32Data, TENSOR.raw],
    [intField(TENSOR.dataType, dataType), bytesField(TENSOR.raw, raw)],
  );
}

export const asBytes = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/* ---------- value infos and attributes ---------- */

export const valueName = (v: Message): string => str(v, 1);

/** A value info's tensor element type (0: not a tensor or not given). */
export function valueElemType(v: Message): number {
  const type = msgs(v, 2)[0];
  const tensor = type && msgs(type, 1)[0];
  return Number((tensor && int(tensor, 1)) ?? 0);
}

export function withElemType(v: Message, elemType: number): Message {
  const type = msgs(v, 2)[0];
  const tensor = type && msgs(type, 1)[0];
  if (!type || !tensor) return v;
  const newTensor = replace(tensor, [1], [intField(1, elemType)]);
  return replace(v, [2], [msgField(2, replace(type, [1], [msgField(1, newTensor)]))]);
}

export const attrName = (a: Message): string => str(a, ATTR.name);
export const attrInt = (n: OnnxNode, name: string): bigint | null => {
  const a = n.attrs.find((x) => attrName(x) === name);
  return a ? int(a, ATTR.i) : null;
};
export function attrFloat(n: OnnxNode, name: string): number | null {
  const a = n.attrs.find((x) => attrName(x) === name);
  const f = a?.find((x) => x.no === ATTR.f && x.wire === 5);
  return f && f.wire === 5 ? new DataView(f.bytes.buffer, f.bytes.byteOffset, 4).getFloat32(0, true) : null;
}
export const intAttr = (name: string, v: number): Message => [
  strField(ATTR.name, name),
  intField(ATTR.i, v),
  intField(ATTR.type, ATTR_TYPE.INT),
];
export const tensorAttr = (name: string, t: Message): Message => [
  strField(ATTR.name, name),
  msgField(ATTR.t, t),
  intField(ATTR.type, ATTR_TYPE.TENSOR),
];

/** A node the lab adds, named after its output and op (node names must be unique in a graph). */
export function node(opType: string, inputs: string[], outputs: string[], attrs: Message[] = []): OnnxNode {
  return { opType, domain: '', name: `${outputs[0] ?? ''}/lab_${opType}`, inputs, outputs, attrs, rest: [] };
}

/** Operators that mean the model is already quantized (its fp32 cell measures it as it is). */
export const QUANT_OPS = new Set([
  'QuantizeLinear',
  'DequantizeLinear',
  'DynamicQuantizeLinear',
  'MatMulInteger',
  'ConvInteger',
  'QLinearConv',
  'QLinearMatMul',
  'DynamicQuantizeMatMul',
  'MatMulNBits',
]);

/** Refuses a model that is already float16 or quantized, naming what it found. */
export function refuseIfReduced(model: OnnxModel, variant: string): void {
  const g = model.graph;
  const quant = g.nodes.find((n) => QUANT_OPS.has(n.opType));
  if (quant)
    throw new VariantRefusal(
      `the model is already quantized (it has ${quant.opType}); its fp32 cell measures it as it is, no ${variant} variant is made`,
    );
  const half =
    g.initializers.some((t) => tensorType(t) === DT.FLOAT16) ||
    [...g.inputs, ...g.outputs].some((v) => valueElemType(v) === DT.FLOAT16);
  if (half)
    throw new VariantRefusal(
      `the model is already float16; its fp32 cell measures it as it is, no ${variant} variant is made`,
    );
  if (!g.initializers.some((t) => tensorType(t) === DT.FLOAT))
    throw new VariantRefusal(`the model has no float32 weights to make a ${variant} variant of`);
}

export type { Field };
