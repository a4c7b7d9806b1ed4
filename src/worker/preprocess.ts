/**
 * The preprocess stage of a cell, what an app does before it hands tensors to the runtime. For an input made from
 * pictures (an `image` value policy) that is the real work: decode the encoded file (createImageBitmap), resize it to
 * the input's size (drawImage on an OffscreenCanvas, then getImageData), and write the pixels in the input's layout,
 * dtype and normalisation; each part is timed. Other inputs get a fresh copy of their synthesized values, so the
 * runtime never sees the same buffer twice.
 */
import { fitRect, imageGeometry, writePixels } from '../lib/models/image-input.ts';
import { allocate, elementCount, InputError, type HostTensor } from '../lib/models/inputs.ts';
import type { CellJob } from '../lib/contracts/job.ts';
import type { ImageFile, ImagePolicy, PreprocessParts, TensorSpec } from '../lib/schema.ts';

interface ImageInput {
  /** Index of the input in the model's input list (and in the synthesized tensors). */
  index: number;
  spec: TensorSpec;
  policy: ImagePolicy;
  /** The encoded files, as an app holds a picked file or a fetched response. */
  blobs: Blob[];
  canvas: OffscreenCanvas | null;
  ctx: OffscreenCanvasRenderingContext2D | null;
}

export interface Preprocessed {
  inputs: HostTensor[];
  /** Null when no input is made from pictures. */
  parts: PreprocessParts | null;
}

/** The image policy of an input in a job (the cell's override, else the model's default), or null. */
export function imagePolicyIn(job: Pick<CellJob, 'cell' | 'model'>, spec: TensorSpec): ImagePolicy | null {
  const policy = job.cell.inputOverrides[spec.name]?.values ?? job.model.valueDefaults[spec.name];
  return policy?.kind === 'image' ? policy : null;
}

/** Which picture batch item `item` of pass `pass` shows: the pictures in turn, so every pass decodes real files. */
export function pictureIndex(pass: number, batch: number, item: number, pictures: number): number {
  return (pass * batch + item) % pictures;
}

export class Preprocessor {
  private constructor(private readonly images: ImageInput[]) {}

  /**
   * Reads each image input's pictures (`fetchFile` checks size and checksum, naming a bad file) and checks that the
   * input can hold pictures, so a wrong policy fails before anything is timed.
   */
  static async create(
    specs: readonly TensorSpec[],
    raw: readonly HostTensor[],
    policyOf: (spec: TensorSpec) => ImagePolicy | null,
    fetchFile: (f: ImageFile) => Promise<ArrayBuffer>,
  ): Promise<Preprocessor> {
    const images: ImageInput[] = [];
    for (const [index, spec] of specs.entries()) {
      const policy = policyOf(spec);
      if (!policy) continue;
      if (policy.images.length === 0)
        throw new InputError(`input '${spec.name}' is made from pictures, but none were given`);
      imageGeometry(spec, raw[index]!.shape, policy);
      if (typeof createImageBitmap !== 'function' || typeof OffscreenCanvas !== 'function')
        throw new InputError(
          `input '${spec.name}' is made from pictures, but this browser's workers have no createImageBitmap/OffscreenCanvas`,
        );
      const blobs = await Promise.all(
        policy.images.map(async (f) => new Blob([await fetchFile(f)], { type: mimeOf(f.name) })),
      );
      images.push({ index, spec, policy, blobs, canvas: null, ctx: null });
    }
    return new Preprocessor(images);
  }

  get hasImages(): boolean {
    return this.images.length > 0;
  }

  /** The first image input's pictures, in order (predictions are reported per picture). */
  get pictures(): readonly ImageFile[] {
    return this.images[0]?.policy.images ?? [];
  }

  /** Inputs without pictures: a fresh copy each pass, synchronously (no await inside the timed stage). */
  copy(raw: readonly HostTensor[]): Preprocessed {
    return { inputs: raw.map((t) => ({ ...t, data: t.data.slice() as HostTensor['data'] })), parts: null };
  }

  /**
   * One pass's inputs made from pictures (`pass` picks them); the other inputs are copied. Image inputs are written
   * into fresh buffers, never copied first. The times are this pass's, summed over batch items and inputs.
   */
  async run(raw: readonly HostTensor[], pass: number): Promise<Preprocessed> {
    const parts: PreprocessParts = { decode: 0, resize: 0, normalise: 0 };
    const inputs: HostTensor[] = [];
    for (const [i, t] of raw.entries()) {
      const image = this.images.find((x) => x.index === i);
      inputs.push(
        image ? await this.picture(image, t, pass, parts) : { ...t, data: t.data.slice() as HostTensor['data'] },
      );
    }
    return { inputs, parts };
  }

  private async picture(image: ImageInput, raw: HostTensor, pass: number, parts: PreprocessParts): Promise<HostTensor> {
    const g = imageGeometry(image.spec, raw.shape, image.policy);
    const batch = raw.shape[0] ?? 1;
    const data = allocate(raw.dtype, elementCount(raw.shape));
    const ctx = this.context(image, g.width, g.height);
    for (let item = 0; item < batch; item++) {
      const t0 = performance.now();
      // Pixels as the file holds them: no colour-space conversion or premultiplied alpha that the model never saw.
      const bitmap = await createImageBitmap(image.blobs[pictureIndex(pass, batch, item, image.blobs.length)]!, {
        colorSpaceConversion: 'none',
        premultiplyAlpha: 'none',
      });
      const t1 = performance.now();
      const r = fitRect(bitmap.width, bitmap.height, g.width, g.height, image.policy.fit);
      ctx.clearRect(0, 0, g.width, g.height);
      ctx.drawImage(bitmap, r.sx, r.sy, r.sw, r.sh, r.dx, r.dy, r.dw, r.dh);
      bitmap.close();
      const rgba = ctx.getImageData(0, 0, g.width, g.height).data;
      const t2 = performance.now();
      writePixels(rgba, g, image.policy, raw.dtype, data, item);
      const t3 = performance.now();
      parts.decode += t1 - t0;
      parts.resize += t2 - t1;
      parts.normalise += t3 - t2;
    }
    return { ...raw, data };
  }

  /** One canvas per image input, at its size; willReadFrequently keeps it in CPU memory, as getImageData wants. */
  private context(image: ImageInput, width: number, height: number): OffscreenCanvasRenderingContext2D {
    if (!image.canvas || image.canvas.width !== width || image.canvas.height !== height) {
      image.canvas = new OffscreenCanvas(width, height);
      image.ctx = image.canvas.getContext('2d', { willReadFrequently: true, alpha: false });
      if (!image.ctx) throw new InputError('this browser gave no 2D context on an OffscreenCanvas');
    }
    return image.ctx!;
  }
}

function mimeOf(name: string): string {
  const ext = name.toLowerCase().split('.').pop() ?? '';
  return (
    {
      png: 'image/png',
      jpg: 'image/jpeg',
      jpeg: 'image/jpeg',
      webp: 'image/webp',
      gif: 'image/gif',
      bmp: 'image/bmp',
      avif: 'image/avif',
    }[ext] ?? 'application/octet-stream'
  );
}
