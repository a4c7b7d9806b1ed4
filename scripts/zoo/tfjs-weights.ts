/**
 * Decodes a TF.js weights manifest plus its shard bytes into float32 arrays by weight name,
 * dequantizing uint8/uint16 the way TF.js does (value = q * scale + min) so the ONNX copy holds the very
 * numbers TF.js computes with.
 */

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; min?: number; scale?: number };
}

export interface WeightsGroup {
  paths: string[];
  weights: WeightSpec[];
}

function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** `shards` holds each group's shard bytes concatenated, in manifest order. */
export function decodeWeights(manifest: WeightsGroup[], shards: Uint8Array[]): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  manifest.forEach((group, gi) => {
    const bytes = shards[gi];
    if (!bytes) throw new Error(`weights group ${gi} has no shard bytes`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let offset = 0;
    for (const w of group.weights) {
      const n = elementCount(w.shape);
      const values = new Float32Array(n);
      const q = w.quantization;
      if (w.dtype !== 'float32')
        throw new Error(`weight ${w.name}: dtype ${w.dtype} is not supported by the converter`);
      if (!q) {
        for (let i = 0; i < n; i++) values[i] = view.getFloat32(offset + i * 4, true);
        offset += n * 4;
      } else if (q.dtype === 'uint8' || q.dtype === 'uint16') {
        const size = q.dtype === 'uint8' ? 1 : 2;
        const scale = q.scale ?? 1;
        const min = q.min ?? 0;
        for (let i = 0; i < n; i++) {
          const raw = size === 1 ? view.getUint8(offset + i) : view.getUint16(offset + i * 2, true);
          values[i] = raw * scale + min;
        }
        offset += n * size;
      } else if (q.dtype === 'float16') {
        for (let i = 0; i < n; i++) values[i] = halfToFloat(view.getUint16(offset + i * 2, true));
        offset += n * 2;
      } else {
        throw new Error(`weight ${w.name}: quantization ${String((q as { dtype: string }).dtype)} is not supported`);
      }
      out.set(w.name, values);
    }
    if (offset !== bytes.byteLength) {
      throw new Error(`weights group ${gi}: manifest describes ${offset} bytes, shards hold ${bytes.byteLength}`);
    }
  });
  return out;
}
