/**
 * The state of one Keras -> TFLite conversion (keras-to-tflite.ts): the graph being built, the converted tensor of
 * each layer, which weights were used, and how many layers read each tensor (an op can take a batch norm or an
 * activation into itself only when nothing else reads its output).
 */
import { ACT, OP, OPTIONS, TfliteGraph, type TfliteOp } from './tflite-graph.ts';
import { scalar, type FbField } from './flatbuffer-writer.ts';
import { ConverterError, type KerasLayer } from './keras-topology.ts';

export interface Tensor {
  index: number;
  /** Keras (NHWC) shape; null = free. */
  shape: (number | null)[];
}

export type Handler = (cv: Converter, layer: KerasLayer, inbound: string[]) => void;

/** Ops that carry a fused activation, and that field's id in their options table. */
export const FUSE_FIELD: Partial<Record<number, number>> = {
  [OP.CONV_2D]: 3,
  [OP.DEPTHWISE_CONV_2D]: 4,
  [OP.FULLY_CONNECTED]: 0,
  [OP.ADD]: 0,
  [OP.MUL]: 0,
  [OP.SUB]: 0,
};

export class Converter {
  readonly g: TfliteGraph;
  private readonly tensors = new Map<string, Tensor>();
  private readonly used = new Set<string>();
  /** How many layers (and model outputs) read each layer's output. */
  private readonly readers = new Map<string, number>();

  constructor(
    private readonly layers: KerasLayer[],
    outputLayers: string[],
    private readonly weights: Map<string, Float32Array>,
    private readonly handlers: Record<string, Handler>,
    batch: number | null,
  ) {
    this.g = new TfliteGraph(batch);
    for (const l of layers)
      for (const [name] of l.inbound_nodes[0] ?? []) this.readers.set(name, (this.readers.get(name) ?? 0) + 1);
    for (const name of outputLayers) this.readers.set(name, (this.readers.get(name) ?? 0) + 1);
  }

  weight(layer: string, param: string): Float32Array {
    const key = `${layer}/${param}`;
    const w = this.weights.get(key);
    if (!w) throw new ConverterError(`weight ${key} is missing from the weights manifest`);
    this.used.add(key);
    return w;
  }

  unusedWeights(): string[] {
    return [...this.weights.keys()].filter((k) => !this.used.has(k));
  }

  get(name: string): Tensor {
    const t = this.tensors.get(name);
    if (!t) throw new ConverterError(`${name} was not converted before a layer that reads it`);
    return t;
  }

  /** One op with one fresh float output, known to later layers as `key` (the tensor's own name: `tensorName`). */
  emit(
    key: string,
    code: number,
    inputs: number[],
    shape: (number | null)[],
    optionsType = 0,
    options: (FbField | undefined)[] = [],
    tensorName = key,
  ): TfliteOp {
    const out = this.g.tensor(tensorName, shape);
    const op = this.g.op(code, inputs, [out], optionsType, options);
    this.tensors.set(key, { index: out, shape });
    return op;
  }

  /** A layer that computes nothing here (Dropout, a linear activation, a folded batch norm). */
  alias(layer: string, t: Tensor): void {
    this.tensors.set(layer, t);
  }

  /**
   * The op that wrote `source`'s tensor when one layer reads that tensor (so the op can be changed in place). A
   * tensor can have several names (aliases); each alias is itself one read of the tensor, so it doesn't count.
   */
  soleProducer(source: string): TfliteOp | undefined {
    const index = this.get(source).index;
    const names = [...this.tensors].filter(([, t]) => t.index === index).map(([n]) => n);
    const reads = names.reduce((a, n) => a + (this.readers.get(n) ?? 0), 0) - (names.length - 1);
    return reads === 1 ? this.g.producer(index) : undefined;
  }

  /**
   * Applies a Keras activation to `source`'s tensor as layer `layer`: fused into the producing op when it can
   * carry it and nothing else reads its output, else a separate op.
   */
  activation(layer: string, source: string, act: string): void {
    const t = this.get(source);
    if (act === 'linear') return this.alias(layer, t);
    const fused = act === 'relu' ? ACT.RELU : act === 'relu6' ? ACT.RELU6 : act === 'tanh' ? ACT.TANH : null;
    const op = this.soleProducer(source);
    const field = op ? FUSE_FIELD[op.code] : undefined;
    if (fused !== null && op && field !== undefined && !op.options[field]?.value) {
      op.options[field] = scalar('i8', fused);
      return this.alias(layer, t);
    }
    const codes: Record<string, number> = {
      relu: OP.RELU,
      relu6: OP.RELU6,
      sigmoid: OP.LOGISTIC,
      tanh: OP.TANH,
      softmax: OP.SOFTMAX,
    };
    const code = codes[act];
    if (code === undefined) throw new ConverterError(`activation '${act}' is not supported by the TFLite converter`);
    // A layer's own activation (Conv2D, Dense) gets its own tensor name; an Activation layer's is the layer's.
    const name = layer === source ? `${layer}/${act}` : layer;
    if (code === OP.SOFTMAX)
      this.emit(layer, code, [t.index], t.shape, OPTIONS.SoftmaxOptions, [scalar('f32', 1)], name); // beta 1
    else this.emit(layer, code, [t.index], t.shape, 0, [], name);
  }

  convert(): void {
    for (const layer of this.layers) {
      const handler = this.handlers[layer.class_name];
      if (!handler)
        throw new ConverterError(`layer ${layer.name}: ${layer.class_name} is not supported by the TFLite converter`);
      handler(
        this,
        layer,
        (layer.inbound_nodes[0] ?? []).map(([name]) => name),
      );
    }
  }
}

export function firstInput(layer: KerasLayer, inbound: string[]): string {
  if (!inbound[0]) throw new ConverterError(`layer ${layer.name} (${layer.class_name}) has no input`);
  return inbound[0];
}
