/**
 * When a cell fails inside the runtime, a likely cause to name: an input that ran on random values although the
 * model reads it as a setting. A scalar or a few integers (a sample rate, a count, a length) drawn at random can
 * make a model fail deep in an operator (Silero VAD's `sr` gave ORT's raw LSTM error). Pure.
 */
import type { InputOverride, ValuePolicy } from '../schema.ts';
import type { ModelInfo } from './manifest.ts';
import { batchDimsOf } from './manifest.ts';
import { elementCount, resolveShape } from './inputs.ts';

/** At most this many elements makes an input "tiny": a setting more than data. */
const TINY = 4;
const INTEGER = new Set(['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'bool']);

export interface RandomSetting {
  name: string;
  dtype: string;
  shape: number[];
}

/** The inputs of a cell that ran on random values and are a scalar or tiny (integers of any dtype; floats as scalars). */
export function randomSettingInputs(
  model: Pick<ModelInfo, 'inputs' | 'batchDim' | 'batchFollowers' | 'dimDefaults' | 'valueDefaults'>,
  batch: number,
  overrides: Record<string, InputOverride>,
): RandomSetting[] {
  const out: RandomSetting[] = [];
  for (const spec of model.inputs) {
    const policy: ValuePolicy = overrides[spec.name]?.values ?? model.valueDefaults?.[spec.name] ?? { kind: 'random' };
    if (policy.kind !== 'random') continue;
    let shape: number[];
    try {
      shape = resolveShape(spec, batchDimsOf(model), batch, overrides[spec.name], model.dimDefaults);
    } catch {
      continue; // an input that can't be made failed on its own, with its own message
    }
    const n = elementCount(shape);
    if (n <= 1 || (INTEGER.has(spec.dtype) && n <= TINY)) out.push({ name: spec.name, dtype: spec.dtype, shape });
  }
  return out;
}

/** The hint appended to a runtime's error for a cell, or '' when none of its inputs is suspect. */
export function randomSettingHint(job: {
  model: Parameters<typeof randomSettingInputs>[0];
  cell: { batch: number; inputOverrides: Record<string, InputOverride> };
}): string {
  return describeRandomSettings(randomSettingInputs(job.model, job.cell.batch, job.cell.inputOverrides));
}

export function describeRandomSettings(suspects: readonly RandomSetting[]): string {
  if (!suspects.length) return '';
  const named = suspects.map(
    (s) => `'${s.name}' (${s.dtype}${s.shape.length ? ` [${s.shape.join(', ')}]` : ' scalar'})`,
  );
  const one = suspects.length === 1;
  return (
    ` (input ${named.join(', ')} ran on random values; a model can read ${one ? 'such an input' : 'such inputs'} as a` +
    ` setting, such as a sample rate or a count, and fail on a random one: give ${one ? 'it' : 'each'} a constant` +
    ` value (values: constant, in the inputs editor; --values NAME=const:V in the CLI) and run again)`
  );
}
