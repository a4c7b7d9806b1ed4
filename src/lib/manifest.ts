/**
 * The model zoo's manifest (public/models/manifest.json): written by scripts/build-zoo.ts, read by the page,
 * the worker and the CLI. Validated on every load like the result file.
 */
import { z } from 'zod';
import { ModelFormat, TensorSpec, ValuePolicy, parseWith } from './schema.ts';

export const ModelFile = z.object({
  /** Path relative to the models folder, e.g. `tiny-cnn/model.onnx`. */
  path: z.string().min(1),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ModelFile = z.infer<typeof ModelFile>;

export const ModelFormatEntry = z.object({
  format: ModelFormat,
  /** The entry file: the .onnx file, or model.json for TF.js. */
  entry: ModelFile,
  /** Weight shards, in the order model.json lists them (TF.js only). */
  weights: z.array(ModelFile),
});
export type ModelFormatEntry = z.infer<typeof ModelFormatEntry>;

export const ModelInfo = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  title: z.string(),
  task: z.enum(['image-classification', 'image-to-image', 'text-classification', 'synthetic', 'other']),
  description: z.string(),
  inputs: z.array(TensorSpec).min(1),
  outputs: z.array(TensorSpec).min(1),
  /** The symbolic dim that a cell's batch size fills; null when the model has no batch dim. */
  batchDim: z.string().nullable(),
  /** Values for the other symbolic dims when a cell gives none (e.g. the image size a model was trained on). */
  dimDefaults: z.record(z.string(), z.number().int().positive()).default({}),
  /** How an input's values are made when a cell gives no policy (e.g. token ids within the vocabulary). */
  valueDefaults: z.record(z.string(), ValuePolicy).default({}),
  formats: z.array(ModelFormatEntry).min(1),
  provenance: z.object({
    package: z.string(),
    version: z.string(),
    license: z.string(),
    files: z.array(z.string()),
    notes: z.string(),
  }),
});
export type ModelInfo = z.infer<typeof ModelInfo>;

export const Manifest = z.object({
  manifestVersion: z.literal(1),
  models: z.array(ModelInfo),
});
export type Manifest = z.infer<typeof Manifest>;

export function parseManifest(data: unknown): Manifest {
  return parseWith(Manifest, 'model manifest', data);
}

export function findFormat(model: ModelInfo, format: ModelFormat): ModelFormatEntry | undefined {
  return model.formats.find((f) => f.format === format);
}
