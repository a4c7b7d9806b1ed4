/**
 * Benchmark behind scripts/bench-overhead.ts: what does the lab's pipeline add to a sample? The same model and
 * backend run in one worker two ways, in alternating blocks so drift hits both alike:
 *  - lab: the cell pipeline exactly as cells are sampled (CellRun.sample, one pass per sample);
 *  - bare: the runtime's own API in the plainest loop (make tensors, run, read outputs), timed per pass.
 */
import { synthesizeInputs } from '../lib/inputs.ts';
import type { CellJob } from '../lib/job.ts';
import { CellRun, loadAdapter } from './pipeline.ts';

export interface OverheadRounds {
  /** Lab total per pass (preprocess + upload + inference + readback + postprocess). */
  lab: number[];
  /** Lab upload + inference + readback: the same work the bare loop does (no app-side pre/postprocess). */
  labWork: number[];
  bare: number[];
}

export async function benchOverhead(job: CellJob, rounds: number, block: number): Promise<OverheadRounds> {
  const { cell, model } = job;
  const run = new CellRun({ ...job, sampling: { ...job.sampling, mode: 'fixed', iterations: 1 } }, () => undefined);
  const prepared = await run.prepare();
  if (!prepared.ok) throw new Error(`lab cell did not start: ${JSON.stringify(prepared.outcome.result).slice(0, 400)}`);
  const warm = await run.warmup();
  if (!warm.ok) throw new Error('lab cell failed in warm-up');

  const adapter = await loadAdapter(cell.runtime);
  if (!adapter.createBare) throw new Error(`${cell.runtime} has no bare loop`);
  const format = model.formats.find((f) => f.format === cell.format);
  if (!format) throw new Error(`${model.id} has no ${cell.format} files`);
  const fetchBytes = async (path: string) => (await fetch(new URL(path, job.modelsBaseUrl))).arrayBuffer();
  const [entry, ...weights] = await Promise.all([format.entry, ...format.weights].map((f) => fetchBytes(f.path)));
  const bare = await adapter.createBare(model, { format: format.format, entry: entry!, weights }, cell);
  const raw = synthesizeInputs(model.inputs, model.batchDim, cell.batch, cell.inputSeed, cell.inputOverrides, model.dimDefaults, model.valueDefaults);
  for (let i = 0; i < job.sampling.warmup; i++) await bare.pass(raw);

  const out: OverheadRounds = { lab: [], labWork: [], bare: [] };
  const labBlock = async () => {
    const step = await run.sample(block);
    if (!step.ok) throw new Error('lab cell failed while sampling');
    for (const s of step.value.samples) {
      out.lab.push(s.total);
      out.labWork.push((s.upload ?? 0) + (s.inference ?? 0) + (s.readback ?? 0));
    }
  };
  const bareBlock = async () => {
    for (let i = 0; i < block; i++) {
      const a = performance.now();
      await bare.pass(raw);
      out.bare.push(performance.now() - a);
    }
  };
  // Alternate which goes first each round.
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      await labBlock();
      await bareBlock();
    } else {
      await bareBlock();
      await labBlock();
    }
  }
  await bare.dispose();
  return out;
}
