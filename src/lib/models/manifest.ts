/**
 * The model zoo's manifest (public/models/manifest.json): written by scripts/build-zoo.ts, read by the page,
 * the worker and the CLI. Validated on every load like the result file.
 */
import { z } from 'zod';
import { ImageFile, ModelFormat, TensorSpec, ValuePolicy, parseWith, type InputOverride } from '../schema.ts';
import { synthesizeInputs, type HostTensor } from './inputs.ts';

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
  /**
   * Other symbolic dims that take the batch size too: a recurrent state [2, batch_size, 128] whose exporter named
   * its batch axis differently. Guessed for own models (names like batch, or every input's first unnamed axis);
   * editable in the page's inputs table and with --batch-dims.
   */
  batchFollowers: z.array(z.string()).default([]),
  /** Values for the other symbolic dims when a cell gives none (e.g. the image size a model was trained on). */
  dimDefaults: z.record(z.string(), z.number().int().positive()).default({}),
  /** How an input's values are made when a cell gives no policy (e.g. token ids within the vocabulary). */
  valueDefaults: z.record(z.string(), ValuePolicy).default({}),
  formats: z.array(ModelFormatEntry).min(1),
  /** Class names by output index, for the top-k a classifier app shows (absent: indices only). */
  labels: z.array(z.string()).optional(),
  provenance: z.object({
    package: z.string(),
    version: z.string(),
    license: z.string(),
    files: z.array(z.string()),
    notes: z.string(),
  }),
});
export type ModelInfo = z.infer<typeof ModelInfo>;

/** A bundled photo with where it came from and under what licence. */
export const BundledImage = ImageFile.extend({
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  provenance: z.object({ source: z.string(), license: z.string(), what: z.string() }),
});
export type BundledImage = z.infer<typeof BundledImage>;

export const Manifest = z.object({
  manifestVersion: z.literal(1),
  models: z.array(ModelInfo),
  /** Real photos that image inputs are made from when a person gives none of their own. */
  images: z.array(BundledImage).default([]),
});
export type Manifest = z.infer<typeof Manifest>;

export function parseManifest(data: unknown): Manifest {
  return parseWith(Manifest, 'model manifest', data);
}

export function findFormat(model: ModelInfo, format: ModelFormat): ModelFormatEntry | undefined {
  return model.formats.find((f) => f.format === format);
}

/** The bundled photos as an image policy's pictures. */
export function bundledImages(manifest: Pick<Manifest, 'images'>): ImageFile[] {
  return manifest.images.map(({ name, path, bytes, sha256 }) => ({ name, path, bytes, sha256 }));
}

/** The pictures a cell's image inputs are made from (its overrides, else the model's defaults). */
export function cellImages(
  model: ModelInfo,
  cell: { inputOverrides: Record<string, { values?: ValuePolicy }> },
): ImageFile[] {
  return model.inputs.flatMap((i) => {
    const p = cell.inputOverrides[i.name]?.values ?? model.valueDefaults[i.name];
    return p?.kind === 'image' ? p.images : [];
  });
}

/** Every symbol a cell's batch size fills: the batch dim, then the dims that follow it. */
export function batchDimsOf(model: Pick<ModelInfo, 'batchDim' | 'batchFollowers'>): string[] {
  return model.batchDim === null ? [] : [model.batchDim, ...(model.batchFollowers ?? [])];
}

/** A cell's inputs, synthesized: the one way every caller makes them (cells, serving, benchmarks). */
export function modelInputs(
  model: ModelInfo,
  batch: number,
  seed: number,
  overrides: Record<string, InputOverride>,
): HostTensor[] {
  return synthesizeInputs(
    model.inputs,
    batchDimsOf(model),
    batch,
    seed,
    overrides,
    model.dimDefaults,
    model.valueDefaults,
  );
}
