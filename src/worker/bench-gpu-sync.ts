/**
 * Benchmark behind scripts/bench-webgpu-sync.ts: does the lab's GPU-synced timing of ORT webgpu tell the truth?
 * Interleaved rounds of three ways to run the same model on the same inputs:
 *  - lab: GPU-resident outputs, upload / inference (ends on onSubmittedWorkDone) / readback, as cells are timed;
 *  - plain: a session with CPU outputs, timed from run() to data in hand (what an app waits for);
 *  - unsynced: GPU-resident outputs, run() timed alone with no sync (the early return naive tools report).
 */
import type { GpuSyncRounds } from '../lib/contracts/automation-api.ts';
import * as ort from 'onnxruntime-web/all';
import { modelInputs } from '../lib/models/manifest.ts';
import type { CellJob } from '../lib/contracts/job.ts';
import { ortAdapter } from '../runtimes/ort.ts';

export async function benchGpuSync(job: CellJob, rounds: number): Promise<GpuSyncRounds> {
  const { cell, model } = job;
  const format = model.formats.find((f) => f.format === 'onnx');
  if (!format) throw new Error(`${model.id} has no ONNX file`);
  const bytes = await (await fetch(new URL(format.entry.path, job.modelsBaseUrl))).arrayBuffer();
  const raw = modelInputs(model, cell.batch, cell.inputSeed, cell.inputOverrides);
  await ortAdapter.init('webgpu', cell);
  const lab = await ortAdapter.createSession(model, { format: 'onnx', entry: bytes, weights: [] }, cell);
  const plain = await ort.InferenceSession.create(new Uint8Array(bytes), { executionProviders: ['webgpu'] });
  const device = (await ort.env.webgpu.device) as GPUDevice;
  const cpuFeeds = () =>
    Object.fromEntries(raw.map((t) => [t.name, new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.shape)]));
  const out: GpuSyncRounds = { labUpload: [], labInference: [], labReadback: [], plain: [], unsynced: [] };

  const runLab = async () => {
    const a = performance.now();
    const up = await lab.upload(raw);
    const b = performance.now();
    const o = await lab.infer(up);
    const c = performance.now();
    await lab.readback(o);
    const d = performance.now();
    lab.release(up, o);
    out.labUpload.push(b - a);
    out.labInference.push(c - b);
    out.labReadback.push(d - c);
  };
  const runPlain = async () => {
    const feeds = cpuFeeds();
    const a = performance.now();
    const o = await plain.run(feeds);
    for (const t of Object.values(o)) void t.data; // CPU outputs: data is in hand when run() resolves
    out.plain.push(performance.now() - a);
  };
  const runUnsynced = async () => {
    const up = await lab.upload(raw);
    const session = (lab as unknown as { session: ort.InferenceSession }).session;
    const a = performance.now();
    const o = await session.run(up as Record<string, ort.Tensor>);
    out.unsynced.push(performance.now() - a);
    await device.queue.onSubmittedWorkDone(); // don't let its GPU work spill into the next measurement
    lab.release(up, o);
  };
  // Warm every path, then rotate the order each round so drift spreads evenly.
  await runLab();
  await runPlain();
  await runUnsynced();
  out.labUpload.length = out.labInference.length = out.labReadback.length = out.plain.length = out.unsynced.length = 0;
  const order = [runLab, runPlain, runUnsynced];
  for (let r = 0; r < rounds; r++) for (let k = 0; k < order.length; k++) await order[(r + k) % order.length]!();
  await lab.dispose();
  await plain.release();
  return out;
}
