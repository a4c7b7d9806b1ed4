/**
 * An independent TypeScript forward pass of the generated text encoder (plain loops in float64), shared by the
 * encoder's test and the variant converters' tests.
 */
import { TEXT_ENCODER, type TextEncoderWeights } from '../../scripts/zoo/text-encoder.ts';

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
export function reference(w: TextEncoderWeights, ids: number[], mask: number[]): number[] {
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
