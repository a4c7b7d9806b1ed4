/**
 * The CLI's model variants: each asked-for model's fp16/int8 file made here in Node (src/lib/models/variants/),
 * once per model and variant, before any browser starts; written to a temporary folder and served beside the
 * build under /__variants/<id>/<variant>.onnx, so variant cells fetch their file as fp32 cells fetch theirs (and a
 * first visit can be measured). A model that can't become a variant is passed on with the reason.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ModelInfo } from '../lib/models/manifest.ts';
import type { PlanRequest } from '../lib/plan/plan.ts';
import { VARIANTS, type Variant } from '../lib/schema.ts';
import { makeVariantBytes, variantKey, variantPath, type VariantFiles } from '../lib/models/variants/variant-file.ts';

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
        compressedBytes: gzipSync(made.bytes).byteLength,
      };
    }
  }
  return out;
}
