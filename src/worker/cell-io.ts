/**
 * What a cell's worker does around the timed pipeline: load its runtime, fetch and check the model's files, read
 * what it fetched (Resource Timing), digest inputs and outputs, and the fault tests' GPU hiding. Nothing here is
 * inside a stage's clock.
 */
import type { HostTensor } from '../lib/models/inputs.ts';
import { PARITY_PREFIX, type CellJob } from '../lib/contracts/job.ts';
import type { ParityData } from '../lib/report/parity.ts';
import type { ModelFile } from '../lib/models/manifest.ts';
import type { ColdStart, OutputDigest } from '../lib/schema.ts';
import { sha256Hex } from '../lib/sha256.ts';
import { BackendUnavailable, type RuntimeAdapter } from '../runtimes/runtime.ts';

/** Runtimes load only when a cell needs them, so a tfjs cell never downloads ORT's wasm and vice versa. */
export async function loadAdapter(runtime: CellJob['cell']['runtime']): Promise<RuntimeAdapter> {
  switch (runtime) {
    case 'ort':
      return (await import('../runtimes/ort.ts')).ortAdapter;
    case 'tfjs':
      return (await import('../runtimes/tfjs.ts')).tfjsAdapter;
    case 'litert':
      return (await import('../runtimes/litert.ts')).litertAdapter;
    case 'calib':
      return (await import('../runtimes/calib.ts')).calibAdapter;
    case 'ort-node':
      // Native code: the CLI hands its adapter to the cell (CellRunOptions.adapter); a browser has none.
      throw new BackendUnavailable('ort-node (native ONNX Runtime) runs only from the CLI: latency-lab run --native');
    default: {
      const never: never = runtime;
      throw new Error(`unknown runtime ${String(never)}`);
    }
  }
}

/** Fetches (or takes from the job) one model file or picture and checks its size: a truncated file says so. */
export async function getFile(job: CellJob, file: Pick<ModelFile, 'path' | 'bytes'>): Promise<ArrayBuffer> {
  let buf = job.files?.[file.path];
  if (!buf) {
    const url = new URL(file.path, job.modelsBaseUrl);
    const res = await fetch(url);
    if (!res.ok) throw new Error(`fetching ${file.path}: HTTP ${res.status} ${res.statusText}`);
    buf = await res.arrayBuffer();
  }
  if (buf.byteLength !== file.bytes) {
    throw new Error(
      `model file ${file.path} is ${buf.byteLength} bytes, the manifest says ${file.bytes}: truncated or corrupt`,
    );
  }
  return buf;
}

/** The bytes, once their sha256 is the one named: a corrupt or replaced file fails here, named as `what`. */
export async function checkSha(buf: ArrayBuffer, file: Pick<ModelFile, 'sha256'>, what: string): Promise<ArrayBuffer> {
  if ((await sha256Hex(buf)) !== file.sha256)
    throw new Error(`${what} does not match its recorded sha256: corrupt or replaced`);
  return buf;
}

/**
 * The runtime's wasm as this worker fetched it, from Resource Timing (the largest .wasm: runtimes load one). The
 * model's files are fetched by us and are not .wasm. Null when the runtime loaded none (tfjs cpu, ORT's webgl build).
 */
export function runtimeWasm(): ColdStart['runtimeWasm'] {
  const wasm = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter((e) =>
    new URL(e.name).pathname.endsWith('.wasm'),
  );
  if (!wasm.length) return null;
  const e = wasm.reduce((a, b) => (b.decodedBodySize > a.decodedBodySize ? b : a));
  return {
    file: decodeURIComponent(new URL(e.name).pathname.split('/').pop() ?? e.name),
    transferBytes: e.transferSize,
    bytes: e.decodedBodySize,
    fetchMs: e.responseEnd - e.startTime,
  };
}

/**
 * Everything this worker fetched so far (Resource Timing: the runtime's scripts and wasm, the model's files). A
 * response from the HTTP cache has transferSize 0; a revalidated one (304) only its headers.
 */
export function networkUse(): NonNullable<ColdStart['network']> {
  const all = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
  return {
    transferBytes: all.reduce((a, e) => a + e.transferSize, 0),
    bytes: all.reduce((a, e) => a + e.decodedBodySize, 0),
    requests: all.length,
    fromCache: all.filter((e) => e.transferSize === 0 && e.decodedBodySize > 0).length,
  };
}

export function digest(outputs: readonly HostTensor[]): { digests: OutputDigest[]; parity: ParityData[] } {
  const digests: OutputDigest[] = [];
  const parity: ParityData[] = [];
  for (const o of outputs) {
    const n = o.data.length;
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    let finite = 0;
    const keep = new Float32Array(Math.min(n, PARITY_PREFIX));
    for (let i = 0; i < n; i++) {
      const v = Number(o.data[i]);
      if (i < keep.length) keep[i] = v;
      // NaN/Inf are counted, not summarised: JSON can't hold them, and one would void the whole result file.
      if (!Number.isFinite(v)) continue;
      finite++;
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
    }
    const head = Array.from(keep.subarray(0, 8), (v) => (Number.isFinite(v) ? v : null));
    digests.push({
      name: o.name,
      dtype: o.dtype,
      shape: o.shape,
      head,
      min: finite ? min : null,
      max: finite ? max : null,
      mean: finite ? sum / finite : null,
      nonFinite: n - finite,
    });
    parity.push({ name: o.name, shape: o.shape, values: keep });
  }
  return { digests, parity };
}

/**
 * Fault tests only: this worker's WebGPU gives no adapter and its OffscreenCanvas no WebGL context, as on a device
 * where the GPU backends can't start (the backend probe, in another worker, still said they could).
 */
export function hideGpuForTest(): void {
  const gpu = (navigator as Navigator & { gpu?: object }).gpu;
  if (gpu) Object.defineProperty(gpu, 'requestAdapter', { value: async () => null });
  const getContext = OffscreenCanvas.prototype.getContext;
  OffscreenCanvas.prototype.getContext = function (this: OffscreenCanvas, kind: string, ...rest: unknown[]) {
    return kind.startsWith('webgl') ? null : (getContext as (...a: unknown[]) => unknown).call(this, kind, ...rest);
  } as typeof getContext;
}

/** sha256 of input tensors' bytes, in order: what a cell fed the model, comparable across runtimes. */
export async function inputDigest(inputs: readonly HostTensor[]): Promise<string> {
  const total = inputs.reduce((n, t) => n + t.data.byteLength, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const t of inputs) {
    all.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return sha256Hex(all.buffer);
}
