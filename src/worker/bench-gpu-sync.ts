/**
 * Benchmark behind scripts/bench-webgpu-sync.ts: does the lab's GPU-synced timing of ORT webgpu tell the truth?
 * Interleaved rounds of three ways to run the same model on the same inputs:
 *  - lab: GPU-resident outputs, upload / inference (ends on onSubmittedWorkDone) / readback, as cells are timed;
 *  - plain: a session with CPU outputs, timed from run() to data in hand (what an app waits for);
 *  - unsynced: GPU-resident outputs, run() timed alone with no sync (the early return naive tools report).
 * All three run on the build the lab's cell loads (the recommended /webgpu one unless the cell names another) and on
 * the one GPUDevice ORT runs the lab's session on: a plain session from another build would compare two builds
 * (native WebGPU EP against JSEP), and draining another device's queue would wait for nothing.
 */
import type { GpuSyncRounds } from '../lib/contracts/automation-api.ts';
import type * as Ort from 'onnxruntime-web';
import { modelInputs } from '../lib/models/manifest.ts';
import type { CellJob } from '../lib/contracts/job.ts';
import { ortAdapter } from '../runtimes/ort.ts';
import { OrtWebGpuSession } from '../runtimes/ort-webgpu.ts';

/** The lab's session and a plain one (CPU outputs) of the same model, on one build and one device. */
async function openSessions(job: CellJob): Promise<{ lab: OrtWebGpuSession; plain: Ort.InferenceSession }> {
  const { cell, model } = job;
  const format = model.formats.find((f) => f.format === 'onnx');
  if (!format) throw new Error(`${model.id} has no ONNX file`);
  const bytes = await (await fetch(new URL(format.entry.path, job.modelsBaseUrl))).arrayBuffer();
  await ortAdapter.init('webgpu', cell);
  const lab = await ortAdapter.createSession(model, { format: 'onnx', entry: bytes, weights: [] }, cell);
  if (!(lab instanceof OrtWebGpuSession)) throw new Error('the lab session is not an ORT webgpu session');
  const { ort } = lab.loaded;
  // Same module, so the same backend: ORT gives its sessions the one device it holds. Checked, not assumed.
  const plain = await ort.InferenceSession.create(new Uint8Array(bytes), {
    executionProviders: ['webgpu'],
    graphOptimizationLevel: 'all',
  });
  if ((await ort.env.webgpu.device) !== lab.device) {
    await plain.release();
    await lab.dispose();
    throw new Error('the plain session runs on another GPUDevice than the lab session');
  }
  return { lab, plain };
}

export async function benchGpuSync(job: CellJob, rounds: number): Promise<GpuSyncRounds> {
  const { cell, model } = job;
  const raw = modelInputs(model, cell.batch, cell.inputSeed, cell.inputOverrides);
  const { lab, plain } = await openSessions(job);
  const { ort } = lab.loaded;
  const device = lab.device;
  const cpuFeeds = () =>
    Object.fromEntries(raw.map((t) => [t.name, new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.shape)]));
  const out: Omit<GpuSyncRounds, 'build'> = {
    labUpload: [],
    labInference: [],
    labReadback: [],
    plain: [],
    unsynced: [],
  };

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
    const a = performance.now();
    const o = await lab.session.run(up as Record<string, Ort.Tensor>);
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
  return { ...out, build: lab.loaded.build };
}
