/**
 * The generated text encoder: the ONNX graph written by scripts/zoo/text-encoder.ts computes what a plain
 * TypeScript forward pass of the same weights computes (so the writer's wiring - head split, mask bias, GELU, the
 * [CLS] pick - is checked against an independent implementation), at several seq lengths, and the mask works.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web';
import {
  TEXT_ENCODER,
  textEncoderOnnx,
  textEncoderWeights,
  type TextEncoderWeights,
} from '../../scripts/zoo/text-encoder.ts';
import { mulberry32 } from '../../src/lib/rng.ts';

const S = TEXT_ENCODER;

/** y[n, out] = x[n, in] W[in, out] + b */
function dense(x: Float64Array, n: number, nIn: number, w: Float32Array, b: Float32Array, nOut: number): Float64Array {
  const y = new Float64Array(n * nOut);
  for (let r = 0; r < n; r++) {
    for (let o = 0; o < nOut; o++) {
      let acc = b[o]!;
      for (let i = 0; i < nIn; i++) acc += x[r * nIn + i]! * w[i * nOut + o]!;
      y[r * nOut + o] = acc;
    }
  }
  return y;
}

function layerNorm(x: Float64Array, n: number, h: number, g: Float32Array, b: Float32Array): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < n; r++) {
    let mean = 0;
    for (let i = 0; i < h; i++) mean += x[r * h + i]!;
    mean /= h;
    let v = 0;
    for (let i = 0; i < h; i++) v += (x[r * h + i]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v / h + S.eps);
    for (let i = 0; i < h; i++) y[r * h + i] = (x[r * h + i]! - mean) * inv * g[i]! + b[i]!;
  }
  return y;
}

/** erf by Abramowitz-Stegun 7.1.26 (|error| < 1.5e-7), enough at a 1e-4 tolerance. */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

/** One sequence through the encoder: ids and mask of length seq -> class probabilities. */
function reference(w: TextEncoderWeights, ids: number[], mask: number[]): number[] {
  const H = S.hidden;
  const seq = ids.length;
  const d = H / S.heads;
  let x: Float64Array = new Float64Array(seq * H);
  for (let t = 0; t < seq; t++)
    for (let i = 0; i < H; i++) x[t * H + i] = w.tokEmb[ids[t]! * H + i]! + w.posEmb[t * H + i]!;
  x = layerNorm(x, seq, H, w.embLnG, w.embLnB);
  for (const l of w.layers) {
    const q = dense(x, seq, H, l.wq, l.bq, H);
    const k = dense(x, seq, H, l.wk, l.bk, H);
    const v = dense(x, seq, H, l.wv, l.bv, H);
    const ctx = new Float64Array(seq * H);
    for (let h = 0; h < S.heads; h++) {
      for (let a = 0; a < seq; a++) {
        const scores = new Float64Array(seq);
        for (let c = 0; c < seq; c++) {
          let dot = 0;
          for (let i = 0; i < d; i++) dot += q[a * H + h * d + i]! * k[c * H + h * d + i]!;
          scores[c] = dot / Math.sqrt(d) + (1 - mask[c]!) * -10000;
        }
        const max = Math.max(...scores);
        let sum = 0;
        for (let c = 0; c < seq; c++) sum += scores[c] = Math.exp(scores[c]! - max);
        for (let c = 0; c < seq; c++)
          for (let i = 0; i < d; i++) ctx[a * H + h * d + i]! += (scores[c]! / sum) * v[c * H + h * d + i]!;
      }
    }
    const attnOut = dense(ctx, seq, H, l.wo, l.bo, H);
    x = layerNorm(
      x.map((val, i) => val + attnOut[i]!),
      seq,
      H,
      l.ln1g,
      l.ln1b,
    );
    const hidden = dense(x, seq, H, l.w1, l.b1, S.ffn).map((val) => 0.5 * val * (1 + erf(val / Math.SQRT2)));
    const ff = dense(hidden, seq, S.ffn, l.w2, l.b2, H);
    x = layerNorm(
      x.map((val, i) => val + ff[i]!),
      seq,
      H,
      l.ln2g,
      l.ln2b,
    );
  }
  const logits = dense(x.subarray(0, H), 1, H, w.wc, w.bc, S.classes);
  const m = Math.max(...logits);
  const e = [...logits].map((z) => Math.exp(z - m));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((z) => z / total);
}

async function runOnnx(session: ort.InferenceSession, ids: number[][], mask: number[][]): Promise<Float32Array> {
  const batch = ids.length;
  const seq = ids[0]!.length;
  const t = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [batch, seq]);
  const out = await session.run({ input_ids: t(ids), attention_mask: t(mask) });
  expect(out.probs!.dims).toEqual([batch, S.classes]);
  return out.probs!.data as Float32Array;
}

describe('generated text encoder', () => {
  const weights = textEncoderWeights();
  const bytes = textEncoderOnnx(weights);

  it('writes the same bytes every time (deterministic zoo)', () => {
    expect(Buffer.from(textEncoderOnnx(textEncoderWeights())).equals(Buffer.from(bytes))).toBe(true);
  });

  for (const seq of [1, 16, 64]) {
    it(`ONNX Runtime matches an independent forward pass at seq ${seq}, batch 2, with padding`, async () => {
      ort.env.wasm.numThreads = 1;
      const session = await ort.InferenceSession.create(bytes);
      const rng = mulberry32(seq);
      const ids = [0, 1].map(() => Array.from({ length: seq }, () => 1 + Math.floor(rng() * (S.vocab - 1))));
      // The second sequence is padded after its first half (at least one real token).
      const mask = [Array(seq).fill(1), Array.from({ length: seq }, (_, i) => (i < Math.max(1, seq / 2) ? 1 : 0))];
      const got = await runOnnx(session, ids, mask);
      await session.release();
      const want = [...reference(weights, ids[0]!, mask[0]!), ...reference(weights, ids[1]!, mask[1]!)];
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-4);
      // Not a vacuous match: the two sequences are classified differently enough to tell apart.
      expect(Math.abs(got[0]! - got[2]!)).toBeGreaterThan(1e-3);
    }, 60_000);
  }

  it('ignores tokens the mask hides, and not the ones it keeps', async () => {
    const session = await ort.InferenceSession.create(bytes);
    const ids = [[5, 17, 300, 42, 7, 9, 11, 13]];
    const mask = [[1, 1, 1, 1, 0, 0, 0, 0]];
    const base = await runOnnx(session, ids, mask);
    const hiddenChanged = await runOnnx(session, [[5, 17, 300, 42, 900, 901, 902, 903]], mask);
    const keptChanged = await runOnnx(session, [[5, 17, 301, 42, 7, 9, 11, 13]], mask);
    await session.release();
    expect(Math.abs(hiddenChanged[0]! - base[0]!)).toBeLessThan(1e-5);
    expect(Math.abs(keptChanged[0]! - base[0]!)).toBeGreaterThan(1e-5);
  }, 60_000);
});
