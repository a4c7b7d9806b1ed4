/**
 * A small builder for TFLite models (schema.fbs, schema version 3, file identifier "TFL3"), on the project's own
 * FlatBuffers encoder: one subgraph of float32/int32 tensors and builtin operators, the constant data in the
 * model's buffers (buffer 0 the empty sentinel), and a SignatureDef so runtimes' signature APIs see the names.
 * Ops stay plain objects until `encode`, so the converter can still fold and fuse into them.
 */
import { encode, ref, refs, scalar, str, table, vec, type FbField, type FbTable } from './flatbuffer-writer.ts';

/** BuiltinOperator codes (schema.fbs) of the ops the converter emits. */
export const OP = {
  ADD: 0,
  AVERAGE_POOL_2D: 1,
  CONCATENATION: 2,
  CONV_2D: 3,
  DEPTHWISE_CONV_2D: 4,
  FULLY_CONNECTED: 9,
  LOGISTIC: 14,
  MAX_POOL_2D: 17,
  MUL: 18,
  RELU: 19,
  RELU6: 21,
  RESHAPE: 22,
  SOFTMAX: 25,
  TANH: 28,
  PAD: 34,
  MEAN: 40,
  SUB: 41,
  MAXIMUM: 55,
  MINIMUM: 57,
  REDUCE_MAX: 82,
  RESIZE_NEAREST_NEIGHBOR: 97,
} as const;

/** BuiltinOptions union members (their 1-based position in the union). */
export const OPTIONS = {
  Conv2DOptions: 1,
  DepthwiseConv2DOptions: 2,
  Pool2DOptions: 5,
  FullyConnectedOptions: 8,
  SoftmaxOptions: 9,
  ConcatenationOptions: 10,
  AddOptions: 11,
  ReshapeOptions: 17,
  MulOptions: 21,
  PadOptions: 22,
  ReducerOptions: 27,
  SubOptions: 28,
  MaximumMinimumOptions: 39,
  ResizeNearestNeighborOptions: 74,
} as const;

/** ActivationFunctionType. */
export const ACT = { NONE: 0, RELU: 1, RELU6: 3, TANH: 4 } as const;
/** Padding. */
export const PAD = { SAME: 0, VALID: 1 } as const;
/** TensorType (the two the converter writes). */
const FLOAT32 = 0;
const INT32 = 2;

export interface TfliteOp {
  code: number;
  inputs: number[];
  outputs: number[];
  optionsType: number;
  /** Options fields by id; the converter may still change them (a fused activation). */
  options: (FbField | undefined)[];
}

interface TensorEntry {
  name: string;
  /** Concrete shape (the batch dim as 1) and the signature (-1 where the size is free). */
  shape: number[];
  signature: number[];
  type: number;
  buffer: number;
}

export class TfliteGraph {
  readonly tensors: TensorEntry[] = [];
  readonly ops: TfliteOp[] = [];
  /** Constant data by buffer index; index 0 is the empty sentinel. Float arrays stay editable until encode. */
  readonly buffers: (Float32Array | Int32Array | null)[] = [null];
  private readonly inputs: number[] = [];
  private readonly outputs: number[] = [];

  /**
   * @param batch the size written for free (batch) dims; null keeps them free: 1 in `shape`, -1 in
   * `shape_signature`. LiteRT.js (2.5) refuses inputs whose signature has a -1, so the zoo writes a fixed batch.
   */
  constructor(private readonly batch: number | null = null) {}

  /** A tensor without data (an activation); `null` dims are the free (batch) dims. */
  tensor(name: string, dims: (number | null)[]): number {
    this.tensors.push({
      name,
      shape: dims.map((d) => d ?? this.batch ?? 1),
      signature: dims.map((d) => d ?? this.batch ?? -1),
      type: FLOAT32,
      buffer: 0,
    });
    return this.tensors.length - 1;
  }

