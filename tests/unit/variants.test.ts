/**
 * Model variants made by the lab: the protobuf codec keeps what it doesn't know, the fp16 and int8 converters give
 * models ONNX Runtime (onnxruntime-node, CPU) loads, that keep their I/O types and agree with the independent
 * TypeScript forward pass of the text encoder, and models already reduced are refused by name.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { textEncoderOnnx, textEncoderWeights, TEXT_ENCODER } from '../../scripts/zoo/text-encoder.ts';
import { OnnxGraph } from '../../scripts/zoo/onnx-graph.ts';
import { decode, encode, str } from '../../src/lib/models/variants/proto.ts';
import { halfBits, toFloat16 } from '../../src/lib/models/variants/fp16.ts';
import { quantizePerChannel, toInt8 } from '../../src/lib/models/variants/int8.ts';
import { DT, parseModel, tensorName, tensorType } from '../../src/lib/models/variants/onnx.ts';
import { readOnnxSignature } from '../../src/lib/models/onnx-signature.ts';
import { mulberry32 } from '../../src/lib/rng.ts';
import { reference } from './text-encoder-reference.ts';

const weights = textEncoderWeights();
const fp32 = textEncoderOnnx(weights);

async function encoderProbs(bytes: Uint8Array, ids: number[][], mask: number[][]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  const t = (rows: number[][]) =>
    new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]!.length]);
  const out = await session.run({ input_ids: t(ids), attention_mask: t(mask) });
  await session.release();
  return out.probs!.data as Float32Array;
}

describe('protobuf codec', () => {
  it('decodes and re-encodes an ONNX file byte for byte', () => {
    expect(Buffer.from(encode(decode(fp32))).equals(Buffer.from(fp32))).toBe(true);
  });

  it('keeps fields it does not know through a conversion', () => {
    const marked = encode([...decode(fp32), { no: 99, wire: 2, bytes: new TextEncoder().encode('keep me') }]);
    expect(str(decode(toFloat16(marked)), 99)).toBe('keep me');
    expect(str(decode(toInt8(marked)), 99)).toBe('keep me');
  });
});

describe('float16 rounding', () => {
  it('rounds to nearest even and clamps to the half range', () => {
    expect(halfBits(1)).toBe(0x3c00);
    expect(halfBits(-2)).toBe(0xc000);
    expect(halfBits(0.1)).toBe(0x2e66);
    expect(halfBits(65504)).toBe(0x7bff);
    expect(halfBits(1e9)).toBe(0x7bff);
    expect(halfBits(-3.4e38)).toBe(0xfbff); // attention masks' "-inf" stays a large negative number
    expect(halfBits(2 ** -24)).toBe(1); // smallest subnormal
    expect(halfBits(1 + 2 ** -11)).toBe(0x3c00); // a tie rounds to even
    expect(halfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(halfBits(NaN) & 0x7c00).toBe(0x7c00);
  });
});

describe('variants of the text encoder agree with the independent forward pass', () => {
  const S = TEXT_ENCODER;
  const rng = mulberry32(7);
  const seq = 16;
  const ids = [0, 1].map(() => Array.from({ length: seq }, () => 1 + Math.floor(rng() * (S.vocab - 1))));
  const mask = [Array(seq).fill(1), Array.from({ length: seq }, (_, i) => (i < seq / 2 ? 1 : 0))];
  const want = [...reference(weights, ids[0]!, mask[0]!), ...reference(weights, ids[1]!, mask[1]!)];

  // Tolerances on class probabilities. fp16 rounds every weight and activation to 11 significant bits (relative
  // error 4.9e-4 each); over two layers' ~30 rounding steps that stays near 1e-3 worst case: 5e-3 leaves margin.
  // int8 keeps 127 levels per channel (up to 0.4% per weight) and 255 per activation tensor: 3e-2.
  for (const [variant, make, tol] of [
    ['fp16', toFloat16, 5e-3],
    ['int8', (b: Uint8Array) => toInt8(b), 3e-2],
  ] as const) {
    it(`${variant}: same probabilities within ${tol}, same top-1, I/O types kept`, async () => {
      const bytes = make(fp32);
      expect(readOnnxSignature(bytes)).toEqual(readOnnxSignature(fp32));
      const got = await encoderProbs(bytes, ids, mask);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
      expect(worst).toBeLessThan(tol);
      // Not vacuous: the variant did change the numbers (it is not the fp32 model).
      const base = await encoderProbs(fp32, ids, mask);
      expect(got.some((v, i) => v !== base[i])).toBe(true);
      for (const row of [0, 1]) {
        const slice = (a: ArrayLike<number>) => Array.from(a).slice(row * S.classes, (row + 1) * S.classes);
        const argmax = (a: number[]) => a.indexOf(Math.max(...a));
        expect(argmax(slice(got))).toBe(argmax(slice(want)));
      }
    }, 60_000);
  }

  it('fp16 stores every float weight as float16; int8 stores MatMul weights as int8', () => {
    const half = parseModel(toFloat16(fp32)).graph;
    expect(half.initializers.filter((t) => tensorType(t) === DT.FLOAT)).toHaveLength(0);
    const q = parseModel(toInt8(fp32)).graph;
    // MatMuls with a weight (not the attention products of two activations).
    const source = parseModel(fp32).graph;
    const weightNames = new Set(source.initializers.map((t) => tensorName(t)));
    const matmuls = source.nodes.filter((n) => n.opType === 'MatMul' && weightNames.has(n.inputs[1]!)).length;
    expect(matmuls).toBeGreaterThan(0);
    expect(q.nodes.filter((n) => n.opType === 'MatMulInteger')).toHaveLength(matmuls);
    expect(q.initializers.filter((t) => tensorType(t) === DT.INT8).length).toBeGreaterThanOrEqual(matmuls);
  });
});

describe('refusals', () => {
  it('a model that is already float16 or int8 is refused by name', () => {
    const half = toFloat16(fp32);
    expect(() => toFloat16(half)).toThrow(/already float16/);
    expect(() => toInt8(half)).toThrow(/already float16/);
    const q = toInt8(fp32);
    expect(() => toFloat16(q)).toThrow(/already quantized \(it has DynamicQuantizeLinear\)/);
    expect(() => toInt8(q)).toThrow(/already quantized/);
  });

  it('a model with nothing to quantize is refused', () => {
    const g = new OnnxGraph();
    g.addInput('x', [1, 4]);
    g.addOutput('y', [1, 4]);
    g.node('Add', ['x', g.floatInit('c', [4], new Float32Array([1, 2, 3, 4]))], ['y']);
    expect(() => toInt8(g.encode('add', 'test'))).toThrow(/no MatMul, Gemm or Conv/);
  });
});

describe('fp16 keeps blocked operators in float32', () => {
  it('casts around Max and gives the same answer', async () => {
    const g = new OnnxGraph();
    g.addInput('x', [2, 3]);
    g.addOutput('y', [2, 3]);
    const scaled = g.op('Mul', ['x', g.floatInit('w', [3], new Float32Array([0.5, -2, 3]))], 'scaled');
    g.node('Max', [scaled, g.floatInit('floor', [3], new Float32Array([0, 0.25, -1]))], ['y']);
    const bytes = toFloat16(g.encode('max', 'test'));
    const graph = parseModel(bytes).graph;
    const max = graph.nodes.find((n) => n.opType === 'Max')!;
    for (const input of max.inputs) {
      const producer = graph.nodes.find((n) => n.outputs.includes(input));
      expect(producer?.opType).toBe('Cast');
    }
    const session = await ort.InferenceSession.create(bytes);
    const x = new Float32Array([1, 2, 3, -1, -2, -3]);
    const y = (await session.run({ x: new ort.Tensor('float32', x, [2, 3]) })).y!;
    expect(y.type).toBe('float32');
    expect(Array.from(y.data as Float32Array)).toEqual([0.5, 0.25, 9, 0, 4, -1]);
  });
});

describe('per-channel quantization', () => {
  it('gives each channel its own scale', () => {
    // Column 0 spans +-1, column 1 +-100: one scale for both would crush column 0 to a few levels.
    const w = new Float32Array([1, 100, -0.5, -100, 0.25, 50]);
    const { q, scales } = quantizePerChannel(w, [3, 2], 1);
    expect(Array.from(scales)).toEqual([1 / 127, 100 / 127].map(Math.fround));
    expect(Array.from(q)).toEqual([127, 127, -64, -127, 32, 64]);
  });
});

const mobilenet = join(import.meta.dirname, '..', '..', 'public', 'models', 'mobilenet-v2', 'model.onnx');
describe.skipIf(!existsSync(mobilenet))('mobilenet-v2 variant sizes (needs `npm run zoo`)', () => {
  it('int8 is at most 30% of the fp32 bytes, fp16 at most 55%', () => {
    const bytes = new Uint8Array(readFileSync(mobilenet));
    expect(toInt8(bytes).length / bytes.length).toBeLessThanOrEqual(0.3);
    expect(toFloat16(bytes).length / bytes.length).toBeLessThanOrEqual(0.55);
  });
});

describe('fp16 follows subgraphs', () => {
  it('converts an If whose branches read an outer float input and hold float Constants', async () => {
    const { onnx } = onnxProto;
    const T = onnx.AttributeProto.AttributeType;
    const vi = (name: string, elemType: number, dims: number[]) =>
      onnx.ValueInfoProto.create({
        name,
        type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
      });
    const constant = (out: string, v: number) =>
      onnx.NodeProto.create({
        opType: 'Constant',
        output: [out],
        name: out,
        attribute: [onnx.AttributeProto.create({ name: 'value_float', type: T.FLOAT, f: v })],
      });
    const branch = (op: string, v: number, out: string) =>
      onnx.GraphProto.create({
        name: out,
        node: [
          constant(`${out}_k`, v),
          onnx.NodeProto.create({ opType: op, input: ['x', `${out}_k`], output: [out], name: `${out}_op` }),
        ],
        output: [vi(out, 1, [2])],
      });
    const graph = onnx.GraphProto.create({
      name: 'if',
      node: [
        onnx.NodeProto.create({
          opType: 'If',
          input: ['c'],
          output: ['y'],
          name: 'if',
          attribute: [
            onnx.AttributeProto.create({ name: 'then_branch', type: T.GRAPH, g: branch('Mul', 2, 'then_y') }),
            onnx.AttributeProto.create({ name: 'else_branch', type: T.GRAPH, g: branch('Add', 1, 'else_y') }),
          ],
        }),
      ],
      input: [vi('x', 1, [2]), vi('c', 9, [])],
      output: [vi('y', 1, [2])],
    });
    const model = onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph });
    // A float weight so the model has something to convert (and isn't refused as weightless).
    model.graph!.initializer = [onnx.TensorProto.create({ name: 'unused', dims: [1], dataType: 1, floatData: [0.5] })];
    const bytes = toFloat16(onnx.ModelProto.encode(model).finish());
    const back = onnx.ModelProto.decode(bytes);
    const thenBranch = back
      .graph!.node!.find((n) => n.opType === 'If')!
      .attribute!.find((a) => a.name === 'then_branch')!.g!;
    expect(thenBranch.output![0]!.type!.tensorType!.elemType).toBe(DT.FLOAT16);
    expect(thenBranch.node![1]!.input).toEqual(['x__fp16', 'then_y_k']);
    const session = await ort.InferenceSession.create(bytes);
    const x = new ort.Tensor('float32', Float32Array.from([1.5, -3]), [2]);
    const run = async (c: boolean) =>
      Array.from(
        (await session.run({ x, c: new ort.Tensor('bool', Uint8Array.from([c ? 1 : 0]), []) })).y!.data as Float32Array,
      );
    expect(await run(true)).toEqual([3, -6]);
    expect(await run(false)).toEqual([2.5, -2]);
  });
});
