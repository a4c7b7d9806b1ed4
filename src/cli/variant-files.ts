/**
 * The CLI's model variants: each asked-for model's fp16/int8 file made here in Node (src/lib/models/variants/),
 * once per model and variant, before any browser starts; written to a temporary folder and served beside the
 * build under /__variants/<id>/<variant>.onnx, so variant cells fetch their file as fp32 cells fetch theirs (and a
 * first visit can be measured). A model that can't become a variant is passed on with the reason. The temporary
 * folder goes at exit; the files the run made are kept in its output folder (saveVariantFiles), to be shipped.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { GZIP_LEVEL } from './compress.ts';
import type { ModelInfo } from '../lib/models/manifest.ts';
import type { PlanRequest } from '../lib/plan/plan.ts';
import { VARIANTS, type Variant } from '../lib/schema.ts';
import {
  makeVariantBytes,
  variantFileName,
  variantKey,
  variantPath,
  type VariantFiles,
} from '../lib/models/variants/variant-file.ts';

/** A model file's place on disk: a person's own (served from `files`) or the build's models folder. */
function diskPath(path: string, distDir: string, files: ReadonlyMap<string, string>): string {
  if (path.startsWith('../')) {
    const url = `/${path.slice(3)}`;
    return files.get(url) ?? files.get(decodeURI(url)) ?? join(distDir, url);
  }
  return join(distDir, 'models', path);
}

/** A temporary folder for the run's variant files, removed when the process exits. */
function tempFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'latency-lab-variants-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Variant files for every ONNX model of the request and every variant but fp32; `files` gets their URL paths.
 * Nothing is made (and no folder written) when only fp32 is asked for.
 */
export function makeVariantFiles(
  request: PlanRequest,
  models: readonly ModelInfo[],
  distDir: string,
  files: Map<string, string>,
): VariantFiles {
  const wanted = VARIANTS.filter((v): v is Exclude<Variant, 'fp32'> => v !== 'fp32' && !!request.variants?.includes(v));
  const out: VariantFiles = {};
  if (!wanted.length) return out;
  let dir: string | null = null;
  for (const id of new Set(request.models)) {
    const model = models.find((m) => m.id === id);
    const onnx = model?.formats.find((f) => f.format === 'onnx');
    if (!model || !onnx) continue; // unknown ids fail in the plan; other formats' variant cells say why
    const source = new Uint8Array(readFileSync(diskPath(onnx.entry.path, distDir, files)));
    for (const variant of wanted) {
      const made = makeVariantBytes(source, variant);
      if (!made.ok) {
        out[variantKey(id, variant)] = made;
        continue;
      }
      dir ??= tempFolder();
      const file = join(dir, id, `${variant}.onnx`);
      mkdirSync(join(dir, id), { recursive: true });
      writeFileSync(file, made.bytes);
      const path = variantPath(id, variant);
      files.set(`/${path.slice(3)}`, file);
      out[variantKey(id, variant)] = {
        ok: true,
        file: { path, bytes: made.bytes.byteLength, sha256: createHash('sha256').update(made.bytes).digest('hex') },
        compressedBytes: gzipSync(made.bytes, { level: GZIP_LEVEL }).byteLength,
      };
    }
  }
  return out;
}

/** The variants folder of a run's output folder, where the files the run made are kept. */
export const variantsDir = (outDir: string): string => join(outDir, 'variants');

/**
 * Copies every variant file the run made into `<outDir>/variants/<model>.<variant>.onnx` (variantFileName), since
 * the temporary folder it was served from is removed at exit and a verdict may pick one to ship. Returns the paths.
 */
export function saveVariantFiles(outDir: string, made: VariantFiles, files: ReadonlyMap<string, string>): string[] {
  const saved: string[] = [];
  for (const [key, v] of Object.entries(made)) {
    if (!v.ok) continue;
    const [id, variant] = [key.slice(0, key.lastIndexOf('/')), key.slice(key.lastIndexOf('/') + 1)];
    const from = files.get(`/${v.file.path.slice(3)}`);
    if (!from || (variant !== 'fp16' && variant !== 'int8')) continue;
    mkdirSync(variantsDir(outDir), { recursive: true });
    const to = join(variantsDir(outDir), variantFileName(id, variant));
    copyFileSync(from, to);
    saved.push(to);
  }
  return saved;
}
