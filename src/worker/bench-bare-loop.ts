/**
 * A bare loop of the runtime's own API (make tensors, run, read outputs) for `seconds`, every pass timed, in a
 * worker of its own: the reference that scripts/bench-steady.ts holds the lab's steady median against. No lab
 * pipeline, no sampling rules: just what an app's inference loop would see, pass after pass.
 */
import { imagePolicyIn, Preprocessor } from './preprocess.ts';
import type { HostTensor } from '../lib/models/inputs.ts';
import { modelInputs } from '../lib/models/manifest.ts';
import type { CellJob } from '../lib/contracts/job.ts';
import type { BareRunner, RuntimeAdapter } from '../runtimes/runtime.ts';
import { loadAdapter } from './cell-io.ts';

/**
 * The runtime's bare runner for a job's model (its files fetched from the lab's origin) and the job's inputs, on
 * an adapter that is already initialised for the cell's backend. Shared by the bare-loop and overhead benchmarks.
 */
export async function openBare(
  job: CellJob,
  adapter: RuntimeAdapter,
): Promise<{ bare: BareRunner; raw: HostTensor[] }> {
  const { cell, model } = job;
  if (!adapter.createBare) throw new Error(`${cell.runtime} has no bare loop`);
  const format = model.formats.find((f) => f.format === cell.format);
  if (!format) throw new Error(`${model.id} has no ${cell.format} files`);
  const fetchBytes = async (path: string) => (await fetch(new URL(path, job.modelsBaseUrl))).arrayBuffer();
  const [entry, ...weights] = await Promise.all([format.entry, ...format.weights].map((f) => fetchBytes(f.path)));
  const bare = await adapter.createBare(model, { format: format.format, entry: entry!, weights }, cell);
  const synthesized = modelInputs(model, cell.batch, cell.inputSeed, cell.inputOverrides);
  // Inputs made from pictures: the bare loop runs on the same pixels as the lab (decoded once, not per pass: the
  // bare loop times the runtime alone, and is compared with the lab's upload + inference + readback).
  const pictures = await Preprocessor.create(
    model.inputs,
    synthesized,
    (spec) => imagePolicyIn(job, spec),
    (f) => fetchBytes(f.path),
  );
  const raw = (await pictures.run(synthesized, 0)).inputs;
  return { bare, raw };
}

export async function benchBareLoop(job: CellJob, seconds: number): Promise<number[]> {
  const adapter = await loadAdapter(job.cell.runtime);
  await adapter.init(job.cell.backend, job.cell);
  const { bare, raw } = await openBare(job, adapter);
  const passes: number[] = [];
  const end = performance.now() + seconds * 1000;
  for (let now = performance.now(); now < end;) {
    await bare.pass(raw);
    const after = performance.now();
    passes.push(after - now);
    now = after;
  }
  await bare.dispose();
  return passes;
}
