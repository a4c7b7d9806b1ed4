/**
 * The sampling pipeline of one cell, run inside its dedicated worker. All stage times are taken here with
 * performance.now(), in the same thread that runs the model: never across the worker boundary.
 *
 * Order: check inputs (cheap, before anything loads) -> runtime init -> fetch -> session create ->
 * first inference -> warm-up -> samples. A failure at any point becomes a result that keeps what was measured.
 */
import { InputError, synthesizeInputs, type HostTensor } from '../lib/inputs.ts';
import { PARITY_PREFIX, type CellEvent, type CellJob, type CellOutcome, type ParityData } from '../lib/job.ts';
import type { ModelFile } from '../lib/manifest.ts';
import type { CellResult, ColdStart, FailedCellResult, GpuBusy, Memory, OutputDigest, Sample, Stage, StageNote } from '../lib/schema.ts';
import { summarizeStages } from '../lib/stats.ts';
import { BackendMismatch, BackendUnavailable, type ModelBytes, type RuntimeAdapter, type RuntimeSession } from '../runtimes/runtime.ts';
import { postprocessFor } from './postprocess.ts';
import { measureTimerResolution } from './timer.ts';

type Emit = (event: CellEvent) => void;
/** Asks the page to measure memory (measureUserAgentSpecificMemory is a page API); bytes, or why not. */
export type MeasureMemory = () => Promise<{ bytes: number | null; note: string | null }>;

const GPU_BACKENDS = new Set(['webgl', 'webgpu']);
/** How runtimes say an operator has no kernel on a backend (ORT webgl: "cannot resolve operator 'X'"). */
const OP_MISSING = /cannot resolve operator|no kernel (registered|found)|kernel .* not (found|registered)|unsupported (op|operator)|operator .* is not supported/i;

function message(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return typeof e === 'string' ? e : JSON.stringify(e);
}

/** Runtimes load only when a cell needs them, so a tfjs cell never downloads ORT's wasm and vice versa. */
async function loadAdapter(runtime: CellJob['cell']['runtime']): Promise<RuntimeAdapter> {
  switch (runtime) {
    case 'ort':
      return (await import('../runtimes/ort.ts')).ortAdapter;
    case 'tfjs':
      return (await import('../runtimes/tfjs.ts')).tfjsAdapter;
    default: {
      const never: never = runtime;
      throw new Error(`unknown runtime ${String(never)}`);
    }
  }
}

