/**
 * A variant's model file as a run uses it: made once per model and variant (in a worker on the page, in Node in
 * the CLI), before any cell's clock starts, then handed to the cells as their ONNX file. Pure.
 */
import type { ModelFile, ModelInfo } from '../manifest.ts';
import type { Variant } from '../../schema.ts';
import { VariantRefusal } from './onnx.ts';
import { toFloat16 } from './fp16.ts';
import { toInt8 } from './int8.ts';

/** A made variant (its file as the cells see it, and its size gzip-compressed), or why the model can't become one. */
export type VariantFile = { ok: true; file: ModelFile; compressedBytes: number | null } | { ok: false; reason: string };

/** Variant files by `variantKey`. */
export type VariantFiles = Record<string, VariantFile>;

export const variantKey = (modelId: string, variant: Variant): string => `${modelId}/${variant}`;

/** Where a variant file lives, relative to the models folder (the CLI serves it there; the page sends it along). */
export const variantPath = (modelId: string, variant: Variant): string => `../__variants/${modelId}/${variant}.onnx`;

/**
 * The name a variant file is saved under where a person takes it away (the CLI's <out>/variants/, the page's
 * download) and served under by the shipped code: `<model>.<variant>.onnx`, the id made safe for a file name.
 */
export const variantFileName = (modelId: string, variant: Exclude<Variant, 'fp32'>): string =>
  `${modelId.replace(/[^A-Za-z0-9._-]/g, '_')}.${variant}.onnx`;

/** The variant's bytes from the model's ONNX bytes; VariantRefusal's reason when it can't be made. */
export function makeVariantBytes(
  onnx: Uint8Array,
  variant: Exclude<Variant, 'fp32'>,
): { ok: true; bytes: Uint8Array } | { ok: false; reason: string } {
  try {
    return { ok: true, bytes: variant === 'fp16' ? toFloat16(onnx) : toInt8(onnx) };
  } catch (e) {
    if (e instanceof VariantRefusal) return { ok: false, reason: `no ${variant} variant: ${e.message}` };
    return { ok: false, reason: `no ${variant} variant: the ONNX file could not be read (${(e as Error).message})` };
  }
}

/** Why a cell's model can't have variants at all (variants are made from ONNX files only); null when it can. */
export function variantUnsupported(model: ModelInfo, format: string | null, variant: Variant): string | null {
  if (variant === 'fp32') return null;
  if (format === null)
    return `${variant} variants are made from ONNX files only, and '${model.id}' has no file this runtime loads (it has ${model.formats.map((f) => f.format).join(', ')})`;
  if (format !== 'onnx')
    return `${variant} variants are made from ONNX files only; this cell loads '${model.id}' as ${format}`;
  return null;
}

/** The model as a variant cell sees it: its ONNX format's file replaced by the variant's (other formats dropped). */
export function withVariantFile(model: ModelInfo, file: ModelFile): ModelInfo {
  return { ...model, formats: [{ format: 'onnx', entry: file, weights: [] }] };
}
