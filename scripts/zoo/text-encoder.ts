/**
 * The generated `text-encoder`: a small BERT-shaped transformer encoder for text classification, written straight
 * as ONNX (opset 17) with seeded weights. What makes it a text workload is what browser apps run: int64 `input_ids`
 * and `attention_mask` of shape [batch, seq], a token embedding looked up with Gather, attention whose cost grows
 * with seq^2, LayerNormalization and an erf GELU. Deterministic: the same bytes every run.
 *
 * The weights are returned too, so tests can run an independent forward pass and compare (tests/unit/text-encoder).
 */
import { mulberry32 } from '../../src/lib/rng.ts';
import { OnnxGraph } from './onnx-graph.ts';

export const TEXT_ENCODER = {
  vocab: 1000,
  hidden: 64,
  heads: 4,
  layers: 2,
  ffn: 256,
  maxSeq: 512,
  classes: 2,
  eps: 1e-5,
} as const;
export type TextEncoderShape = typeof TEXT_ENCODER;

export interface TextEncoderLayer {
  wq: Float32Array;
  bq: Float32Array;
  wk: Float32Array;
  bk: Float32Array;
  wv: Float32Array;
  bv: Float32Array;
  wo: Float32Array;
  bo: Float32Array;
  ln1g: Float32Array;
  ln1b: Float32Array;
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
  ln2g: Float32Array;
  ln2b: Float32Array;
}

export interface TextEncoderWeights {
  tokEmb: Float32Array; // [vocab, hidden]
  posEmb: Float32Array; // [maxSeq, hidden]
  embLnG: Float32Array;
  embLnB: Float32Array;
  layers: TextEncoderLayer[];
  wc: Float32Array; // [hidden, classes]
  bc: Float32Array;
}

/** Weights drawn uniformly in +-sqrt(6/(fanIn+fanOut)) (Glorot), LayerNorm gains near 1, small biases. */
export function textEncoderWeights(seed = 20261202, s: TextEncoderShape = TEXT_ENCODER): TextEncoderWeights {
  const rng = mulberry32(seed);
  const glorot = (fanIn: number, fanOut: number) => {
    const v = new Float32Array(fanIn * fanOut);
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    for (let i = 0; i < v.length; i++) v[i] = (rng() * 2 - 1) * limit;
    return v;
  };
  const around = (n: number, center: number, spread: number) =>
    Float32Array.from({ length: n }, () => center + (rng() * 2 - 1) * spread);
  const H = s.hidden;
  const layer = (): TextEncoderLayer => ({
    wq: glorot(H, H),
    bq: around(H, 0, 0.02),
    wk: glorot(H, H),
    bk: around(H, 0, 0.02),
    wv: glorot(H, H),
    bv: around(H, 0, 0.02),
    wo: glorot(H, H),
    bo: around(H, 0, 0.02),
    ln1g: around(H, 1, 0.1),
    ln1b: around(H, 0, 0.05),
    w1: glorot(H, s.ffn),
    b1: around(s.ffn, 0, 0.02),
    w2: glorot(s.ffn, H),
    b2: around(H, 0, 0.02),
    ln2g: around(H, 1, 0.1),
    ln2b: around(H, 0, 0.05),
  });
  return {
    tokEmb: around(s.vocab * H, 0, 0.5),
    posEmb: around(s.maxSeq * H, 0, 0.1),
    embLnG: around(H, 1, 0.1),
    embLnB: around(H, 0, 0.05),
    layers: Array.from({ length: s.layers }, layer),
    wc: glorot(H, s.classes),
    bc: around(s.classes, 0, 0.02),
  };
}

