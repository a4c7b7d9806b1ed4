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
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { HostTensor } from '../lib/inputs.ts';
import type { ModelInfo } from '../lib/manifest.ts';
import { median } from '../lib/stats.ts';
import type { BackendId, Cell, Dtype, GpuBusy, Proof, StageNote } from '../lib/schema.ts';
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

/** The parts of the GPU backends' classes we use; typed here so the rest of the adapter stays typed. */
interface WebGlBackendLike {
  uploadToGPU(dataId: object): void;
  gpgpu: { gl: WebGL2RenderingContext; createAndWaitForFence(): Promise<void> };
}
interface WebGpuBackendLike {
  uploadToGPU(dataId: object): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  device: GPUDevice;
  adapterInfo?: { vendor?: string; architecture?: string };
}
interface WasmBackendLike {
  wasm?: { HEAPU8?: Uint8Array };
}

/** tfjs has no int64, uint8 or int8 tensors: integer inputs go in as int32 (values are range-checked upstream). */
function toTfData(t: HostTensor): {
  data: Float32Array | Int32Array | Uint8Array;
  dtype: 'float32' | 'int32' | 'bool';
} {
  switch (t.dtype) {
    case 'float32':
      return { data: t.data as Float32Array, dtype: 'float32' };
    case 'int32':
      return { data: t.data as Int32Array, dtype: 'int32' };
    case 'int64':
      return { data: Int32Array.from(t.data as BigInt64Array, (v) => Number(v)), dtype: 'int32' };
    case 'uint8':
    case 'int8':
      return { data: Int32Array.from(t.data as Uint8Array | Int8Array), dtype: 'int32' };
    case 'bool':
      return { data: t.data as Uint8Array, dtype: 'bool' };
    case 'float16':
      throw new Error(`input '${t.name}' is float16, which TensorFlow.js can't take`);
    default: {
      const never: never = t.dtype;
      throw new Error(`unknown dtype ${String(never)}`);
    }
  }
}

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
    if (backend === 'wasm') {
      // Same-origin wasm files (Vite `?url` assets). Without this tfjs fetches index.html, fails, and falls back.
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
    if (backend === 'webgpu') {
      if (!('gpu' in navigator)) throw new BackendUnavailable('navigator.gpu is missing: this browser has no WebGPU');
      await import('@tensorflow/tfjs-backend-webgpu'); // registers the backend; loaded only when a cell needs it
    }
    let ok: boolean;
    try {
      ok = await tf.setBackend(backend);
      await tf.ready();
    } catch (e) {
      throw new BackendUnavailable(
        `tfjs:${backend} failed to initialise: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
    const inUse = tf.getBackend();
    // setBackend() answers false (it doesn't throw) when the backend fails to start: the backend is not available
    // here, which is `unsupported` with the reason, not a failure of the cell.
    if (!ok)
      throw new BackendUnavailable(
        `tfjs:${backend} did not start in this browser (tf.setBackend('${backend}') returned false; tfjs would run '${inUse}' instead)`,
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
    return new TfjsSession(await loadModel(bytes), model, cell);
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

async function loadModel(bytes: ModelBytes): Promise<Model> {
  if (bytes.format !== 'tfjs-layers' && bytes.format !== 'tfjs-graph')
    throw new Error(`tfjs loads TF.js models, not ${bytes.format}`);
  let json: { modelTopology?: unknown; weightsManifest?: { weights: tf.io.WeightsManifestEntry[] }[]; format?: string };
  try {
    json = JSON.parse(new TextDecoder().decode(bytes.entry));
  } catch (e) {
    throw new Error(`model.json is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
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

class TfjsSession implements RuntimeSession<tf.Tensor[], tf.Tensor[]> {
  readonly stageNotes: readonly StageNote[] = [];
  private readonly backend = tf.getBackend();

  constructor(
    private readonly model: Model,
    private readonly info: ModelInfo,
    private readonly cell: Cell,
  ) {}

  /** Waits until the device has finished everything queued so far (no-op on cpu and wasm). */
  private async syncDevice(): Promise<void> {
    if (this.backend === 'webgl') {
      await (tf.backend() as unknown as WebGlBackendLike).gpgpu.createAndWaitForFence();
    } else if (this.backend === 'webgpu') {
      const b = tf.backend() as unknown as WebGpuBackendLike;
      // tfjs batches dispatches in an open command encoder: close the pass, submit, then wait for the queue.
      b.ensureCommandEncoderReady();
      b.endComputePassEncoder();
      b.submitQueue();
      await b.device.queue.onSubmittedWorkDone();
    }
  }

  /** Positions of our inputs in the model's own input order, found once (upload is timed, the lookup isn't). */
  private inputOrder: number[] | null = null;

  private toTensors(inputs: readonly HostTensor[]): tf.Tensor[] {
    if (!this.inputOrder) {
      // Matched by name where the model names its inputs; otherwise the manifest's order.
      const names = 'inputNames' in this.model ? this.model.inputNames : [];
      this.inputOrder =
        names.length === inputs.length
          ? names.map((n, i) => {
              const j = inputs.findIndex((t) => t.name === n || n.startsWith(`${t.name}:`));
              return j >= 0 ? j : i;
            })
          : inputs.map((_, i) => i);
    }
    return this.inputOrder.map((j) => {
      const t = inputs[j]!;
      const { data, dtype } = toTfData(t);
      return tf.tensor(data, t.shape, dtype);
    });
  }

  async upload(inputs: readonly HostTensor[]): Promise<tf.Tensor[]> {
    const tensors = this.toTensors(inputs);
    if (this.backend === 'webgl' || this.backend === 'webgpu') {
      const b = tf.backend() as unknown as WebGlBackendLike | WebGpuBackendLike;
      for (const t of tensors) b.uploadToGPU(t.dataId);
      await this.syncDevice();
    }
    return tensors;
  }

  private run(inputs: tf.Tensor[]): tf.Tensor[] {
    const x = inputs.length === 1 ? inputs[0]! : inputs;
    const y = this.model.predict(x);
    return Array.isArray(y) ? y : [y as tf.Tensor];
  }

  async infer(inputs: tf.Tensor[]): Promise<tf.Tensor[]> {
    const out =
      this.model instanceof tf.GraphModel && !this.syncExecutable() ? await this.runAsync(inputs) : this.run(inputs);
    await this.syncDevice();
    return out;
  }

  /** Graph models with control flow need executeAsync; plain ones run through predict like layers models. */
  private syncExecutable(): boolean {
    const m = this.model as unknown as { executor?: { isControlFlowModel?: boolean; isDynamicShapeModel?: boolean } };
    return !(m.executor?.isControlFlowModel || m.executor?.isDynamicShapeModel);
  }

  private async runAsync(inputs: tf.Tensor[]): Promise<tf.Tensor[]> {
    const y = await (this.model as tf.GraphModel).executeAsync(inputs.length === 1 ? inputs[0]! : inputs);
    return Array.isArray(y) ? y : [y];
  }

  async readback(outputs: tf.Tensor[]): Promise<HostTensor[]> {
    return Promise.all(
      outputs.map(async (t, i) => {
        const spec = this.info.outputs[i];
        const data = (await t.data()) as Float32Array | Int32Array | Uint8Array;
        const dtype: Dtype = spec?.dtype ?? (t.dtype === 'int32' ? 'int32' : t.dtype === 'bool' ? 'bool' : 'float32');
        return { name: spec?.name ?? `output_${i}`, dtype, shape: [...t.shape], data };
      }),
    );
  }

  release(inputs: tf.Tensor[], outputs: tf.Tensor[]): void {
    tf.dispose(inputs);
    tf.dispose(outputs);
  }

  /**
   * GPU busy time from tf.time(): its kernelMs comes from WebGL timer queries (EXT_disjoint_timer_query) or WebGPU
   * timestamp queries, where the platform has them. Taken on extra passes, never during the timed samples.
   */
  async measureGpuBusy(inputs: readonly HostTensor[], passes: number): Promise<GpuBusy | string> {
    if (this.backend !== 'webgl' && this.backend !== 'webgpu') return 'not a GPU backend';
    if (this.model instanceof tf.GraphModel && !this.syncExecutable())
      return 'graph model with control flow: tf.time() cannot time executeAsync';
    const kernel: number[] = [];
    const walls: number[] = [];
    for (let i = 0; i < passes; i++) {
      const x = await this.upload(inputs);
      let out: tf.Tensor[] = [];
      const info = await tf.time(() => {
        out = this.run(x);
      });
      this.release(x, out);
      if (typeof info.kernelMs !== 'number') return `tfjs gives no GPU kernel time here: ${info.kernelMs.error}`;
      kernel.push(info.kernelMs);
      walls.push(info.wallMs);
    }
    const source =
      this.backend === 'webgl'
        ? 'tfjs kernelMs (WebGL EXT_disjoint_timer_query)'
        : 'tfjs kernelMs (WebGPU timestamp-query)';
    return { source, passes: kernel, medianMs: median(kernel), wallMedianMs: median(walls) };
  }

  async proof(): Promise<Proof> {
    const inUse = tf.getBackend();
    if (inUse !== this.cell.backend)
      throw new BackendMismatch(`asked tfjs for '${this.cell.backend}' but it is running '${inUse}'`);
    const wasm = inUse === 'wasm';
    const simd = wasm ? Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) : null;
    const details: Proof['details'] = {
      modelKind: this.model instanceof tf.GraphModel ? 'graph' : 'layers',
      threadsRequested: this.cell.threads,
      wasmBuild: wasm ? (this.cell.threads > 1 ? 'threaded-simd' : 'simd') : null,
      coresOverride: this.cell.coresOverride,
    };
    if (inUse === 'webgl') {
      const gl = (tf.backend() as unknown as WebGlBackendLike).gpgpu.gl;
      const dbg = gl.getExtension('WEBGL_debug_renderer_info');
      details.webglRenderer = String(dbg ? gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
      details.webglVersion = tf.env().getNumber('WEBGL_VERSION');
    }
    if (inUse === 'webgpu') {
      const info = (tf.backend() as unknown as WebGpuBackendLike).adapterInfo;
      details.webgpuVendor = info?.vendor ?? null;
      details.webgpuArchitecture = info?.architecture ?? null;
    }
    return {
      runtime: 'tfjs',
      runtimeVersion: tf.version.tfjs,
      backendRequested: this.cell.backend,
      backendInUse: inUse,
      threads: wasm ? getThreadsCount() : 1,
      simd,
      crossOriginIsolated: self.crossOriginIsolated,
      details,
    };
  }

  async dispose(): Promise<void> {
    this.model.dispose();
  }
}