async function sha256Hex(buf: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', buf);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Fetches (or takes from the job) one model file and checks its size and checksum: a truncated file says so. */
async function getFile(job: CellJob, file: ModelFile): Promise<ArrayBuffer> {
  let buf = job.files?.[file.path];
  if (!buf) {
    const url = new URL(file.path, job.modelsBaseUrl);
    const res = await fetch(url);
    if (!res.ok) throw new Error(`fetching ${file.path}: HTTP ${res.status} ${res.statusText}`);
    buf = await res.arrayBuffer();
  }
  if (buf.byteLength !== file.bytes) {
    throw new Error(`model file ${file.path} is ${buf.byteLength} bytes, the manifest says ${file.bytes}: truncated or corrupt`);
  }
  return buf;
}

/** Copies stand in for a real app's decode/normalise step and give the runtime a fresh buffer each sample. */
function preprocess(raw: readonly HostTensor[]): HostTensor[] {
  return raw.map((t) => ({ ...t, data: t.data.slice() as HostTensor['data'] }));
}

function digest(outputs: readonly HostTensor[]): { digests: OutputDigest[]; parity: ParityData[] } {
  const digests: OutputDigest[] = [];
  const parity: ParityData[] = [];
  for (const o of outputs) {
    const n = o.data.length;
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    const keep = new Float32Array(Math.min(n, PARITY_PREFIX));
    for (let i = 0; i < n; i++) {
      const v = Number(o.data[i]);
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
      if (i < keep.length) keep[i] = v;
    }
    digests.push({ name: o.name, dtype: o.dtype, shape: o.shape, head: Array.from(keep.subarray(0, 8)), min: n ? min : 0, max: n ? max : 0, mean: n ? sum / n : 0 });
    parity.push({ name: o.name, shape: o.shape, values: keep });
  }
  return { digests, parity };
}

export async function runCellPipeline(job: CellJob, emit: Emit, measureMemory?: MeasureMemory): Promise<CellOutcome> {
  const { cell, model, sampling } = job;
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const common = () => ({ cell, startedAt, durationMs: performance.now() - t0 });
  const cold: Partial<ColdStart> = {};
  const samples: Sample[] = [];
  const failed = (phase: FailedCellResult['phase'], e: unknown): CellOutcome => ({
    result: { status: 'failed', ...common(), phase, error: message(e), coldStart: Object.keys(cold).length ? cold : null, samples },
    parity: [],
  });
  const unsupported = (reason: string): CellOutcome => ({ result: { status: 'unsupported', ...common(), reason }, parity: [] });

  if (cell.format === null) return unsupported(`model '${model.id}' has no format that ${cell.runtime} loads (it has ${model.formats.map((f) => f.format).join(', ')})`);
  const format = model.formats.find((f) => f.format === cell.format);
  if (!format) return failed('fetch', new Error(`model '${model.id}' has no ${cell.format} files`));

  // Inputs first: a batch the model can't take or an override that doesn't fit is known before anything loads.
  let raw: HostTensor[];
  try {
    raw = synthesizeInputs(model.inputs, model.batchDim, cell.batch, cell.inputSeed, cell.inputOverrides, model.dimDefaults);
  } catch (e) {
    if (e instanceof InputError && /batch/.test(e.message)) return unsupported(e.message);
    return failed('inputs', e);
  }
  const timerResolutionMs = measureTimerResolution();

  emit({ type: 'phase', phase: 'init' });
  let adapter: RuntimeAdapter;
  let t = performance.now();
  try {
    adapter = await loadAdapter(cell.runtime);
    await adapter.init(cell.backend, cell);
  } catch (e) {
    if (e instanceof BackendUnavailable) return unsupported(e.message);
    return failed('init', e);
  }
  cold.runtimeInitMs = performance.now() - t;

  emit({ type: 'phase', phase: 'fetch' });
  let bytes: ModelBytes;
  t = performance.now();
  try {
    const [entry, ...weights] = await Promise.all([format.entry, ...format.weights].map((f) => getFile(job, f)));
    bytes = { format: format.format, entry: entry!, weights };
  } catch (e) {
    return failed('fetch', e);
  }
  cold.fetchMs = performance.now() - t;
  cold.fetchedBytes = bytes.entry.byteLength + bytes.weights.reduce((a, w) => a + w.byteLength, 0);
  // Checksums are verified outside the fetch clock: corrupt files fail here with the file named.
  try {
    for (const [f, buf] of [[format.entry, bytes.entry], ...format.weights.map((w, i) => [w, bytes.weights[i]!] as const)] as const) {
      if ((await sha256Hex(buf)) !== f.sha256) throw new Error(`model file ${f.path} does not match its sha256 in the manifest: corrupt or replaced`);
    }
  } catch (e) {
    return failed('fetch', e);
  }

  const tensorsBefore = adapter.tensorCount?.() ?? null;
  emit({ type: 'phase', phase: 'session' });
  let session: RuntimeSession;
  t = performance.now();
  try {
    session = await adapter.createSession(model, bytes, cell);
  } catch (e) {
    // A backend that lacks one of the model's operators can't run it at all: unsupported, in the runtime's words.
    if (OP_MISSING.test(message(e))) return unsupported(`${cell.runtime}:${cell.backend} can't run this model: ${message(e)}`);
    return failed('session', e);
  }
  cold.sessionCreateMs = performance.now() - t;

  const folded = new Map<Stage, Stage>();
  for (const note of session.stageNotes) if (note.includedIn) folded.set(note.stage, note.includedIn);
  const post = postprocessFor(model.task);
  const stageNotes: StageNote[] = [...session.stageNotes];
  if (!post) stageNotes.push({ stage: 'postprocess', includedIn: null, why: `no postprocess is defined for task '${model.task}'` });

  let lastOutputs: HostTensor[] = [];
  // Kept so the engine can't drop the postprocess work as unused.
  let postSink: unknown = null;
  /** One pass through the pipeline, every stage boundary on the worker's own clock. */
  const pass = async (): Promise<Sample> => {
    const a = performance.now();
    const inputs = preprocess(raw);
    const b = performance.now();
    const uploaded = await session.upload(inputs);
    const c = performance.now();
    const outputs = await session.infer(uploaded);
    const d = performance.now();
    const host = await session.readback(outputs);
    const e = performance.now();
    if (post) postSink = post(host, model);
    const f = performance.now();
    session.release(uploaded, outputs);
    lastOutputs = host;
    const times: Record<Stage, number | null> = { preprocess: b - a, upload: c - b, inference: d - c, readback: e - d, postprocess: post ? f - e : null };
    // Stages this backend can't separate are counted in the stage that holds them, and read null.
    for (const [stage, into] of folded) {
      times[into] = (times[into] ?? 0) + (times[stage] ?? 0);
      times[stage] = null;
    }
    const total = Object.values(times).reduce<number>((s, v) => s + (v ?? 0), 0);
    return { ...times, total } as Sample;
  };

  let phase: FailedCellResult['phase'] = 'warmup';
  let sampleTensorsStart: number | null = null;
  let sampleTensorsEnd: number | null = null;
  let gpuBusy: GpuBusy | string | null = null;
  let uaMemory: { bytes: number | null; note: string | null } = { bytes: null, note: null };
  try {
    emit({ type: 'phase', phase: 'first-inference' });
    t = performance.now();
    await pass();
    cold.firstInferenceMs = performance.now() - t;
    emit({ type: 'phase', phase: 'warmup' });
    t = performance.now();
    for (let i = 0; i < sampling.warmup; i++) await pass();
    cold.warmupCount = sampling.warmup;
    cold.warmupTotalMs = performance.now() - t;

    phase = 'sampling';
    emit({ type: 'phase', phase: 'sampling' });
    sampleTensorsStart = adapter.tensorCount?.()?.tensors ?? null;
    for (let i = 0; i < sampling.samples; i++) {
      const s = await pass();
      samples.push(s);
      emit({ type: 'sample', index: i, of: sampling.samples, sample: s });
    }
    sampleTensorsEnd = adapter.tensorCount?.()?.tensors ?? null;
    // GPU timers are read on extra passes after sampling: the queries cost time, so they never run in samples.
    if (GPU_BACKENDS.has(cell.backend) && sampling.gpuBusyPasses > 0) gpuBusy = await session.measureGpuBusy(raw, sampling.gpuBusyPasses);
    // With the model still loaded, after the timed samples (the measurement is slow and would disturb them).
    if (sampling.measureMemory) uaMemory = measureMemory ? await measureMemory() : { bytes: null, note: 'no page to measure memory' };
  } catch (e) {
    await session.dispose().catch(() => undefined);
    return failed(phase, e);
  }

  let proof;
  try {
    proof = await session.proof();
  } catch (e) {
    await session.dispose().catch(() => undefined);
    return failed(e instanceof BackendMismatch ? 'init' : 'sampling', e);
  }
  const wasmHeapBytes = adapter.wasmHeapBytes();
  await session.dispose().catch(() => undefined);
  void postSink;
  const tensorsAfter = adapter.tensorCount?.() ?? null;
  const perSampleLeak = sampleTensorsStart !== null && sampleTensorsEnd !== null ? (sampleTensorsEnd - sampleTensorsStart) / sampling.samples : null;
  const memory: Memory = {
    tfjsTensorsBefore: tensorsBefore?.tensors ?? null,
    tfjsTensorsAfter: tensorsAfter?.tensors ?? null,
    tfjsBytesAfter: tensorsAfter?.bytes ?? null,
    tfjsTensorsPerSampleLeak: perSampleLeak,
    wasmHeapBytes,
    userAgentBytes: uaMemory.bytes,
    userAgentNote: uaMemory.note,
    leak: (tensorsBefore !== null && tensorsAfter !== null && tensorsAfter.tensors > tensorsBefore.tensors) || (perSampleLeak !== null && perSampleLeak > 0),
  };
  const { digests, parity } = digest(lastOutputs);
  const warnings: string[] = [];
  if (memory.leak) warnings.push(`tensor leak: ${memory.tfjsTensorsBefore} tensors before the model, ${memory.tfjsTensorsAfter} after it was disposed; ${perSampleLeak ?? 0} per sample`);
  if (typeof gpuBusy === 'string') warnings.push(`no GPU busy time: ${gpuBusy}`);
  const summary = summarizeStages(samples);
  if (summary.total.median < 20 * timerResolutionMs) {
    warnings.push(`median total ${summary.total.median.toFixed(3)} ms is under 20 timer ticks (${timerResolutionMs} ms): values are coarse`);
  }
  const result: CellResult = {
    status: 'ok',
    ...common(),
    coldStart: cold as ColdStart,
    samples,
    summary,
    stageNotes,
    proof,
    timerResolutionMs,
    inputs: raw.map((r) => ({ name: r.name, dtype: r.dtype, shape: r.shape })),
    outputs: digests,
    parity: null,
    gpuBusy: typeof gpuBusy === 'string' ? null : gpuBusy,
    memory,
    warnings,
  };
  return { result, parity };
}
