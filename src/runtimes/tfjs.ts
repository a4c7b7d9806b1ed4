/**
 * TensorFlow.js adapter: cpu, wasm, webgl and webgpu backends.
 *
 * Stage boundaries:
 * - upload: `tf.tensor()` copies host data into the backend's storage; on webgl/webgpu we also push it to the
 *   device (`uploadToGPU`) and wait for the device, so upload is its own stage instead of hiding in the first kernel.
 * - inference: `predict()` runs the kernels. On cpu and wasm they run synchronously inside the call. On webgl the
 *   draws are queued, so we wait on a fence (`createAndWaitForFence`); on webgpu commands are batched, so we submit
 *   the queue and wait for `onSubmittedWorkDone()`. Inference ends when the device has finished.
 * - readback: `data()` copies each output into a fresh typed array.
 * tfjs silently switches backend when one fails to initialise, so after setBackend we check getBackend().
 */
import { errorMessage } from '../lib/errors.ts';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { ModelInfo } from '../lib/models/manifest.ts';
import type { BackendId, Cell, Proof } from '../lib/schema.ts';
import {
  BackendMismatch,
  BackendUnavailable,
  type BareRunner,
  type ModelBytes,
  type RuntimeAdapter,
  type RuntimeSession,
} from './runtime.ts';

type Model = tf.LayersModel | tf.GraphModel;

const SUPPORTED: readonly BackendId[] = ['cpu', 'wasm', 'webgl', 'webgpu'];

import { TfjsSession, toTfData, type WasmBackendLike } from './tfjs-session.ts';
import { probeWebGl, refusalText } from './webgl-probe.ts';

/** What init() found and set that the proof must carry (tfjs:webgl: whether software WebGL had to be allowed). */
let initFacts: Proof['details'] = {};

export const tfjsAdapter: RuntimeAdapter = {
  id: 'tfjs',
  version: tf.version.tfjs,

  async init(backend: BackendId, cell: Cell): Promise<void> {
    if (!SUPPORTED.includes(backend)) throw new BackendUnavailable(`tfjs has no ${backend} backend`);
    if (cell.threads > 1 && backend !== 'wasm')
      throw new BackendUnavailable(`tfjs:${backend} has no thread setting (threads apply to wasm)`);
    if (cell.threads > 1 && !self.crossOriginIsolated) {
      throw new BackendUnavailable(
        `tfjs:wasm with ${cell.threads} threads needs cross-origin isolation (SharedArrayBuffer); this page is not isolated`,
      );
    }
    if (cell.coresOverride !== null) {
      // tfjs sizes its thread pool from the cores it sees (half of hardwareConcurrency): the recorded override lets
      // a person time what a device with that many cores would run. Set before the wasm module reads it.
      Object.defineProperty(self.navigator, 'hardwareConcurrency', {
        configurable: true,
        get: () => cell.coresOverride,
      });
    }
    if (backend === 'wasm') prepareWasm(cell);
    const webgl = backend === 'webgl' ? prepareWebGl() : null;
    initFacts = webgl?.facts ?? {};
    if (backend === 'webgpu') {
      if (!('gpu' in navigator)) throw new BackendUnavailable('navigator.gpu is missing: this browser has no WebGPU');
      await import('@tensorflow/tfjs-backend-webgpu'); // registers the backend; loaded only when a cell needs it
    }
    let ok: boolean;
    try {
      ok = await tf.setBackend(backend);
      await tf.ready();
    } catch (e) {
      throw new BackendUnavailable(`tfjs:${backend} failed to initialise: ${errorMessage(e)}`, { cause: e });
    }
    const inUse = tf.getBackend();
    // setBackend() answers false (it doesn't throw) when the backend fails to start: the backend is not available
    // here, which is `unsupported` with the reason, not a failure of the cell.
    if (!ok)
      throw new BackendUnavailable(
        `tfjs:${backend} did not start in this browser (tf.setBackend('${backend}') returned false; tfjs would run '${inUse}' instead)${webgl?.whyNot ? `: ${webgl.whyNot}` : ''}`,
      );
    if (inUse !== backend)
      throw new BackendMismatch(`asked tfjs for backend '${backend}' but it is running '${inUse}'`);
    if (backend === 'wasm' && cell.threads > 1 && getThreadsCount() !== cell.threads) {
      // tfjs caps its pool at half the cores it sees: say so rather than time fewer threads under this label.
      const cores = navigator.hardwareConcurrency;
      throw new BackendUnavailable(
        `asked tfjs-wasm for ${cell.threads} threads, it runs ${getThreadsCount()}: tfjs caps threads at half of the ${cores} cores it sees; a core override (CLI --tfjs-cores ${cell.threads * 2}) times what a device with more cores would run`,
      );
    }
  },

  async createSession(model: ModelInfo, bytes: ModelBytes, cell: Cell): Promise<RuntimeSession> {
    return new TfjsSession(await loadModel(bytes), model, cell, initFacts);
  },

  async createBare(_model: ModelInfo, bytes: ModelBytes): Promise<BareRunner> {
    const loaded = await loadModel(bytes);
    return {
      async pass(inputs) {
        const xs = inputs.map((t) => {
          const { data, dtype } = toTfData(t);
          return tf.tensor(data, t.shape, dtype);
        });
        const y = loaded.predict(xs.length === 1 ? xs[0]! : xs);
        const ys = Array.isArray(y) ? y : [y as tf.Tensor];
        for (const t of ys) await t.data();
        tf.dispose(xs);
        tf.dispose(ys);
      },
      dispose: async () => {
        loaded.dispose();
      },
    };
  },

  tensorCount() {
    const m = tf.memory();
    return { tensors: m.numTensors, bytes: m.numBytes };
  },

  wasmHeapBytes() {
    if (tf.getBackend() !== 'wasm') return null;
    return (tf.backend() as unknown as WasmBackendLike).wasm?.HEAPU8?.byteLength ?? null;
  },
};

