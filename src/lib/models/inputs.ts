/**
 * Input synthesis: shapes resolved from a model's input specs (symbolic dims filled from the batch size and
 * overrides) and values made from a seeded policy, so every runtime and backend sees identical inputs.
 */
import type { Dtype, InputOverride, TensorSpec, ValuePolicy } from '../schema.ts';
import { mulberry32 } from '../rng.ts';

export class InputError extends Error {
  override name = 'InputError';
}

export type HostData = Float32Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Uint16Array;

/** A tensor in CPU memory, in the model's own layout: what preprocess produces and readback returns. */
export interface HostTensor {
  name: string;
  dtype: Dtype;
  shape: number[];
  data: HostData;
}

/** Inclusive range of values a dtype can hold, and whether it takes integers only. */
const DTYPE_RANGE: Record<Dtype, { min: number; max: number; integer: boolean }> = {
  float32: { min: -3.4e38, max: 3.4e38, integer: false },
  float16: { min: -65504, max: 65504, integer: false },
  int32: { min: -2147483648, max: 2147483647, integer: true },
  int64: { min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, integer: true },
  uint8: { min: 0, max: 255, integer: true },
  int8: { min: -128, max: 127, integer: true },
  bool: { min: 0, max: 1, integer: true },
};

/** Default random range per dtype: [0, 1) for floats, small non-negative integers otherwise (safe as indices). */
const DEFAULT_RANDOM: Record<Dtype, [number, number]> = {
  float32: [0, 1],
  float16: [0, 1],
  int32: [0, 9],
  int64: [0, 9],
  uint8: [0, 255],
  int8: [-128, 127],
  bool: [0, 1],
};

/**
 * Resolves an input's shape for one cell. The batch dim takes `batch`; other symbolic dims need an override.
 * A model with no batch dim (every input fixed, as exported) runs only at batch 1. `batchDim` may list several
 * symbols: the model's batch dim and the dims that follow it (a recurrent state's [2, batch_size, 128]).
 */
export function resolveShape(
  spec: TensorSpec,
  batchDim: string | null | readonly string[],
  batch: number,
  override?: InputOverride,
  dimDefaults: Record<string, number> = {},
): number[] {
  const batchDims: readonly string[] = batchDim === null ? [] : typeof batchDim === 'string' ? [batchDim] : batchDim;
  if (batchDims.length === 0 && batch !== 1) {
    throw new InputError(
      `the model has no batch dim (input '${spec.name}' has shape [${spec.shape.join(', ')}]); only batch 1 can run, not ${batch}`,
    );
  }
  return spec.shape.map((dim, axis) => {
    if (typeof dim === 'number') return dim;
    if (batchDims.includes(dim)) return batch;
    const given = override?.dims?.[dim] ?? dimDefaults[dim];
    if (given === undefined) {
      throw new InputError(
        `input '${spec.name}' has symbolic dim '${dim}' (axis ${axis}); give it a value with an input override`,
      );
    }
    return given;
  });
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

const DTYPE_BYTES: Record<Dtype, number> = { float32: 4, float16: 2, int32: 4, int64: 8, uint8: 1, int8: 1, bool: 1 };
/** wasm32 memory ends at 4 GiB: an input larger than that can reach no browser runtime (and no one typed array). */
export const MAX_INPUT_BYTES = 2 ** 32;

/** A declared or resolved shape too large to make (1e9 x 1e9 ...) is refused by name, before anything is allocated. */
export function checkInputSize(name: string, dtype: Dtype, shape: readonly number[]): void {
  const n = elementCount(shape);
  const bytes = n * DTYPE_BYTES[dtype];
  if (Number.isSafeInteger(n) && bytes <= MAX_INPUT_BYTES) return;
  const size = bytes >= 2 ** 40 ? `${(bytes / 2 ** 40).toPrecision(3)} TiB` : `${(bytes / 2 ** 30).toPrecision(3)} GiB`;
  throw new InputError(
    `input '${name}' [${shape.join(', ')}] ${dtype} would take ${size}: more than the 4 GiB a browser runtime can address; give it smaller dims`,
  );
}

/** Checks that a value policy fits a dtype before anything runs, so a bad override names itself. */
export function checkPolicy(inputName: string, dtype: Dtype, policy: ValuePolicy): void {
  const r = DTYPE_RANGE[dtype];
  const check = (label: string, v: number) => {
    if (!Number.isFinite(v)) throw new InputError(`input '${inputName}': ${label} ${v} is not a finite number`);
    if (r.integer && !Number.isInteger(v))
      throw new InputError(`input '${inputName}' is ${dtype}: ${label} ${v} is not an integer`);
    if (v < r.min || v > r.max)
      throw new InputError(`input '${inputName}' is ${dtype}: ${label} ${v} is outside [${r.min}, ${r.max}]`);
  };
  switch (policy.kind) {
    case 'random':
    case 'zeros':
      return;
    case 'constant':
      return check('constant', policy.value);
    case 'range':
      check('range min', policy.min);
      check('range max', policy.max);
      if (policy.min > policy.max)
        throw new InputError(`input '${inputName}': range min ${policy.min} is above max ${policy.max}`);
      return;
    case 'image':
      if (!['float32', 'float16', 'uint8', 'int8', 'int32'].includes(dtype))
        throw new InputError(
          `input '${inputName}' is ${dtype}: image values need a float32, float16, uint8, int8 or int32 input`,
        );
      return;
    default: {
      const never: never = policy;
      throw new InputError(`unknown value policy ${JSON.stringify(never)}`);
    }
  }
}

export function allocate(dtype: Dtype, n: number): HostData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'float16':
      return new Uint16Array(n); // IEEE binary16 bits, as ORT takes them
    case 'int32':
      return new Int32Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'uint8':
    case 'bool':
      return new Uint8Array(n);
    case 'int8':
      return new Int8Array(n);
    default: {
      const never: never = dtype;
      throw new InputError(`unknown dtype ${String(never)}`);
    }
  }
}

