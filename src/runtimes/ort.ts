/**
 * ONNX Runtime Web adapter: wasm (with threads), webgl, webgpu and webnn, from the build the cell names
 * (src/lib/builds.ts): each build is its own entry point with its own wasm, imported only in the worker of a cell
 * that asks for it. The .wasm file is found through `new URL(..., import.meta.url)` inside the bundled entry, which
 * Vite rewrites to a same-origin asset: nothing is fetched from another origin.
 *
 * Stage boundaries per backend:
 * - wasm: `new ort.Tensor` only wraps the host array; run() copies inputs into the wasm heap and returns outputs
 *   already copied out. Upload and readback are folded into inference.
 * - webgl, webnn: run() takes CPU tensors, uploads them, and returns CPU outputs after reading them back (on webgl
 *   readPixels also waits for the GPU). Upload and readback are folded into inference.
 * - webgpu: inputs are written into GPU buffers we own (upload ends when the queue has finished the copy);
 *   outputs stay on the GPU (`preferredOutputLocation: 'gpu-buffer'`), and because run() may resolve before the
 *   GPU is done, inference ends only after `device.queue.onSubmittedWorkDone()`. Readback is `getData()`.
 */
import type * as Ort from 'onnxruntime-web';
import { ORT_BUILD_INFO, RECOMMENDED_ORT_BUILD, ortBuildLacks, type OrtBuild } from '../lib/builds.ts';
import type { HostTensor } from '../lib/inputs.ts';
import type { TestFaults } from '../lib/job.ts';
import type { ModelInfo } from '../lib/manifest.ts';
import type { BackendId, Cell, Dtype, GpuBusy, Proof, StageNote } from '../lib/schema.ts';
import { median } from '../lib/stats.ts';
import {
  BackendMismatch,
  BackendUnavailable,
  type BareRunner,
  type ModelBytes,
  type RuntimeAdapter,
  type RuntimeSession,
} from './runtime.ts';

type OrtModule = typeof Ort;
type Feeds = Record<string, Ort.Tensor>;
type Outputs = Ort.InferenceSession.ReturnType;

/**
 * One import per build, so the bundler makes each its own chunk (and wasm asset) and a worker loads only the one
 * its cell names. All share ORT's public API; they differ in the execution providers and the wasm inside.
 */
const LOADERS: Record<OrtBuild, () => Promise<OrtModule>> = {
  wasm: () => import('onnxruntime-web/wasm'),
  default: () => import('onnxruntime-web'),
  webgpu: () => import('onnxruntime-web/webgpu'),
  jspi: () => import('onnxruntime-web/jspi'),
  all: () => import('onnxruntime-web/all'),
  webgl: () => import('onnxruntime-web/webgl') as Promise<OrtModule>,
};

/** The build this worker loaded (a worker runs one cell, a cell one build). */
let ort: OrtModule;
/** Fault tests only (TestFaults.forceFallback): ORT gets wasm as a second execution provider. */
let fallbackForTest = false;
let loadedBuild: OrtBuild | null = null;

const ORT_TYPES: Record<Dtype, Ort.Tensor.Type> = {
  float32: 'float32',
  float16: 'float16',
  int32: 'int32',
  int64: 'int64',
  uint8: 'uint8',
  int8: 'int8',
  bool: 'bool',
};

const FOLDED: Record<Exclude<BackendId, 'webgpu' | 'cpu'>, StageNote[]> = {
  wasm: [
    {
      stage: 'upload',
      includedIn: 'inference',
      why: 'ORT wasm copies inputs into the wasm heap inside run(); wrapping them as tensors is counted in inference',
    },
    {
      stage: 'readback',
      includedIn: 'inference',
      why: 'ORT wasm returns outputs already copied out of the wasm heap by run()',
    },
  ],
  webgl: [
    { stage: 'upload', includedIn: 'inference', why: 'ORT webgl uploads CPU inputs to textures inside run()' },
    {
      stage: 'readback',
      includedIn: 'inference',
      why: 'ORT webgl reads outputs back (readPixels, which also waits for the GPU) inside run()',
    },
  ],
  webnn: [
    {
      stage: 'upload',
      includedIn: 'inference',
      why: 'ORT webnn takes CPU inputs and copies them to the device inside run()',
    },
    { stage: 'readback', includedIn: 'inference', why: 'ORT webnn returns CPU outputs from run()' },
  ],
};

