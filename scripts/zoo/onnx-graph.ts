/**
 * A small builder for ONNX graphs, on the protobuf schema that the `onnx-proto` package ships.
 * Only what the zoo's converter and generator need: float/int64 initializers, nodes with attributes,
 * graph inputs/outputs with symbolic dims.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export type AttrValue = number | number[] | string | { floats: number[] } | { int: number } | { float: number };
export type ShapeDim = number | string;

export class OnnxGraph {
  private nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private counter = 0;

  /** A fresh, readable tensor name. */
  name(hint: string): string {
    return `${hint}__${this.counter++}`;
  }

  /** elemType: ONNX TensorProto.DataType (1 float, 7 int64, 9 bool, ...). */
  addInput(name: string, shape: ShapeDim[], elemType = 1): void {
    this.inputs.push(valueInfo(name, shape, elemType));
  }

  addOutput(name: string, shape: ShapeDim[], elemType = 1): void {
    this.outputs.push(valueInfo(name, shape, elemType));
  }

  floatInit(name: string, dims: number[], data: Float32Array): string {
    if (data.length !== dims.reduce((a, b) => a * b, 1))
      throw new Error(`initializer ${name}: ${data.length} values for dims [${dims}]`);
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dims,
        dataType: onnx.TensorProto.DataType.FLOAT,
        rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      }),
    );
    return name;
  }

  /** A 1-D int64 initializer, or a scalar (dims []) when `scalar` is set (e.g. a Gather index that drops the axis). */
  int64Init(name: string, values: number[], scalar = false): string {
    if (scalar && values.length !== 1)
      throw new Error(`initializer ${name}: a scalar holds one value, not ${values.length}`);
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dims: scalar ? [] : [values.length],
        dataType: onnx.TensorProto.DataType.INT64,
        rawData: new Uint8Array(data.buffer),
      }),
    );
    return name;
  }

  node(opType: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}): void {
    const attribute = Object.entries(attrs).map(([name, v]) => attr(name, v));
    this.nodes.push(
      onnx.NodeProto.create({ opType, input: inputs, output: outputs, name: outputs[0] ?? opType, attribute }),
    );
  }

  /** Adds a node with one fresh output and returns that output's name. */
  op(opType: string, inputs: string[], hint: string, attrs: Record<string, AttrValue> = {}): string {
    const out = this.name(hint);
    this.node(opType, inputs, [out], attrs);
    return out;
  }

  encode(graphName: string, docString: string, opset = 13): Uint8Array {
    const model = onnx.ModelProto.create({
      // Opsets 15-18 need IR version 8; older zoo models keep 7 (unchanged bytes).
      irVersion: opset >= 15 ? 8 : 7,
      producerName: 'inference-latency-lab',
      producerVersion: '1',
      docString,
      opsetImport: [{ domain: '', version: opset }],
      graph: onnx.GraphProto.create({
        name: graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      }),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, shape: ShapeDim[], elemType: number) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

function attr(name: string, v: AttrValue) {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string')
    return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(v) });
  if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: v });
  if (typeof v === 'number') return onnx.AttributeProto.create({ name, type: T.INT, i: v });
  if ('floats' in v) return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: v.floats });
  if ('float' in v) return onnx.AttributeProto.create({ name, type: T.FLOAT, f: v.float });
  return onnx.AttributeProto.create({ name, type: T.INT, i: v.int });
}

/** Reads an ONNX file's graph inputs and outputs (name, element type, dims), for the manifest. */
export function readOnnxSignature(bytes: Uint8Array): {
  inputs: { name: string; elemType: number; dims: (number | string | null)[] }[];
  outputs: { name: string; elemType: number; dims: (number | string | null)[] }[];
  opset: number;
} {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph) throw new Error('ONNX file has no graph');
  const initNames = new Set((graph.initializer ?? []).map((t) => t.name));
  const sig = (vi: onnxProto.onnx.IValueInfoProto) => {
    const tt = vi.type?.tensorType;
    return {
      name: vi.name ?? '',
      elemType: tt?.elemType ?? 0,
      dims: (tt?.shape?.dim ?? []).map((d) =>
        d.dimParam ? d.dimParam : d.dimValue != null && Number(d.dimValue) > 0 ? Number(d.dimValue) : null,
      ),
    };
  };
  const opset = Number(model.opsetImport?.find((o) => !o.domain)?.version ?? 0);
  return {
    inputs: (graph.input ?? []).filter((i) => !initNames.has(i.name ?? '')).map(sig),
    outputs: (graph.output ?? []).map(sig),
    opset,
  };
}
