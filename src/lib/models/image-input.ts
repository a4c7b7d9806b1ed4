/**
 * Image inputs, the pure half: where a picture goes in an input tensor (layout, channels, size), how it is fitted
 * to that size, and how RGBA pixels become the model's numbers. The worker's decode and resize (createImageBitmap,
 * OffscreenCanvas) live in src/worker/image-preprocess.ts; everything here runs, and is tested, in Node too.
 */
import { InputError, toFloat16Bits, type HostData } from './inputs.ts';
import type { Dtype, ImagePolicy, TensorSpec } from '../schema.ts';

/** Where one picture lands in an input of resolved shape [batch, ...]. */
export interface ImageGeometry {
  layout: 'NHWC' | 'NCHW';
  channels: 1 | 3;
  height: number;
  width: number;
}

const IMAGE_DTYPES: readonly Dtype[] = ['float32', 'float16', 'uint8', 'int8', 'int32'];

/**
 * The values an integer image input takes: pixels as they are (uint8, and int32 as in MoveNet's [1, 192, 192, 3]),
 * or shifted into int8; no normalisation applies. Null for float inputs (they take the policy's mean and std).
 */
export function integerPixelRange(dtype: Dtype): string | null {
  return dtype === 'uint8' || dtype === 'int32' ? '0..255' : dtype === 'int8' ? '-128..127' : null;
}

/**
 * Normalisations people pick by name. value = (pixel / 255 - mean) / std, per channel.
 * `0..255` keeps raw pixel values in a float tensor (std = 1/255).
 */