let initialised: { backend: BackendId; threads: number } | null = null;

export const ortAdapter: RuntimeAdapter = {
  id: 'ort',
  get version() {
    return loadedBuild ? (ort.env.versions.web ?? 'unknown') : 'not loaded';
  },

  async init(backend: BackendId, cell: Cell, faults?: TestFaults): Promise<void> {
    if (backend === 'cpu') throw new BackendUnavailable('ORT has no JS cpu backend; its CPU backend is wasm');
    const build = cell.build ?? RECOMMENDED_ORT_BUILD[backend];
    const lacks = ortBuildLacks(build, backend);
    if (lacks) throw new BackendUnavailable(lacks);
    if (loadedBuild !== null && loadedBuild !== build)
      throw new Error(`this worker already loaded ORT build '${loadedBuild}', not '${build}'`);
    // Threads need SharedArrayBuffer, which needs cross-origin isolation; without it ORT silently uses 1,
    // so say so instead of timing a 1-thread run under a 2-thread label.
    if (cell.threads > 1 && !self.crossOriginIsolated) {
      throw new BackendUnavailable(
        `ort:wasm with ${cell.threads} threads needs cross-origin isolation (SharedArrayBuffer); this page is not isolated`,
      );
    }
    if (cell.threads > navigator.hardwareConcurrency) {
      throw new BackendUnavailable(
        `${cell.threads} threads asked, this device has ${navigator.hardwareConcurrency} logical cores`,
      );
    }
    if (backend === 'webnn' && !('ml' in navigator))
      throw new BackendUnavailable('navigator.ml is missing: this browser has no WebNN');
    if (backend === 'webgpu' && !('gpu' in navigator))
      throw new BackendUnavailable('navigator.gpu is missing: this browser has no WebGPU');
    ort = await LOADERS[build]();
    loadedBuild = build;
    ort.env.wasm.numThreads = cell.threads;
    ort.env.wasm.proxy = false; // we are already in a dedicated worker
    ort.env.logLevel = 'error';
    initialised = { backend, threads: cell.threads };
    fallbackForTest = Boolean(faults?.forceFallback);
  },

  async createSession(model: ModelInfo, bytes: ModelBytes, cell: Cell): Promise<RuntimeSession> {
    if (bytes.format !== 'onnx') throw new Error(`ort loads ONNX files, not ${bytes.format}`);
    if (initialised?.backend !== cell.backend) throw new Error('ort adapter: init() was not called for this backend');
    const gpu = cell.backend === 'webgpu';
    const session = await ort.InferenceSession.create(new Uint8Array(bytes.entry), {
      // One provider only: if it can't take the model, creation fails instead of falling back to wasm. (Fault
      // tests add wasm as a fallback, as an app might, to show the proof below catches the fallback.)
      executionProviders: fallbackForTest && cell.backend !== 'wasm' ? [cell.backend, 'wasm'] : [cell.backend],
      graphOptimizationLevel: 'all',
      ...(gpu ? { preferredOutputLocation: 'gpu-buffer' as const } : {}),
    });
    const missing = model.inputs.filter((i) => !session.inputNames.includes(i.name)).map((i) => i.name);
    if (missing.length) {
      await session.release();
      throw new Error(
        `the ONNX graph has no input named ${missing.join(', ')}; its inputs are ${session.inputNames.join(', ')}`,
      );
    }
    if (gpu) {
      // Proof from ORT itself: a webgpu session runs on the device ORT holds. If ORT fell back to another execution
      // provider, it holds none (reading it then fails or gives nothing), and the cell must not be timed as webgpu.
      const device = (await Promise.resolve(ort.env.webgpu.device).catch(() => undefined)) as GPUDevice | undefined;
      if (!device || typeof device.createBuffer !== 'function') {
        await session.release();
        throw new BackendMismatch(
          'asked ORT for webgpu, but after creating the session it holds no WebGPU device: it fell back to another execution provider',
        );
      }
      return new OrtWebGpuSession(session, model, cell, device);
    }
    return new OrtCpuBoundSession(session, model, cell, FOLDED[cell.backend as keyof typeof FOLDED]);
  },

  async createBare(_model: ModelInfo, bytes: ModelBytes, cell: Cell): Promise<BareRunner> {
    const session = await ort.InferenceSession.create(new Uint8Array(bytes.entry), {
      executionProviders: [cell.backend],
      graphOptimizationLevel: 'all',
    });
    return {
      async pass(inputs) {
        const feeds: Feeds = {};
        for (const t of inputs) feeds[t.name] = new ort.Tensor(ORT_TYPES[t.dtype], t.data, t.shape);
        const out = await session.run(feeds);
        // CPU outputs: the data is in hand when run() resolves; touching it is what an app does next.
        for (const name of session.outputNames) void out[name]!.data;
      },
      dispose: () => session.release(),
    };
  },

  wasmHeapBytes: () => null, // ORT does not expose its wasm memory
};

