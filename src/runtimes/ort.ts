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
import { errorMessage } from '../lib/errors.ts';
import { RECOMMENDED_ORT_BUILD, ortBuildLacks, type OrtBuild } from '../lib/builds.ts';
import type { TestFaults } from '../lib/contracts/job.ts';
import type { ModelInfo } from '../lib/models/manifest.ts';
import type { BackendId, Cell, StageNote } from '../lib/schema.ts';
import { captureConsole, installConsoleTap } from './console-tap.ts';
import { droppedProvider, webGlInitFailure } from './ort-proof.ts';
import { ORT_TYPES, OrtCpuBoundSession, type Feeds, type Loaded, type OrtModule } from './ort-session.ts';
import { OrtWebGpuSession } from './ort-webgpu.ts';
import { freeDimensionOverrides, watchContextRequests } from './ort-webnn.ts';
import { probeWebGl, refusalText } from './webgl-probe.ts';
import {
  BackendMismatch,
  BackendUnavailable,
  type BareRunner,
  type ModelBytes,
  type RuntimeAdapter,
  type RuntimeSession,
} from './runtime.ts';

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
    if (backend === 'webnn') watchContextRequests();
    if (backend === 'webgpu' && !('gpu' in navigator))
      throw new BackendUnavailable('navigator.gpu is missing: this browser has no WebGPU');
    // Before the build loads: its wasm module binds console.log when it starts, and ORT's profile comes that way.
    installConsoleTap();
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
    const recipe = {
      bytes: new Uint8Array(bytes.entry),
      options: {
        // One provider only: if it can't take the model, creation fails instead of falling back to wasm. (Fault
        // tests add wasm as a fallback, as an app might, to show the checks below catch the fallback.)
        executionProviders: fallbackForTest && cell.backend !== 'wasm' ? [cell.backend, 'wasm'] : [cell.backend],
        graphOptimizationLevel: 'all' as const,
        ...(gpu ? { preferredOutputLocation: 'gpu-buffer' as const } : {}),
        // WebNN takes fixed shapes only: without these ORT's WebNN provider runs nothing (ort-webnn.ts).
        ...(cell.backend === 'webnn' ? { freeDimensionOverrides: freeDimensionOverrides(model, cell) } : {}),
      },
    };
    // ORT says which provider it dropped, and why its WebGL backend did not start, only on the console.
    const created = await captureConsole(() => ort.InferenceSession.create(recipe.bytes, recipe.options));
    const said = created.lines.map((l) => l.text);
    if (!created.ok) throw explainCreateFailure(cell, created.error, said);
    const session = created.value;
    const dropped = droppedProvider(said, cell.backend);
    const rest = recipe.options.executionProviders.filter((ep) => ep !== cell.backend);
    if (dropped !== null) {
      await session.release();
      throw new BackendUnavailable(
        `ORT's ${cell.backend} execution provider did not start here, so ORT removed it and created the session on ${rest.join(', ') || 'nothing'} instead: ${dropped}`,
      );
    }
    const missing = model.inputs.filter((i) => !session.inputNames.includes(i.name)).map((i) => i.name);
    if (missing.length) {
      await session.release();
      throw new Error(
        `the ONNX graph has no input named ${missing.join(', ')}; its inputs are ${session.inputNames.join(', ')}`,
      );
    }
    if (gpu) {
      // A webgpu session runs on the device ORT holds. If ORT fell back to another execution provider, it holds none
      // (reading it then fails or gives nothing), and the cell must not be timed as webgpu.
      const device = (await Promise.resolve(ort.env.webgpu.device).catch(() => undefined)) as GPUDevice | undefined;
      if (!device || typeof device.createBuffer !== 'function') {
        await session.release();
        throw new BackendMismatch(
          'asked ORT for webgpu, but after creating the session it holds no WebGPU device: it fell back to another execution provider',
        );
      }
      return new OrtWebGpuSession(loadedNow(), session, model, cell, recipe, device);
    }
    const notes = FOLDED[cell.backend as keyof typeof FOLDED];
    return new OrtCpuBoundSession(loadedNow(), session, model, cell, notes, recipe);
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

/**
 * A session that could not be created, explained where ORT's own words say the backend can't run here: its WebGL
 * backend did not start (ORT's logged reason, and the browser's when it gave one), or the browser refused ORT's
 * WebNN context. Anything else is passed on as it came.
 */
function explainCreateFailure(cell: Cell, error: unknown, said: readonly string[]): unknown {
  if (cell.backend === 'webgl') {
    const why = webGlInitFailure(said);
    if (why !== null)
      return new BackendUnavailable(
        `ORT's WebGL backend did not start (ORT: "${why}"; then "${errorMessage(error)}"); ${refusalText(probeWebGl().withoutCaveat)}`,
        { cause: error },
      );
  }
  // Measured on a Chromium whose WebNN gives contexts (@sparticuz/chromium 147 with --webnn): ORT's WebNN provider
  // reaches WebNN through Emscripten's embind, whose method callers are built with `new Function`, and the lab's
  // strict CSP (src/lib/csp.ts) allows compiling wasm but not eval: only a --webnn run serves this worker with it.
  if (cell.backend === 'webnn' && /Content Security Policy/.test(errorMessage(error)))
    return new BackendUnavailable(
      `ORT's WebNN execution provider builds JavaScript from strings (Emscripten embind's new Function), which this worker's Content Security Policy forbids (no 'unsafe-eval'; the CLI's \`latency-lab run --webnn\` serves the cell worker with it), so its session can't be created here: ${errorMessage(error)}`,
      { cause: error },
    );
  if (cell.backend === 'webnn' && (error as { name?: unknown } | null)?.name === 'NotSupportedError')
    return new BackendUnavailable(`ORT's WebNN execution provider got no WebNN context: ${errorMessage(error)}`, {
      cause: error,
    });
  return error;
}

/** The build this worker loaded, for its sessions. */
function loadedNow(): Loaded {
  if (!loadedBuild) throw new Error('ort adapter: init() was not called');
  return { ort, build: loadedBuild };
}