export const NORMALISATIONS = {
  '0..1': { mean: [0, 0, 0], std: [1, 1, 1] },
  '-1..1': { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
  imagenet: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  '0..255': { mean: [0, 0, 0], std: [1 / 255, 1 / 255, 1 / 255] },
} as const satisfies Record<string, { mean: readonly number[]; std: readonly number[] }>;
export type NormalisationName = keyof typeof NORMALISATIONS;

/** The preset a policy's mean/std match, or null when they are custom. */
export function normalisationName(p: Pick<ImagePolicy, 'mean' | 'std'>): NormalisationName | null {
  const same = (a: readonly number[], b: readonly number[]) => a.every((v, i) => Math.abs(v - b[i]!) < 1e-9);
  return (
    (Object.keys(NORMALISATIONS) as NormalisationName[]).find(
      (k) => same(p.mean, NORMALISATIONS[k].mean) && same(p.std, NORMALISATIONS[k].std),
    ) ?? null
  );
}

/** Whether an input can take pictures at all: a 4-D tensor of a pixel dtype with a channel axis of 1 or 3 (or symbolic). */
export function looksLikeImage(spec: TensorSpec): boolean {
  if (spec.shape.length !== 4 || !IMAGE_DTYPES.includes(spec.dtype)) return false;
  const c1 = spec.shape[1];
  const c3 = spec.shape[3];
  return c1 === 3 || c1 === 1 || c3 === 3 || c3 === 1;
}

/** Layout, channels and size from an input's resolved shape; an input that can't hold pictures says why. */
export function imageGeometry(
  spec: TensorSpec,
  shape: readonly number[],
  policy: Pick<ImagePolicy, 'layout'>,
): ImageGeometry {
  const where = `input '${spec.name}' [${shape.join(', ')}]`;
  if (!IMAGE_DTYPES.includes(spec.dtype))
    throw new InputError(`${where} is ${spec.dtype}: image values need a float32, float16, uint8, int8 or int32 input`);
  if (shape.length !== 4)
    throw new InputError(
      `${where} has ${shape.length} dims: image values need 4 ([batch, H, W, C] or [batch, C, H, W])`,
    );
  const isChannels = (n: number | undefined) => n === 3 || n === 1;
  let layout = policy.layout;
  if (layout === null) {
    if (isChannels(shape[3]) && !isChannels(shape[1])) layout = 'NHWC';
    else if (isChannels(shape[1]) && !isChannels(shape[3])) layout = 'NCHW';
    else if (isChannels(shape[3])) layout = 'NHWC';
    else
      throw new InputError(
        `${where}: no axis of size 3 or 1 for colour channels at position 1 or 3; say the layout (NHWC or NCHW)`,
      );
  }
  const [channels, height, width] = layout === 'NHWC' ? [shape[3], shape[1], shape[2]] : [shape[1], shape[2], shape[3]];
  if (!isChannels(channels))
    throw new InputError(`${where} as ${layout} has ${channels} channels: image values fill 3 (colour) or 1 (grey)`);
  return { layout, channels: channels as 1 | 3, height: height!, width: width! };
}

/** Source and destination rectangles for drawing a srcW x srcH picture into dstW x dstH, as CSS object-fit. */
export function fitRect(srcW: number, srcH: number, dstW: number, dstH: number, fit: ImagePolicy['fit']) {
  if (fit === 'fill') return { sx: 0, sy: 0, sw: srcW, sh: srcH, dx: 0, dy: 0, dw: dstW, dh: dstH };
  if (fit === 'cover') {
    // Scale so the picture covers the target, then take its centre.
    const scale = Math.max(dstW / srcW, dstH / srcH);
    const sw = dstW / scale;
    const sh = dstH / scale;
    return { sx: (srcW - sw) / 2, sy: (srcH - sh) / 2, sw, sh, dx: 0, dy: 0, dw: dstW, dh: dstH };
  }
  // contain: scale so the whole picture fits, centred; the rest stays the canvas's clear colour (black).
  const scale = Math.min(dstW / srcW, dstH / srcH);
  const dw = srcW * scale;
  const dh = srcH * scale;
  return { sx: 0, sy: 0, sw: srcW, sh: srcH, dx: (dstW - dw) / 2, dy: (dstH - dh) / 2, dw, dh };
}

/**
 * Writes one picture (RGBA, geometry's width x height) into batch item `item` of `out`, in the input's layout and
 * dtype: floats normalised per channel, uint8 and int32 as is (0..255), int8 shifted by -128. Grey is the Rec. 601 luma.
 */
export function writePixels(
  rgba: Uint8ClampedArray | Uint8Array,
  g: ImageGeometry,
  policy: Pick<ImagePolicy, 'mean' | 'std' | 'order'>,
  dtype: Dtype,
  out: HostData,
  item: number,
): void {
  const plane = g.height * g.width;
  const base = item * plane * g.channels;
  const src = policy.order === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  const scale = policy.std.map((s) => 1 / (255 * s));
  const shift = policy.mean.map((m, c) => m / policy.std[c]!);
  const toValue =
    dtype === 'uint8' || dtype === 'int32' ? (v: number) => v : dtype === 'int8' ? (v: number) => v - 128 : null;
  for (let p = 0; p < plane; p++) {
    const r = p * 4;
    for (let c = 0; c < g.channels; c++) {
      const pixel =
        g.channels === 1 ? 0.299 * rgba[r]! + 0.587 * rgba[r + 1]! + 0.114 * rgba[r + 2]! : rgba[r + src[c]!]!;
      const at = g.layout === 'NHWC' ? base + p * g.channels + c : base + c * plane + p;
      if (toValue) out[at] = toValue(Math.round(pixel));
      else {
        const v = pixel * scale[c]! - shift[c]!;
        out[at] = dtype === 'float16' ? toFloat16Bits(v) : v;
      }
    }
  }
}

/** The settings of an image policy other than its pictures: what a flag or a link carries. */
export type ImageOptions = Omit<ImagePolicy, 'kind' | 'images'>;
export const DEFAULT_IMAGE_OPTIONS: ImageOptions = {
  layout: null,
  fit: 'fill',
  mean: [0, 0, 0],
  std: [1, 1, 1],
  order: 'RGB',
};

/** `image`, or `image:` and the settings that differ from the defaults: `image:layout=NCHW,fit=cover,norm=imagenet`. */
export function imagePolicyText(p: ImageOptions): string {
  const parts: string[] = [];
  if (p.layout) parts.push(`layout=${p.layout}`);
  if (p.fit !== 'fill') parts.push(`fit=${p.fit}`);
  const norm = normalisationName(p);
  if (norm === null) parts.push(`mean=${p.mean.join('/')}`, `std=${p.std.join('/')}`);
  else if (norm !== '0..1') parts.push(`norm=${norm}`);
  if (p.order !== 'RGB') parts.push(`order=${p.order}`);
  return parts.length ? `image:${parts.join(',')}` : 'image';
}

/** Reads the text imagePolicyText writes (after `image` and an optional `:`); a bad part is named with the valid ones. */
export function parseImageOptions(text: string): ImageOptions {
  const out: ImageOptions = {
    ...DEFAULT_IMAGE_OPTIONS,
    mean: [...DEFAULT_IMAGE_OPTIONS.mean],
    std: [...DEFAULT_IMAGE_OPTIONS.std],
  };
  const triple = (v: string, what: string, positive: boolean): [number, number, number] => {
    const ns = v.split('/').map(Number);
    if (ns.length !== 3 || ns.some((n) => !Number.isFinite(n) || (positive && n <= 0)))
      throw new InputError(`image ${what} '${v}' is not three ${positive ? 'positive ' : ''}numbers a/b/c`);
    return ns as [number, number, number];
  };
  for (const part of text.split(',').filter(Boolean)) {
    const [key = '', value = ''] = part.split('=');
    const upper = value.toUpperCase();
    if (key === 'layout' && (upper === 'NHWC' || upper === 'NCHW')) out.layout = upper;
    else if (key === 'fit' && (value === 'fill' || value === 'cover' || value === 'contain')) out.fit = value;
    else if (key === 'order' && (upper === 'RGB' || upper === 'BGR')) out.order = upper;
    else if (key === 'norm' && value in NORMALISATIONS) {
      const n = NORMALISATIONS[value as NormalisationName];
      out.mean = [...n.mean] as [number, number, number];
      out.std = [...n.std] as [number, number, number];
    } else if (key === 'mean') out.mean = triple(value, 'mean', false);
    else if (key === 'std') out.std = triple(value, 'std', true);
    else
      throw new InputError(
        `image setting '${part}' is not one of layout=NHWC|NCHW, fit=fill|cover|contain, norm=${Object.keys(NORMALISATIONS).join('|')}, mean=a/b/c, std=a/b/c, order=RGB|BGR`,
      );
  }
  return out;
}

/**
 * Passes in one cycle of pictures: pass i shows pictures i x batch ... (mod n), so after n / gcd(n, batch) passes
 * every picture was shown equally often. 1 with one picture or none.
 */
export function pictureCycle(pictures: number, batch: number): number {
  if (pictures <= 1) return 1;
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  return pictures / gcd(pictures, batch);
}
