/**
 * Benchmark behind scripts/bench-overhead.ts: what does the lab's pipeline add to a sample? The same model and
 * backend run in one worker two ways, in alternating blocks so drift hits both alike:
 *  - lab: the cell pipeline exactly as cells are sampled (CellRun.sample, one pass per sample);
 *  - bare: the runtime's own API in the plainest loop (make tensors, run, read outputs), timed per pass;
 *  - bare fresh: the same, fed a fresh copy of the inputs each pass (copied outside its clock), as the lab's
 *    preprocess hands the runtime new buffers each pass, and as an app with new data for each inference does.
 */
import type { OverheadRounds } from '../lib/contracts/automation-api.ts';
import { openBare } from './bench-bare-loop.ts';
import type { CellJob } from '../lib/contracts/job.ts';
import { CellRun } from './pipeline.ts';
import { loadAdapter } from './cell-io.ts';

/**
 * `iterations` passes are timed together per sample on every arm (values per pass), so a sub-0.1 ms pass is resolved
 * far below the clock's 5 us tick: one pass per sample left tiny-cnn's medians on whole ticks and the ratio's CI
 * at 0.75-1.68.
 */
export async function benchOverhead(
  job: CellJob,
  rounds: number,
  block: number,
  iterations = 1,
): Promise<OverheadRounds> {
  const sampling = { ...job.sampling, mode: 'fixed' as const, iterations };
  const run = new CellRun({ ...job, sampling }, () => undefined);
  const prepared = await run.prepare();
  if (!prepared.ok) throw new Error(`lab cell did not start: ${JSON.stringify(prepared.outcome.result).slice(0, 400)}`);
  const warm = await run.warmup();
  if (!warm.ok) throw new Error('lab cell failed in warm-up');

  // The lab cell above initialised the adapter for this backend; the bare runner shares it.
  const { bare, raw } = await openBare(job, await loadAdapter(job.cell.runtime));
  for (let i = 0; i < job.sampling.warmup; i++) await bare.pass(raw);

  const out: OverheadRounds = { lab: [], labWork: [], bare: [], bareFresh: [] };
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
      for (let k = 0; k < iterations; k++) await bare.pass(raw);
      out.bare.push((performance.now() - a) / iterations);
    }
  };
  const freshBlock = async () => {
    for (let i = 0; i < block; i++) {
      // The copies are made before the clock starts; each pass gets its own, as the lab's preprocess gives it.
      const fresh = Array.from({ length: iterations }, () =>
        raw.map((t) => ({ ...t, data: t.data.slice() as typeof t.data })),
      );
      const a = performance.now();
      for (const inputs of fresh) await bare.pass(inputs);
      out.bareFresh.push((performance.now() - a) / iterations);
    }
  };
  // The three arms in a rotating order, so none always runs first (or after the same one).
  const arms = [labBlock, bareBlock, freshBlock];
  for (let r = 0; r < rounds; r++) for (let k = 0; k < arms.length; k++) await arms[(r + k) % arms.length]!();
  await bare.dispose();
  return out;
}
