/**
 * A bare loop of the runtime's own API (make tensors, run, read outputs) for `seconds`, every pass timed, in a
 * worker of its own: the reference that scripts/bench-steady.ts holds the lab's steady median against. No lab
 * pipeline, no sampling rules: just what an app's inference loop would see, pass after pass.
 */
import { synthesizeInputs } from '../lib/inputs.ts';
import type { CellJob } from '../lib/job.ts';
import { loadAdapter } from './pipeline.ts';

export async function benchBareLoop(job: CellJob, seconds: number): Promise<number[]> {
  const { cell, model } = job;
  const adapter = await loadAdapter(cell.runtime);
  await adapter.init(cell.backend, cell);
  if (!adapter.createBare) throw new Error(`${cell.runtime} has no bare loop`);
  const format = model.formats.find((f) => f.format === cell.format);
  if (!format) throw new Error(`${model.id} has no ${cell.format} files`);
  const fetchBytes = async (path: string) => (await fetch(new URL(path, job.modelsBaseUrl))).arrayBuffer();
  const [entry, ...weights] = await Promise.all([format.entry, ...format.weights].map((f) => fetchBytes(f.path)));
  const bare = await adapter.createBare(model, { format: format.format, entry: entry!, weights }, cell);
  const raw = synthesizeInputs(model.inputs, model.batchDim, cell.batch, cell.inputSeed, cell.inputOverrides, model.dimDefaults, model.valueDefaults);
  const passes: number[] = [];
  const end = performance.now() + seconds * 1000;
  for (let now = performance.now(); now < end; ) {
    await bare.pass(raw);
    const after = performance.now();
    passes.push(after - now);
    now = after;
  }
  await bare.dispose();
  return passes;
}
