/**
 * Parts of a finished cell's result that are plain arithmetic on what was measured: memory and leaks, the
 * preprocess parts' summaries, and the warnings in words. Kept apart from the pipeline, which only measures.
 */
import type { GpuBusy, Memory, OutputDigest, PreprocessParts, Sample, SamplingReport } from '../lib/schema.ts';
import { summarize } from '../lib/measure/stats.ts';
import { precisionWarning } from '../lib/measure/sampling-words.ts';

interface TensorCount {
  tensors: number;
  bytes: number;
}

export interface MemoryFacts {
  /** tfjs tensors before the model was loaded, and after it was disposed. */
  before: TensorCount | null;
  after: TensorCount | null;
  /** tfjs tensors when sampling began and ended. */
  sampleStart: number | null;
  sampleEnd: number | null;
  /** Passes run between sampleStart and sampleEnd. */
  passes: number;
  wasmHeapBytes: number | null;
  userAgent: { bytes: number | null; note: string | null };
}

/** The cell's memory record, and tensors left behind per pass (a leak when above 0). */
export function memoryOf(f: MemoryFacts): { memory: Memory; perSampleLeak: number | null } {
  const perSampleLeak =
    f.sampleStart !== null && f.sampleEnd !== null ? (f.sampleEnd - f.sampleStart) / f.passes : null;
  const memory: Memory = {
    tfjsTensorsBefore: f.before?.tensors ?? null,
    tfjsTensorsAfter: f.after?.tensors ?? null,
    tfjsBytesAfter: f.after?.bytes ?? null,
    tfjsTensorsPerSampleLeak: perSampleLeak,
    wasmHeapBytes: f.wasmHeapBytes,
    userAgentBytes: f.userAgent.bytes,
    userAgentNote: f.userAgent.note,
    leak:
      (f.before !== null && f.after !== null && f.after.tensors > f.before.tensors) ||
      (perSampleLeak !== null && perSampleLeak > 0),
  };
  return { memory, perSampleLeak };
}

/** Decode, resize and normalise summarised over the steady samples, when the inputs came from pictures. */
export function preprocessPartsOf(
  steady: readonly Sample[],
): Record<keyof PreprocessParts, ReturnType<typeof summarize>> | null {
  const rows = steady.flatMap((s) => (s.parts ? [s.parts] : []));
  if (!rows.length) return null;
  return {
    decode: summarize(rows.map((p) => p.decode)),
    resize: summarize(rows.map((p) => p.resize)),
    normalise: summarize(rows.map((p) => p.normalise)),
  };
}

/** What a reader must know about an ok cell, in words: leaks, missing GPU timers, non-finite outputs, precision. */
export function cellWarnings(
  memory: Memory,
  perSampleLeak: number | null,
  gpuBusy: GpuBusy | string | null,
  digests: readonly OutputDigest[],
  sampling: SamplingReport,
  steadyCount: number,
): string[] {
  const warnings: string[] = [];
  if (memory.leak)
    warnings.push(
      `tensor leak: ${memory.tfjsTensorsBefore} tensors before the model, ${memory.tfjsTensorsAfter} after it was disposed; ${perSampleLeak ?? 0} per pass`,
    );
  if (typeof gpuBusy === 'string') warnings.push(`no GPU busy time: ${gpuBusy}`);
  for (const d of digests)
    if (d.nonFinite)
      warnings.push(
        `output '${d.name}' holds ${d.nonFinite} NaN or infinite value${d.nonFinite > 1 ? 's' : ''} (of ${d.shape.reduce((a, b) => a * b, 1)})`,
      );
  const precision = precisionWarning(sampling, steadyCount);
  if (precision) warnings.push(precision);
  return warnings;
}
