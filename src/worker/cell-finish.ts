/**
 * The end of a cell's life: what is read once sampling is over, with the model still loaded (GPU busy time, page
 * memory, the runtime's proof, each picture's classes and the output digest), then the session released and the
 * result built (cell-result.ts) from what the load, the sampler and the record hold.
 */
import { type HostTensor } from '../lib/models/inputs.ts';
import type { CellOutcome, FinishFacts } from '../lib/contracts/job.ts';
import type { ColdStart, GpuBusy, Prediction } from '../lib/schema.ts';
import { BackendMismatch, type RuntimeSession } from '../runtimes/runtime.ts';
import type { CellLoad, MeasureMemory } from './cell-load.ts';
import type { CellRecord } from './cell-record.ts';
import type { CellSampler } from './cell-sample.ts';
import { predictionsOf } from './postprocess.ts';
import { okResult } from './cell-result.ts';

const GPU_BACKENDS = new Set(['webgl', 'webgpu']);

/** A cell's parts, as the finish reads them. */
export interface CellParts {
  record: CellRecord;
  load: CellLoad;
  sampler: CellSampler;
  measureMemory?: MeasureMemory;
}

/**
 * Each picture through the whole pipeline once, in order (pass j shows pictures j x batch ...), outside the
 * samples: the top classes per picture, and the outputs of the first of these passes for the digest and parity,
 * so cells compare the same pictures however many passes they timed.
 */
async function predict(load: CellLoad): Promise<Prediction[]> {
  const pictures = load.pre!.pictures;
  const batch = load.raw[0]?.shape[0] ?? 1;
  const out: Prediction[] = [];
  let first: HostTensor[] | null = null;
  let firstInputs: HostTensor[] | null = null;
  for (let j = 0; j * batch < pictures.length; j++) {
    await load.pass(undefined, j);
    first ??= load.lastOutputs;
    firstInputs ??= load.lastInputs;
    out.push(...predictionsOf(load.lastOutputs, pictures.slice(j * batch, (j + 1) * batch), load.job.model.labels));
  }
  if (first) load.lastOutputs = first;
  if (firstInputs) load.lastInputs = firstInputs;
  return out;
}

/** What is read once sampling is over, with the model still loaded: GPU busy time, memory, proof, predictions. */
async function afterSampling({ load, measureMemory }: CellParts, session: RuntimeSession) {
  const { cell, sampling } = load.job;
  let gpuBusy: GpuBusy | string | null = null;
  let uaMemory: { bytes: number | null; note: string | null } = { bytes: null, note: null };
  let predictions: Prediction[] | null = null;
  // GPU timers are read on extra passes after sampling: the queries cost time, so they never run in samples.
  if (GPU_BACKENDS.has(cell.backend) && sampling.gpuBusyPasses > 0)
    gpuBusy = await session.measureGpuBusy(load.raw, sampling.gpuBusyPasses);
  // With the model still loaded, after the timed samples (the measurement is slow and would disturb them).
  if (sampling.measureMemory)
    uaMemory = measureMemory ? await measureMemory() : { bytes: null, note: 'no page to measure memory' };
  const proof = await session.proof(load.raw);
  // After everything timed: each picture once, in order, for the per-picture answer and a deterministic digest.
  if (load.pre?.hasImages) predictions = await predict(load);
  // Given input sets: the digested outputs are those of the first set, as the browser cells' are of pass 0.
  else if (load.options.inputSets) await load.pass(undefined, 0);
  else load.lastInputs = load.raw;
  return { gpuBusy, uaMemory, proof, predictions };
}

/** GPU busy time and memory (outside the samples), proof, output digest, summary, validity: the result. */
export async function finishCell(parts: CellParts, facts: FinishFacts): Promise<CellOutcome> {
  const { record, load, sampler } = parts;
  const { sampling } = load.job;
  const session = load.session;
  const adapter = load.adapter;
  if (!session || !adapter)
    return record.failed('sampling', new Error('finish() before a session was prepared')).outcome;
  if (record.samples.length === 0) {
    await load.dispose();
    return record.failed('sampling', new Error('no samples were taken')).outcome;
  }
  const sampleTensorsEnd = adapter.tensorCount?.()?.tensors ?? null;
  let readings: Awaited<ReturnType<typeof afterSampling>>;
  try {
    readings = await afterSampling(parts, session);
  } catch (e) {
    await load.dispose();
    return record.failed(e instanceof BackendMismatch ? 'init' : 'sampling', e).outcome;
  }
  const { gpuBusy, uaMemory, proof, predictions } = readings;
  const wasmHeapBytes = adapter.wasmHeapBytes();
  await load.dispose();
  void load.postSink;
  const memory = {
    before: load.tensorsBefore,
    after: adapter.tensorCount?.() ?? null,
    sampleStart: sampler.sampleTensorsStart,
    sampleEnd: sampleTensorsEnd,
    wasmHeapBytes,
    userAgent: uaMemory,
  };
  return okResult(
    {
      common: record.common(),
      cold: record.cold as ColdStart,
      samples: record.samples,
      warm: sampler.warm,
      minSamples: sampling.minSamples,
      iterations: sampler.iterations,
      grown: sampler.grown,
      timerResolutionMs: load.timerResolutionMs,
      memory,
      gpuBusy,
      proof,
      predictions,
      stageNotes: load.stageNotes,
      raw: load.raw,
      fed: load.lastInputs,
      outputs: load.lastOutputs,
    },
    facts,
  );
}