/** Same-origin wasm files and the thread setting, before setBackend('wasm'). */
function prepareWasm(cell: Cell): void {
  // Vite `?url` assets. Without this tfjs fetches index.html, fails, and falls back.
  setWasmPaths({
    'tfjs-backend-wasm.wasm': wasmPlain,
    'tfjs-backend-wasm-simd.wasm': wasmSimd,
    'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd,
  });
  // One thread: the plain SIMD build (no pthreads). More: the threaded SIMD build, whose pthread workers run the
  // factory's source text; scripts/vite-plugin-tfjs-threads.ts keeps that text unminified (else it hangs).
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', cell.threads > 1);
  if (cell.threads > 1) setThreadsCount(cell.threads);
}

/**
 * tfjs asks for its WebGL context with `failIfMajorPerformanceCaveat: true` unless its SOFTWARE_WEBGL_ENABLED flag is
 * set, and a browser refuses that where WebGL would run on a software or blocklisted renderer. The headless Chromium
 * of @sparticuz/chromium does so for its SwiftShader WebGL2 (which gives ORT's WebGL backend, asking no caveat, a
 * context): tfjs then saw no WebGL and setBackend('webgl') returned false. Both ways are tried first, with the
 * browser's reasons: where only the caveat refuses, tfjs is let take the context ORT would get, and the proof says
 * so; where neither works, the browser's reason goes into the cell's.
 */
function prepareWebGl(): { facts: Proof['details']; whyNot: string | null } {
  const probe = probeWebGl();
  const facts: Proof['details'] = {
    tfjsSoftwareWebgl: false,
    webglCaveatRefusal: probe.withCaveat.ok ? null : (probe.withCaveat.refusal ?? 'no reason given'),
  };
  if (probe.withCaveat.ok) return { facts, whyNot: null };
  if (!probe.withoutCaveat.ok) return { facts, whyNot: refusalText(probe.withoutCaveat) };
  tf.env().set('SOFTWARE_WEBGL_ENABLED', true);
  const proofWarning =
    "the browser refused tfjs's default WebGL context (failIfMajorPerformanceCaveat), so the lab set tfjs's SOFTWARE_WEBGL_ENABLED: an app with tfjs's defaults would not get webgl here";
  return { facts: { ...facts, tfjsSoftwareWebgl: true, proofWarning }, whyNot: null };
}

async function loadModel(bytes: ModelBytes): Promise<Model> {
  if (bytes.format !== 'tfjs-layers' && bytes.format !== 'tfjs-graph')
    throw new Error(`tfjs loads TF.js models, not ${bytes.format}`);
  let json: { modelTopology?: unknown; weightsManifest?: { weights: tf.io.WeightsManifestEntry[] }[]; format?: string };
  try {
    json = JSON.parse(new TextDecoder().decode(bytes.entry));
  } catch (e) {
    throw new Error(`model.json is not valid JSON: ${errorMessage(e)}`, { cause: e });
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new Error('model.json has no modelTopology or weightsManifest: not a TF.js model');
  }
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: concat(bytes.weights),
    format: json.format,
  };
  return bytes.format === 'tfjs-layers'
    ? tf.loadLayersModel(tf.io.fromMemory(artifacts))
    : tf.loadGraphModel(tf.io.fromMemory(artifacts));
}

function concat(buffers: ArrayBuffer[]): ArrayBuffer {
  if (buffers.length === 1) return buffers[0]!;
  const total = buffers.reduce((a, b) => a + b.byteLength, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const b of buffers) {
    out.set(new Uint8Array(b), off);
    off += b.byteLength;
  }
  return out.buffer;
}
