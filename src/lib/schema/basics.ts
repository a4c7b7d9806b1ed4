/**
 * The result file's schemas, part: tensors, runtimes, model formats, stages, steady-state classes and input value
 * policies.
 * Re-exported by ../schema.ts, which every reader imports.
 */
import { z } from 'zod';
import { STAGES } from '../stages.ts';
import { BACKENDS, RUNTIMES } from '../targets.ts';

export const DTYPES = ['float32', 'float16', 'int32', 'int64', 'uint8', 'int8', 'bool'] as const;
export const Dtype = z.enum(DTYPES);
export type Dtype = z.infer<typeof Dtype>;

/** A dimension: a fixed size, or a symbolic name such as `batch` that is resolved per cell. */
export const Dim = z.union([z.number().int().nonnegative(), z.string().min(1)]);
export type Dim = z.infer<typeof Dim>;

export const TensorSpec = z.object({ name: z.string().min(1), dtype: Dtype, shape: z.array(Dim) });
export type TensorSpec = z.infer<typeof TensorSpec>;

/** The runtimes and backends (src/lib/targets.ts says what each is). */
export const RuntimeId = z.enum(RUNTIMES);
export type RuntimeId = z.infer<typeof RuntimeId>;

export const BackendId = z.enum(BACKENDS);
export type BackendId = z.infer<typeof BackendId>;

/** `calibration`: the built-in synthetic model of the calibration runtime; it has no files. */
export const MODEL_FORMATS = ['onnx', 'tfjs-layers', 'tfjs-graph', 'calibration', 'tflite'] as const;
export const ModelFormat = z.enum(MODEL_FORMATS);
export type ModelFormat = z.infer<typeof ModelFormat>;

export const Stage = z.enum(STAGES);
export type Stage = z.infer<typeof Stage>;

/** How a cell's per-pass times settled (the steady-state analysis, src/lib/measure/steady-state.ts, decides). */
export const STEADY_CLASSES = ['flat', 'warm-up', 'slowdown', 'no-steady-state'] as const;
export type SteadyClass = (typeof STEADY_CLASSES)[number];

/** An encoded picture (PNG, JPEG, WebP, ...) an image input is made from: fetched like a model file and checked. */
export const ImageFile = z.object({
  /** Shown in results (`astronaut.png`). */
  name: z.string().min(1),
  /** Relative to the models folder (`images/astronaut.png`), or a key of the job's own files. */
  path: z.string().min(1),
  bytes: z.number().int().positive(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ImageFile = z.infer<typeof ImageFile>;

export const IMAGE_LAYOUTS = ['NHWC', 'NCHW'] as const;
/** How a picture meets the model's size, as CSS object-fit: stretch, scale and centre-crop, or scale and pad. */
export const IMAGE_FITS = ['fill', 'cover', 'contain'] as const;

/**
 * Real image preprocessing: every pass decodes the pictures (createImageBitmap), resizes them to the input's size
 * (OffscreenCanvas) and writes them in the input's layout and dtype. Float inputs get (pixel / 255 - mean) / std per
 * channel; uint8/int8 inputs get the pixels. Batch item i of pass p is picture (p x batch + i) mod n.
 */
export const ImagePolicy = z.object({
  kind: z.literal('image'),
  /** Empty in a link or a flag without pictures: the page or CLI fills in the bundled photos before planning. */
  images: z.array(ImageFile),
  /** Null: read from the shape (the axis of size 3 or 1 next to the batch axis is channels). */
  layout: z.enum(IMAGE_LAYOUTS).nullable().default(null),
  fit: z.enum(IMAGE_FITS).default('fill'),
  /** Per channel, in the order the model takes them (after `order`). */
  mean: z.tuple([z.number(), z.number(), z.number()]).default([0, 0, 0]),
  std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]).default([1, 1, 1]),
  /** Channel order the model takes (BGR for models trained on OpenCV reads). */
  order: z.enum(['RGB', 'BGR']).default('RGB'),
});
export type ImagePolicy = z.infer<typeof ImagePolicy>;

/** How one input's values are made. Seeded random by default so every runtime sees the same numbers. */
export const ValuePolicy = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('random') }),
  z.object({ kind: z.literal('zeros') }),
  z.object({ kind: z.literal('constant'), value: z.number() }),
  z.object({ kind: z.literal('range'), min: z.number(), max: z.number() }),
  ImagePolicy,
]);
export type ValuePolicy = z.infer<typeof ValuePolicy>;

export const InputOverride = z.object({
  /** Values for symbolic dims of this input other than the batch dim, e.g. {height: 64}. */
  dims: z.record(z.string(), z.number().int().positive()).optional(),
  values: ValuePolicy.optional(),
});
export type InputOverride = z.infer<typeof InputOverride>;