/** float32 -> IEEE binary16 bits (round to nearest even), for float16 inputs. */
export function toFloat16Bits(value: number): number {
  const f = new Float32Array([value]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  let mant = x & 0x7fffff;
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant = (mant | 0x800000) >> (1 - exp);
    return sign | ((mant + 0x1000) >> 13);
  }
  const half = sign | (exp << 10) | (mant >> 13);
  return (mant & 0x1fff) > 0x1000 || ((mant & 0x1fff) === 0x1000 && half & 1) ? half + 1 : half;
}

/** Fills a typed array of `dtype` from a policy. Random values come from `seed`, so they reproduce. */
export function makeValues(
  inputName: string,
  dtype: Dtype,
  count: number,
  policy: ValuePolicy,
  seed: number,
): HostData {
  checkPolicy(inputName, dtype, policy);
  const data = allocate(dtype, count);
  const integer = DTYPE_RANGE[dtype].integer;
  let gen: (i: number) => number;
  switch (policy.kind) {
    case 'zeros':
      return data;
    case 'image':
      // A placeholder of the right size: the worker's preprocess stage fills it from the pictures on every pass.
      return data;
    case 'constant':
      gen = () => policy.value;
      break;
    case 'random':
    case 'range': {
      const [lo, hi] = policy.kind === 'range' ? [policy.min, policy.max] : DEFAULT_RANDOM[dtype];
      const rng = mulberry32(seed);
      // Integers are drawn uniformly from [lo, hi] inclusive; floats from [lo, hi).
      gen = integer ? () => lo + Math.floor(rng() * (hi - lo + 1)) : () => lo + rng() * (hi - lo);
      break;
    }
    default: {
      const never: never = policy;
      throw new InputError(`unknown value policy ${JSON.stringify(never)}`);
    }
  }
  if (data instanceof BigInt64Array) for (let i = 0; i < count; i++) data[i] = BigInt(gen(i));
  else if (dtype === 'float16') for (let i = 0; i < count; i++) data[i] = toFloat16Bits(gen(i));
  else for (let i = 0; i < count; i++) data[i] = gen(i);
  return data;
}

/** Per-input seeds differ (seed + index) so two inputs of the same shape don't get the same values. */
export function synthesizeInputs(
  specs: readonly TensorSpec[],
  batchDim: string | null | readonly string[],
  batch: number,
  seed: number,
  overrides: Record<string, InputOverride>,
  dimDefaults: Record<string, number> = {},
  valueDefaults: Record<string, ValuePolicy> = {},
): HostTensor[] {
  for (const name of Object.keys(overrides)) {
    if (!specs.some((s) => s.name === name)) {
      throw new InputError(
        `input override names '${name}', but the model's inputs are: ${specs.map((s) => s.name).join(', ')}`,
      );
    }
  }
  return specs.map((spec, index) => {
    const override = overrides[spec.name];
    const shape = resolveShape(spec, batchDim, batch, override, dimDefaults);
    checkInputSize(spec.name, spec.dtype, shape);
    const data = makeValues(
      spec.name,
      spec.dtype,
      elementCount(shape),
      override?.values ?? valueDefaults[spec.name] ?? { kind: 'random' },
      seed + index * 7919,
    );
    return { name: spec.name, dtype: spec.dtype, shape, data };
  });
}
