/**
 * A finished cell's ok result, assembled from what the pipeline measured: the steady state found in its own
 * samples, the summaries and validity of the steady segment, memory and leaks, digests, warnings. Arithmetic only:
 * nothing here is timed.
 */
import type { CellOutcome, FinishFacts } from '../lib/contracts/job.ts';
import type { HostTensor } from '../lib/models/inputs.ts';
import type { CellResult, ColdStart, GpuBusy, Prediction, Proof, Sample, StageNote } from '../lib/schema.ts';
import { summariesWidenedToTick, tickPerPass } from '../lib/measure/invocation-merge.ts';
import { summarizeStages } from '../lib/measure/stats.ts';
import { assessValidity } from '../lib/measure/validity.ts';
import { steadyStateOf, type WarmupPasses } from '../lib/measure/warmup-curve.ts';
import { digest, inputDigest } from './cell-io.ts';
import { cellWarnings, memoryOf, preprocessPartsOf, type MemoryFacts } from './cell-report.ts';

/** Everything the pipeline measured for one cell, read after its session was disposed. */
export interface Measured {
  common: Pick<CellResult, 'cell' | 'startedAt' | 'durationMs'>;
  cold: ColdStart;
  samples: readonly Sample[];
  warm: WarmupPasses;
  minSamples: number;
  /** Passes per sample at the end, and from what it grew during sampling (null: never grown). */
  iterations: number;
  grown: { from: number; to: number } | null;
  timerResolutionMs: number;
  /** Memory readings, less the passes (counted here from the samples). */
  memory: Omit<MemoryFacts, 'passes'>;
  gpuBusy: GpuBusy | string | null;
  proof: Proof;
  predictions: Prediction[] | null;
  stageNotes: StageNote[];
  /** The cell's own inputs, and the inputs and outputs of the digested pass. */
  raw: readonly HostTensor[];
  fed: readonly HostTensor[];
  outputs: readonly HostTensor[];
}

export async function okResult(m: Measured, facts: FinishFacts): Promise<CellOutcome> {
  // The steady state, found in this cell's own samples (the same analysis the page ran to decide when to stop).
  const { steadyState, segmentOf } = steadyStateOf(m.samples, m.warm, m.minSamples);
  const samples = m.samples.map((s, i) => ({ ...s, segment: segmentOf[i] ?? null }));
  const steady = samples.slice(steadyState.steadyStart);
  const { memory, perSampleLeak } = memoryOf({ ...m.memory, passes: samples.length * m.iterations });
  const { digests, parity } = digest(m.outputs);
  // No CI narrower than the timer resolves (tick-quantised samples can all read alike): half a tick per pass.
  const summary = summariesWidenedToTick(summarizeStages(steady), tickPerPass(steady, m.timerResolutionMs));
  const validity = assessValidity(steady, summary, {
    pageHidden: facts.pageHidden,
    overlapped: facts.overlapped,
    softwareGpu: facts.softwareGpu,
    tickMs: m.timerResolutionMs,
    iterations: steady.reduce((k, s) => Math.min(k, s.iterations), m.iterations),
  });
  // Hidden page, drift, coarse stages and software GPU live in `validity` (validityFlags() words them).
  const warnings = cellWarnings(memory, perSampleLeak, m.gpuBusy, digests, facts.sampling, steady.length);
  // What the runtime reported running differs in part from what was asked (or could not be read): said per cell.
  const proofWarning = m.proof.details.proofWarning;
  if (typeof proofWarning === 'string') warnings.push(`proof: ${proofWarning}`);
  const sampling = m.grown
    ? {
        ...facts.sampling,
        iterations: m.iterations,
        iterationsWhy: `${facts.sampling.iterationsWhy}; grown from ${m.grown.from} to ${m.grown.to} during sampling as passes got faster (each sample records its own)`,
      }
    : facts.sampling;
  const result: CellResult = {
    status: 'ok',
    ...m.common,
    coldStart: m.cold,
    coldStarts: [m.cold],
    sampling,
    steadyState,
    validity,
    samples,
    summary,
    preprocessParts: preprocessPartsOf(steady),
    predictions: m.predictions?.length ? m.predictions : null,
    stageNotes: m.stageNotes,
    proof: m.proof,
    timerResolutionMs: m.timerResolutionMs,
    inputs: m.raw.map((r) => ({ name: r.name, dtype: r.dtype, shape: r.shape })),
    outputs: digests,
    parity: null,
    // Both filled by the run, which sees the fp32 cell and the served file (issue 27's variants).
    agreement: null,
    modelBytes: null,
    inputDigest: m.fed.length ? await inputDigest(m.fed) : null,
    tax: null,
    gpuBusy: typeof m.gpuBusy === 'string' ? null : m.gpuBusy,
    // The run lists the cell's invocations once they are merged (src/lib/measure/invocation-merge.ts).
    invocations: [],
    acrossInvocations: null,
    memory,
    warnings,
  };
  return { result, parity };
}
