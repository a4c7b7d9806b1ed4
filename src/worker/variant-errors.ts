/**
 * A variant cell (fp16, int8) whose file the runtime can't run here: ORT refuses it at session creation (no kernel
 * for an operator or type), or a GPU backend finds at the first inference that the device lacks float16 shaders
 * (`Program Slice requires f16 but the device does not support it`). Such a cell is unsupported, in the runtime's
 * own words, not failed: the variant is what this backend can't do.
 */
import type { Cell } from '../lib/schema.ts';

/** Runtime errors that mean the device or backend lacks what the variant needs (not a bug in the run). */
const LACKS = /requires f16|shader-f16|does not support|not supported|could not find an implementation|no kernel/i;

/** The unsupported reason for a variant cell's error, or null (fp32 cells, or errors of another kind at first pass). */
export function variantRefused(cell: Cell, error: string, firstPass = false): string | null {
  if (cell.variant === 'fp32') return null;
  // At session creation any refusal is the variant's (its fp32 cell loads the same model); later, only lacks.
  if (firstPass && !LACKS.test(error)) return null;
  return `${cell.runtime}:${cell.backend} can't run the ${cell.variant} variant: ${error}`;
}
