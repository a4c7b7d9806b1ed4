/**
 * What crosses between the page and the CLI's native reference cells (through Playwright's exposed function, which
 * carries JSON): the messages, and tensors as base64 of their bytes. Pure: base64 itself is done by each side's own
 * platform function (btoa/atob on the page, Buffer in Node), passed in.
 */
import { allocate, elementCount, type HostTensor } from '../models/inputs.ts';
import type { CellJob, CellOutcome, FinishFacts, Step, WarmupDone } from './job.ts';
import type { ColdStart, Dtype, Sample } from '../schema.ts';

export interface WireTensor {
  name: string;
  dtype: Dtype;
  shape: number[];
  base64: string;
}

/** A cell job without files (the native side fetches the model from the lab's own server, like a worker does). */
export type NativeJob = Omit<CellJob, 'files'>;

/** Output prefixes as plain numbers (JSON has no Float32Array). */
export type WireOutcome = Omit<CellOutcome, 'parity'> & {
  parity: { name: string; shape: number[]; values: number[] }[];
};
export type WireStep<T> = { ok: true; value: T } | { ok: false; outcome: WireOutcome };

export type NativeRequest =
  | { op: 'open'; job: NativeJob; inputSets: WireTensor[][] }
  | { op: 'warmup' | 'close'; handle: number }
  | { op: 'sample'; handle: number; count: number }
  | { op: 'finish'; handle: number; facts: FinishFacts };

export interface NativeReplies {
  /** A thread started for the cell and its cold start done (the inputs travel once, with the job). */
  open: { handle: number; prepared: WireStep<{ coldStart: Partial<ColdStart>; timerResolutionMs: number }> };
  warmup: WireStep<WarmupDone>;
  sample: WireStep<{ samples: Sample[]; blockMs: number }>;
  finish: WireOutcome;
  close: null;
}

export function toWire(t: HostTensor, base64: (bytes: Uint8Array) => string): WireTensor {
  return {
    name: t.name,
    dtype: t.dtype,
    shape: [...t.shape],
    base64: base64(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)),
  };
}

/** Bytes back into a tensor of the named dtype; the byte count must be what the shape holds. */
export function fromWire(w: WireTensor, unbase64: (text: string) => Uint8Array): HostTensor {
  const bytes = unbase64(w.base64);
  const data = allocate(w.dtype, elementCount(w.shape));
  if (bytes.byteLength !== data.byteLength)
    throw new Error(
      `input '${w.name}': ${bytes.byteLength} bytes for shape [${w.shape}] ${w.dtype} (${data.byteLength} expected)`,
    );
  new Uint8Array(data.buffer).set(bytes);
  return { name: w.name, dtype: w.dtype, shape: [...w.shape], data };
}

export function outcomeToWire(o: CellOutcome): WireOutcome {
  return {
    result: o.result,
    parity: o.parity.map((p) => ({ name: p.name, shape: p.shape, values: Array.from(p.values) })),
  };
}

export function outcomeFromWire(o: WireOutcome): CellOutcome {
  return {
    result: o.result,
    parity: o.parity.map((p) => ({ name: p.name, shape: p.shape, values: Float32Array.from(p.values) })),
  };
}

export function stepToWire<T>(s: Step<T>): WireStep<T> {
  return s.ok ? s : { ok: false, outcome: outcomeToWire(s.outcome) };
}

export function stepFromWire<T>(s: WireStep<T>): Step<T> {
  return s.ok ? s : { ok: false, outcome: outcomeFromWire(s.outcome) };
}
