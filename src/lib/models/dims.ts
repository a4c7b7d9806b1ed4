/**
 * Symbolic dims (other than the batch dim) as sweep dimensions: which a model has, which have no value, every
 * combination of the swept values, and a cell's input overrides with its values.
 */
import { batchDimsOf, type ModelInfo } from './manifest.ts';
import type { InputOverride } from '../schema.ts';

/** Every combination of the swept dims' values (one empty combination when nothing is swept). */
export function dimCombinations(sweeps: Readonly<Record<string, readonly number[]>>): Record<string, number>[] {
  let out: Record<string, number>[] = [{}];
  for (const [name, values] of Object.entries(sweeps))
    out = out.flatMap((combo) => values.map((v) => ({ ...combo, [name]: v })));
  return out;
}

/** The symbolic dims of a model a cell can set: every named dim of its inputs except those the batch size fills. */
export function sweepableDims(model: ModelInfo): string[] {
  const names = new Set<string>();
  for (const input of model.inputs)
    for (const d of input.shape) if (typeof d === 'string' && !batchDimsOf(model).includes(d)) names.add(d);
  return [...names];
}

/**
 * The model's symbolic dims (other than the batch dim) that nothing gives a value: not the request's dims, not a
 * per-input override, not the model's defaults. Such a model can't run; every one is named at once.
 */
export function missingDims(
  model: ModelInfo,
  dims: Readonly<Record<string, readonly number[]>>,
  overrides: Readonly<Record<string, InputOverride>> = {},
): string[] {
  const missing = new Set<string>();
  for (const input of model.inputs) {
    for (const d of input.shape) {
      if (typeof d !== 'string' || batchDimsOf(model).includes(d)) continue;
      if (dims[d]?.length || model.dimDefaults[d] !== undefined || overrides[input.name]?.dims?.[d] !== undefined)
        continue;
      missing.add(d);
    }
  }
  return [...missing];
}

/** A cell's input overrides: the request's per-input ones, with the cell's swept dim values on the inputs that have them. */
export function withDims(
  model: ModelInfo | undefined,
  base: Record<string, InputOverride>,
  dims: Record<string, number>,
): Record<string, InputOverride> {
  if (!model || Object.keys(dims).length === 0) return base;
  const out: Record<string, InputOverride> = { ...base };
  for (const input of model.inputs) {
    const mine = Object.fromEntries(Object.entries(dims).filter(([d]) => input.shape.includes(d)));
    if (Object.keys(mine).length) out[input.name] = { ...out[input.name], dims: { ...out[input.name]?.dims, ...mine } };
  }
  return out;
}