async function commonProof(cell: Cell, details: Proof['details']): Promise<Proof> {
  // ORT writes the thread count it really uses back into numThreads once the wasm module is up.
  const threads = cell.backend === 'wasm' ? Number(ort.env.wasm.numThreads) || 1 : 1;
  if (cell.backend === 'wasm' && threads !== cell.threads) {
    throw new BackendMismatch(`asked ORT for ${cell.threads} wasm threads, it runs ${threads}`);
  }
  return {
    runtime: 'ort',
    runtimeVersion: ortAdapter.version,
    backendRequested: cell.backend,
    backendInUse: cell.backend,
    threads,
    simd: true, // ORT 1.30 ships only SIMD wasm builds
    crossOriginIsolated: self.crossOriginIsolated,
    details: {
      executionProviders: cell.backend,
      threadsRequested: cell.threads,
      build: loadedBuild,
      entry: loadedBuild ? ORT_BUILD_INFO[loadedBuild].entry : null,
      ...details,
    },
  };
}

/** wasm, webgl, webnn: CPU tensors in, CPU tensors out; run() does the device work in between. */
class OrtCpuBoundSession implements RuntimeSession<Feeds, Outputs> {
  constructor(
    protected readonly session: Ort.InferenceSession,
    protected readonly model: ModelInfo,
    protected readonly cell: Cell,
    readonly stageNotes: readonly StageNote[],
  ) {}

  async upload(inputs: readonly HostTensor[]): Promise<Feeds> {
    const feeds: Feeds = {};
    for (const t of inputs) feeds[t.name] = new ort.Tensor(ORT_TYPES[t.dtype], t.data, t.shape);
    return feeds;
  }

  infer(feeds: Feeds): Promise<Outputs> {
    if (this.cell.backend === 'webgl') primeWebGlInputCheck(this.session, feeds);
    return this.session.run(feeds);
  }

  async readback(outputs: Outputs): Promise<HostTensor[]> {
    return Promise.all(
      this.session.outputNames.map(async (name) => {
        const t = outputs[name];
        if (!t) throw new Error(`ORT returned no output '${name}'`);
        const spec = this.model.outputs.find((o) => o.name === name);
        // CPU outputs have .data; GPU-resident ones are downloaded by getData().
        const data = (t.location === 'cpu' ? t.data : await t.getData()) as HostTensor['data'];
        return { name, dtype: spec?.dtype ?? (t.type as Dtype), shape: [...t.dims], data };
      }),
    );
  }

