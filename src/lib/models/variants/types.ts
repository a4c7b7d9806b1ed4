/**
 * Element types of a graph's tensors, without a full shape inference: what the graph declares (initializers, inputs,
 * outputs, value infos, Constant values), then each node's outputs by simple rules (most operators keep their first
 * input's type). Enough for the converters to tell float tensors from index ones; unknown stays unknown. Pure.
 */
import { ATTR, DT, attrName, parseGraph, tensorName, tensorType, valueElemType, valueName } from './onnx.ts';
import type { OnnxGraph, OnnxNode } from './onnx.ts';
import { decode, int } from './proto.ts';

const INT64_OUT = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin']);
const BOOL_OUT = new Set([
  'Equal',
  'Less',
  'Greater',
  'LessOrEqual',
  'GreaterOrEqual',
  'Not',
  'And',
  'Or',
  'Xor',
  'IsNaN',
  'IsInf',
]);

export function inferTypes(g: OnnxGraph, outer: ReadonlyMap<string, number> = new Map()): Map<string, number> {
  const types = new Map(outer);
  for (const t of g.initializers) types.set(tensorName(t), tensorType(t));
  for (const v of [...g.inputs, ...g.valueInfo, ...g.outputs]) {
    const e = valueElemType(v);
    if (e) types.set(valueName(v), e);
  }
  for (const n of g.nodes) {
    const outs = nodeOutputTypes(n, types);
    n.outputs.forEach((o, k) => {
      const t = outs[k];
      if (o && t && !types.has(o)) types.set(o, t);
    });
  }
  return types;
}

function attrOf(n: OnnxNode, name: string) {
  return n.attrs.find((a) => attrName(a) === name);
}

function attrTensorType(n: OnnxNode, name: string): number | null {
  const a = attrOf(n, name);
  const t = a?.find((x) => x.no === ATTR.t && x.wire === 2);
  return t && t.wire === 2 ? tensorType(decode(t.bytes)) : null;
}

function constantType(n: OnnxNode): number {
  const a = n.attrs[0];
  const name = a ? attrName(a) : '';
  if (name === 'value') return attrTensorType(n, 'value') ?? 0;
  if (name.startsWith('value_float')) return DT.FLOAT;
  if (name.startsWith('value_int')) return DT.INT64;
  return 0;
}

/** Output types of a subgraph-holding node (If: then-branch outputs; Loop: body outputs after the condition). */
function subgraphOutputs(n: OnnxNode, attr: string, skip: number): number[] {
  const a = attrOf(n, attr);
  const g = a?.find((x) => x.no === ATTR.g && x.wire === 2);
  if (!g || g.wire !== 2) return [];
  return parseGraph(g.bytes)
    .outputs.slice(skip)
    .map((v) => valueElemType(v));
}

function nodeOutputTypes(n: OnnxNode, types: ReadonlyMap<string, number>): number[] {
  const first = types.get(n.inputs[0] ?? '') ?? 0;
  const op = n.opType;
  if (n.domain !== '' && n.domain !== 'ai.onnx') return [];
  if (op === 'Cast') return [Number(int(attrOf(n, 'to') ?? [], ATTR.i) ?? 0)];
  if (op === 'CastLike') return [types.get(n.inputs[1] ?? '') ?? 0];
  if (INT64_OUT.has(op)) return [DT.INT64];
  if (BOOL_OUT.has(op)) return [DT.BOOL];
  if (op === 'Constant') return [constantType(n)];
  if (op === 'ConstantOfShape') return [attrTensorType(n, 'value') ?? DT.FLOAT];
  if (op === 'Where') return [types.get(n.inputs[1] ?? '') ?? 0];
  if (op === 'OneHot') return [types.get(n.inputs[2] ?? '') ?? 0];
  if (op === 'TopK' || op === 'MaxPool') return [first, DT.INT64];
  if (op === 'Unique') return [first, DT.INT64, DT.INT64, DT.INT64];
  if (op === 'If') return subgraphOutputs(n, 'then_branch', 0);
  if (op === 'Loop') return subgraphOutputs(n, 'body', 1);
  if (op === 'Scan') return subgraphOutputs(n, 'body', 0);
  if (op === 'DynamicQuantizeLinear') return [DT.UINT8, DT.FLOAT, DT.UINT8];
  if (n.inputs.length === 0) {
    const dtype = attrOf(n, 'dtype');
    return [dtype ? Number(int(dtype, ATTR.i) ?? DT.FLOAT) : DT.FLOAT];
  }
  return n.outputs.map(() => first);
}
