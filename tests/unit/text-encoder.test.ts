/**
 * The generated text encoder: the ONNX graph written by scripts/zoo/text-encoder.ts computes what a plain
 * TypeScript forward pass of the same weights computes (so the writer's wiring - head split, mask bias, GELU, the
 * [CLS] pick - is checked against an independent implementation), at several seq lengths, and the mask works.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web';
import { TEXT_ENCODER, textEncoderOnnx, textEncoderWeights } from '../../scripts/zoo/text-encoder.ts';
import { reference } from './text-encoder-reference.ts';
import { mulberry32 } from '../../src/lib/rng.ts';

const S = TEXT_ENCODER;

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
