/**
 * A person's own pictures (`--images DIR`): read and checked here, served beside the build under /__local/images/,
 * and given to every image input of the selected models (zoo models keep their own layout and normalisation; own
 * models take their layout from the input's shape, values in 0..1, unless `--values INPUT=image:...` says otherwise).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { DEFAULT_IMAGE_OPTIONS, looksLikeImage } from '../lib/models/image-input.ts';
import type { ModelInfo } from '../lib/models/manifest.ts';
import type { ImageFile, InputOverride } from '../lib/schema.ts';
import { UsageError } from './args.ts';

const PICTURE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.bmp', '.avif']);

/** The pictures in a folder (by extension, sorted by name), and where the server finds each. */
export function loadLocalImages(dir: string): { images: ImageFile[]; files: Map<string, string> } {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) throw new UsageError(`--images: '${dir}' is not a folder`);
  const names = readdirSync(abs)
    .filter((n) => PICTURE_EXTENSIONS.has(extname(n).toLowerCase()))
    .sort();
  if (!names.length)
    throw new UsageError(`--images: '${dir}' holds no pictures (${[...PICTURE_EXTENSIONS].join(', ')})`);
  const images: ImageFile[] = [];
  const files = new Map<string, string>();
  for (const name of names) {
    const file = join(abs, name);
    const bytes = readFileSync(file);
    if (bytes.byteLength === 0) throw new UsageError(`--images: '${name}' is empty`);
    // Paths are relative to the models folder; local files live beside it, under /__local/.
    images.push({
      name,
      path: `../__local/images/${encodeURIComponent(name)}`,
      bytes: bytes.byteLength,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    files.set(`/__local/images/${encodeURIComponent(name)}`, file);
  }
  return { images, files };
}

/**
 * Image policies for the selected models: `--values` image policies without pictures get `pictures`; with
 * `--images`, zoo defaults get them instead of the bundled photos, and own models' image-like inputs get an image
 * policy. Throws when `--images` was given and no selected model has an input that takes pictures.
 */
export function applyImages(
  models: readonly ModelInfo[],
  overrides: Record<string, Record<string, InputOverride>>,
  pictures: ImageFile[],
  given: boolean,
): Record<string, Record<string, InputOverride>> {
  const out = structuredClone(overrides);
  let used = false;
  for (const model of models) {
    for (const input of model.inputs) {
      const mine = out[model.id]?.[input.name];
      const fallback = model.valueDefaults[input.name];
      let policy = mine?.values;
      if (policy?.kind === 'image') policy = policy.images.length ? policy : { ...policy, images: pictures };
      else if (!policy && given && fallback?.kind === 'image') policy = { ...fallback, images: pictures };
      else if (!policy && given && !fallback && looksLikeImage(input))
        policy = { kind: 'image', images: pictures, ...DEFAULT_IMAGE_OPTIONS };
      if (policy?.kind !== 'image') continue;
      used = true;
      (out[model.id] ??= {})[input.name] = { ...mine, values: policy };
    }
  }
  if (given && !used)
    throw new UsageError(
      `--images: none of the selected models has an input that takes pictures (4-D float32/float16/uint8/int8 with 1 or 3 channels): ${models.map((m) => `${m.id} [${m.inputs.map((i) => `${i.name} ${i.dtype}[${i.shape.join(',')}]`).join('; ')}]`).join(', ')}`,
    );
  return out;
}
