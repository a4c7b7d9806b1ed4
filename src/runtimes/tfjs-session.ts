/**
 * A TensorFlow.js session: upload (tensors made and, on GPU backends, pushed to the device), inference (predict, then
 * wait for the device), readback (data()), the proof of what ran, and GPU busy time on extra passes. The stage
 * boundaries are explained in tfjs.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import type { HostTensor } from '../lib/models/inputs.ts';
import type { ModelInfo } from '../lib/models/manifest.ts';
import { median } from '../lib/measure/stats.ts';
import type { Cell, Dtype, GpuBusy, Proof, StageNote } from '../lib/schema.ts';
import { BackendMismatch, type RuntimeSession } from './runtime.ts';
import { fetchedWasm, TFJS_WASM_BUILDS } from './wasm-file.ts';

type Model = tf.LayersModel | tf.GraphModel;

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
export interface WasmBackendLike {
  wasm?: { HEAPU8?: Uint8Array };
}

/** tfjs has no int64, uint8 or int8 tensors: integer inputs go in as int32 (values are range-checked upstream). */
export function toTfData(t: HostTensor): {
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

export class TfjsSession implements RuntimeSession<tf.Tensor[], tf.Tensor[]> {
  readonly stageNotes: readonly StageNote[] = [];
  private readonly backend = tf.getBackend();

  constructor(
    private readonly model: Model,
    private readonly info: ModelInfo,
    private readonly cell: Cell,
    /** Facts the adapter's init() read and set (tfjs:webgl's context probe), carried into the proof. */
    private readonly initFacts: Proof['details'] = {},
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
    // The build tfjs chose (plain, SIMD, threaded SIMD) is the file it fetched: read that, not the settings.
    const file = wasm ? fetchedWasm(TFJS_WASM_BUILDS) : null;
    if (wasm && !file)
      throw new BackendMismatch('tfjs runs its wasm backend, but this worker fetched no tfjs wasm file');
    const details: Proof['details'] = {
      modelKind: this.model instanceof tf.GraphModel ? 'graph' : 'layers',
      threadsRequested: this.cell.threads,
      wasmFile: file?.file ?? null,
      wasmBuild: file ? file.build.name.replace(/^tfjs-backend-wasm-?|\.wasm$/g, '') || 'plain' : null,
      proofSource: `backend: tf.getBackend()${wasm ? '; wasm build and SIMD: the .wasm this worker fetched (Resource Timing); threads: getThreadsCount()' : ''}`,
      coresOverride: this.cell.coresOverride,
      ...this.initFacts,
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
      simd: file ? file.build.simd : null,
      crossOriginIsolated: self.crossOriginIsolated,
      details,
    };
  }

  async dispose(): Promise<void> {
    this.model.dispose();
  }
}