  constant(name: string, dims: number[], data: Float32Array | Int32Array): number {
    if (data.length !== dims.reduce((a, b) => a * b, 1))
      throw new Error(`constant ${name}: ${data.length} values for dims [${dims}]`);
    this.buffers.push(data);
    this.tensors.push({
      name,
      shape: dims,
      signature: dims,
      type: data instanceof Int32Array ? INT32 : FLOAT32,
      buffer: this.buffers.length - 1,
    });
    return this.tensors.length - 1;
  }

  /** The float data behind a constant tensor (for folding a batch norm into a conv). */
  data(tensor: number): Float32Array {
    const b = this.buffers[this.tensors[tensor]!.buffer];
    if (!(b instanceof Float32Array)) throw new Error(`tensor ${this.tensors[tensor]!.name} holds no float data`);
    return b;
  }

  op(code: number, inputs: number[], outputs: number[], optionsType = 0, options: (FbField | undefined)[] = []) {
    const op: TfliteOp = { code, inputs, outputs, optionsType, options };
    this.ops.push(op);
    return op;
  }

  /** The op that writes a tensor, if any. */
  producer(tensor: number): TfliteOp | undefined {
    return this.ops.find((o) => o.outputs.includes(tensor));
  }

  markInput(tensor: number): void {
    this.inputs.push(tensor);
  }

  /** Names an output tensor (another tensor that had the name, say the FC before a softmax, becomes `name/inner`). */
  markOutput(tensor: number, name: string): void {
    for (const t of this.tensors) if (t.name === name) t.name = `${name}/inner`;
    this.tensors[tensor]!.name = name;
    this.outputs.push(tensor);
  }

  /** `signatureKey` null: no SignatureDef (as older converters wrote files). */
  encode(description: string, signatureKey: string | null = 'serving_default'): Uint8Array {
    const codes = [...new Set(this.ops.map((o) => o.code))];
    const tensorTable = (t: TensorEntry): FbTable =>
      table([
        ref(vec('i32', t.shape)),
        scalar('i8', t.type),
        scalar('u32', t.buffer),
        ref(str(t.name)),
        undefined, // quantization
        undefined, // is_variable
        undefined, // sparsity
        ref(vec('i32', t.signature)),
        scalar('bool', 1), // has_rank: every tensor here is ranked
      ]);
    const opTable = (o: TfliteOp): FbTable =>
      table([
        scalar('u32', codes.indexOf(o.code)),
        ref(vec('i32', o.inputs)),
        ref(vec('i32', o.outputs)),
        o.optionsType ? scalar('u8', o.optionsType) : undefined,
        o.optionsType ? ref(table(o.options)) : undefined,
      ]);
    const subgraph = table([
      ref(refs(this.tensors.map(tensorTable))),
      ref(vec('i32', this.inputs)),
      ref(vec('i32', this.outputs)),
      ref(refs(this.ops.map(opTable))),
      ref(str('main')),
    ]);
    const buffers = this.buffers.map((b) =>
      b === null
        ? table([])
        : table([ref(vec('u8', new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)), 16))]),
    );
    const tensorMap = (i: number) => table([ref(str(this.tensors[i]!.name)), scalar('u32', i)]);
    const signature =
      signatureKey === null
        ? null
        : table([
            ref(refs(this.inputs.map(tensorMap))),
            ref(refs(this.outputs.map(tensorMap))),
            ref(str(signatureKey ?? '')),
            undefined, // deprecated_tag
            scalar('u32', 0),
          ]);
    const model = table([
      scalar('u32', 3),
      // deprecated_builtin_code is a byte: codes past 127 are written as 127 (PLACEHOLDER_FOR_GREATER_OP_CODES).
      ref(
        refs(codes.map((c) => table([scalar('i8', Math.min(c, 127)), undefined, scalar('i32', 1), scalar('i32', c)]))),
      ),
      ref(refs([subgraph])),
      ref(str(description)),
      ref(refs(buffers)),
      undefined, // metadata_buffer
      undefined, // metadata
      signature ? ref(refs([signature])) : undefined,
    ]);
    return encode(model, 'TFL3');
  }
}