/** Writes the ONNX graph of the encoder with the given weights. Inputs and output carry symbolic `batch` and `seq`. */
export function textEncoderOnnx(w: TextEncoderWeights, s: TextEncoderShape = TEXT_ENCODER): Uint8Array {
  const g = new OnnxGraph();
  const H = s.hidden;
  const headDim = H / s.heads;
  const INT64 = 7;
  g.addInput('input_ids', ['batch', 'seq'], INT64);
  g.addInput('attention_mask', ['batch', 'seq'], INT64);
  g.addOutput('probs', ['batch', s.classes]);

  const f = (name: string, dims: number[], data: Float32Array) => g.floatInit(name, dims, data);
  const scalar = (name: string, v: number) => g.floatInit(name, [], new Float32Array([v]));
  const layerNorm = (x: string, gain: string, bias: string, hint: string) =>
    g.op('LayerNormalization', [x, gain, bias], hint, { axis: -1, epsilon: { float: s.eps } });
  const dense = (x: string, wName: string, wData: Float32Array, bData: Float32Array, nIn: number, nOut: number) =>
    g.op(
      'Add',
      [g.op('MatMul', [x, f(wName, [nIn, nOut], wData)], `${wName}_mm`), f(`${wName}_bias`, [nOut], bData)],
      `${wName}_out`,
    );

  // Embeddings: token (Gather) + position (the first `seq` rows of the position table) -> LayerNorm.
  const tok = g.op('Gather', [f('tok_emb', [s.vocab, H], w.tokEmb), 'input_ids'], 'tok', { axis: 0 });
  const seqLen = g.op('Shape', ['input_ids'], 'seq_len', { start: 1, end: 2 });
  const pos = g.op(
    'Slice',
    [f('pos_emb', [s.maxSeq, H], w.posEmb), g.int64Init('zero_1d', [0]), seqLen, g.int64Init('axis0_1d', [0])],
    'pos',
  );
  let x = layerNorm(
    g.op('Add', [tok, pos], 'emb'),
    f('emb_ln_g', [H], w.embLnG),
    f('emb_ln_b', [H], w.embLnB),
    'emb_ln',
  );

  // Attention mask -> additive bias [batch, 1, 1, seq]: 0 where a token is real, -10000 where it is padding.
  const maskF = g.op('Cast', ['attention_mask'], 'mask_f', { to: 1 });
  const maskBias = g.op(
    'Mul',
    [g.op('Sub', [scalar('one', 1), maskF], 'mask_inv'), scalar('neg_big', -10000)],
    'mask_bias',
  );
  const maskBias4 = g.op('Unsqueeze', [maskBias, g.int64Init('mask_axes', [1, 2])], 'mask_bias4');

  const splitHeads = g.int64Init('split_heads', [0, 0, s.heads, headDim]);
  const mergeHeads = g.int64Init('merge_heads', [0, 0, H]);
  const scale = scalar('attn_scale', 1 / Math.sqrt(headDim));
  const half = scalar('half', 0.5);
  const invSqrt2 = scalar('inv_sqrt2', Math.SQRT1_2);
  const one = 'one';
  w.layers.forEach((l, i) => {
    const p = `l${i}`;
    const heads = (t: string, perm: number[], hint: string) =>
      g.op('Transpose', [g.op('Reshape', [t, splitHeads], `${hint}_split`)], hint, { perm });
    const q = heads(dense(x, `${p}_wq`, l.wq, l.bq, H, H), [0, 2, 1, 3], `${p}_q`); // [b, h, s, d]
    const k = heads(dense(x, `${p}_wk`, l.wk, l.bk, H, H), [0, 2, 3, 1], `${p}_k`); // [b, h, d, s]
    const v = heads(dense(x, `${p}_wv`, l.wv, l.bv, H, H), [0, 2, 1, 3], `${p}_v`); // [b, h, s, d]
    const scores = g.op(
      'Add',
      [g.op('Mul', [g.op('MatMul', [q, k], `${p}_qk`), scale], `${p}_scaled`), maskBias4],
      `${p}_scores`,
    );
    const attn = g.op('Softmax', [scores], `${p}_attn`, { axis: -1 });
    const ctx = g.op(
      'Reshape',
      [g.op('Transpose', [g.op('MatMul', [attn, v], `${p}_ctx`)], `${p}_ctx_t`, { perm: [0, 2, 1, 3] }), mergeHeads],
      `${p}_ctx_m`,
    );
    const attnOut = dense(ctx, `${p}_wo`, l.wo, l.bo, H, H);
    x = layerNorm(
      g.op('Add', [x, attnOut], `${p}_res1`),
      f(`${p}_ln1_g`, [H], l.ln1g),
      f(`${p}_ln1_b`, [H], l.ln1b),
      `${p}_ln1`,
    );
    // GELU, the exact (erf) form BERT uses: 0.5 x (1 + erf(x / sqrt 2)).
    const h = dense(x, `${p}_w1`, l.w1, l.b1, H, s.ffn);
    const gelu = g.op(
      'Mul',
      [
        g.op('Mul', [h, half], `${p}_h_half`),
        g.op('Add', [one, g.op('Erf', [g.op('Mul', [h, invSqrt2], `${p}_h_s`)], `${p}_erf`)], `${p}_erf1`),
      ],
      `${p}_gelu`,
    );
    const ffOut = dense(gelu, `${p}_w2`, l.w2, l.b2, s.ffn, H);
    x = layerNorm(
      g.op('Add', [x, ffOut], `${p}_res2`),
      f(`${p}_ln2_g`, [H], l.ln2g),
      f(`${p}_ln2_b`, [H], l.ln2b),
      `${p}_ln2`,
    );
  });

  // Classify from the first token ([CLS] position), as BERT-style classifiers do.
  const cls = g.op('Gather', [x, g.int64Init('cls_index', [0], true)], 'cls', { axis: 1 });
  const logits = dense(cls, 'classifier', w.wc, w.bc, H, s.classes);
  g.node('Softmax', [logits], ['probs'], { axis: -1 });
  return g.encode('text-encoder', 'text-encoder: generated by inference-latency-lab (BERT-shaped, seeded weights)', 17);
}