  release(feeds: Feeds, outputs: Outputs): void {
    for (const t of Object.values(feeds)) t.dispose();
    for (const t of Object.values(outputs)) t.dispose();
  }

  async proof(): Promise<Proof> {
    const details: Proof['details'] = {};
    if (this.cell.backend === 'webgl') {
      const gl = ort.env.webgl.context as WebGL2RenderingContext | undefined;
      const dbg = gl?.getExtension('WEBGL_debug_renderer_info');
      details.webglRenderer = gl
        ? String(dbg ? gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER))
        : null;
    }
    return commonProof(this.cell, details);
  }

  async measureGpuBusy(_inputs: readonly HostTensor[], _passes: number): Promise<GpuBusy | string> {
    if (this.cell.backend === 'webgl') return 'ORT webgl exposes no GPU timer queries';
    return 'not a GPU backend';
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Works around an ORT webgl (onnxjs) limitation: it checks each run's input dims against the dims it stored on the
 * first run (or, on the first run, against the model's dims, where a symbolic dim reads as undefined), so a model
 * with a symbolic dim fails every run after the first. We store this run's own dims and types before the run, so
 * the check passes for any size the model accepts. Private state, reached defensively: if ORT's internals change,
 * this does nothing and the runtime's own error shows as before.
 */
function primeWebGlInputCheck(session: Ort.InferenceSession, feeds: Feeds): void {
  const inner = (
    session as unknown as {
      handler?: { session?: { context?: { graphInputDims?: unknown[]; graphInputTypes?: unknown[] } } };
    }
  ).handler?.session;
  const ctx = inner?.context;
  if (!ctx || !Array.isArray(ctx.graphInputDims) || !Array.isArray(ctx.graphInputTypes)) return;
  const ordered = session.inputNames.map((n) => feeds[n]);
  if (ordered.some((t) => !t)) return;
  ctx.graphInputDims.splice(0, ctx.graphInputDims.length, ...ordered.map((t) => t!.dims));
  ctx.graphInputTypes.splice(0, ctx.graphInputTypes.length, ...ordered.map((t) => t!.type));
}

/** WebGPU buffers must be sized in multiples of 4 bytes; 16 keeps every dtype aligned. */
const align16 = (n: number) => Math.ceil(Math.max(n, 4) / 16) * 16;
const GPU_BUFFER_TYPES = new Set<Dtype>(['float32', 'float16', 'int32', 'int64', 'uint8', 'bool']);

class OrtWebGpuSession extends OrtCpuBoundSession {
  private lost: string | null = null;

  constructor(
    session: Ort.InferenceSession,
    model: ModelInfo,
    cell: Cell,
    private readonly device: GPUDevice,
  ) {
    super(session, model, cell, []);
    void device.lost.then((info) => {
      this.lost = `WebGPU device lost${info.reason ? ` (${info.reason})` : ''}: ${info.message || 'no message'}`;
    });
  }

  private check(): void {
    if (this.lost) throw new Error(this.lost);
  }

  loseDevice(): void {
    this.device.destroy();
  }

  override async upload(inputs: readonly HostTensor[]): Promise<Feeds> {
    this.check();
    const feeds: Feeds = {};
    for (const t of inputs) {
      if (!GPU_BUFFER_TYPES.has(t.dtype)) {
        // ORT can't wrap this dtype as a GPU buffer: it goes in as a CPU tensor and run() uploads it.
        feeds[t.name] = new ort.Tensor(ORT_TYPES[t.dtype], t.data, t.shape);
        continue;
      }
      const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      const buffer = this.device.createBuffer({
        size: align16(bytes.byteLength),
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      this.device.queue.writeBuffer(
        buffer,
        0,
        (bytes.byteLength % 4 === 0 ? bytes : padTo4(bytes)) as Uint8Array<ArrayBuffer>,
      );
      feeds[t.name] = ort.Tensor.fromGpuBuffer(buffer, {
        dataType: ORT_TYPES[t.dtype] as Ort.Tensor.GpuBufferDataTypes,
        dims: t.shape,
        dispose: () => buffer.destroy(),
      });
    }
    // The upload ends when the copies have landed on the device, not when they were queued.
    await this.device.queue.onSubmittedWorkDone();
    return feeds;
  }

  override async infer(feeds: Feeds): Promise<Outputs> {
    this.check();
    const out = await this.session.run(feeds);
    // With GPU-resident outputs run() can resolve while kernels are still queued: drain the queue so the
    // inference stage holds the device's work, not only its dispatch.
    await this.device.queue.onSubmittedWorkDone();
    this.check();
    return out;
  }

  override async proof(): Promise<Proof> {
    type Info = { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
    const adapter = ort.env.webgpu.adapter as unknown as { info?: Info } | undefined;
    // The JSEP builds expose the adapter; the native WebGPU EP (/webgpu) only the device, which carries its info.
    const info = adapter?.info ?? (this.device as unknown as { adapterInfo?: Info }).adapterInfo ?? null;
    return commonProof(this.cell, {
      webgpuVendor: info?.vendor ?? null,
      webgpuArchitecture: info?.architecture ?? null,
      webgpuDescription: info?.description ?? null,
      isFallbackAdapter: info?.isFallbackAdapter ?? null,
      outputLocation: 'gpu-buffer',
    });
  }

  /**
   * GPU busy time from ORT's WebGPU profiling (timestamp queries around each kernel). Queries cost time, so they
   * run only on these extra passes, never during the timed samples. ORT re-reads the mode at every run start.
   */
  override async measureGpuBusy(inputs: readonly HostTensor[], passes: number): Promise<GpuBusy | string> {
    if (loadedBuild === 'webgpu')
      return "ORT's native WebGPU EP (the /webgpu build) reports no per-kernel timestamps to JS; the default or /all build (JSEP) does";
    // ORT asks for the inside-passes variant where the adapter has it, else plain timestamp-query.
    if (
      !this.device.features.has('timestamp-query') &&
      !this.device.features.has('chromium-experimental-timestamp-query-inside-passes')
    ) {
      return 'the WebGPU device has no timestamp-query feature';
    }
    const perPass: number[] = [];
    const walls: number[] = [];
    let kernels: { start: number; end: number }[] = [];
    ort.env.webgpu.profiling = { mode: 'default', ondata: (d) => kernels.push({ start: d.startTime, end: d.endTime }) };
    try {
      for (let i = 0; i < passes; i++) {
        kernels = [];
        const feeds = await this.upload(inputs);
        const t0 = performance.now();
        const out = await this.infer(feeds);
        walls.push(performance.now() - t0);
        this.release(feeds, out);
        await settle(() => kernels.length);
        // Timestamps are in nanoseconds. Kernel times are summed (busy time),
        // not the span, so idle gaps between dispatches count as overhead, not GPU work.
        if (!kernels.length) return 'ORT reported no kernel timestamps';
        perPass.push(kernels.reduce((s, k) => s + (k.end - k.start), 0) / 1e6);
      }
    } finally {
      ort.env.webgpu.profiling = { mode: 'off' };
    }
    return {
      source: 'webgpu timestamp-query (ORT profiling, per kernel, summed)',
      passes: perPass,
      medianMs: median(perPass),
      wallMedianMs: median(walls),
    };
  }
}

/** Waits until a count stops growing (profiling data arrives asynchronously after the queue drains). */
async function settle(count: () => number, quietMs = 30, maxMs = 2000): Promise<void> {
  const start = performance.now();
  let last = -1;
  while (performance.now() - start < maxMs) {
    const now = count();
    if (now === last && now > 0) return;
    last = now;
    await new Promise((r) => setTimeout(r, quietMs));
  }
}

function padTo4(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
  out.set(bytes);
  return out;
}
