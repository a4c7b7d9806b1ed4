/**
 * TensorFlow.js adapter (cpu and wasm backends here).
 *
 * Stage boundaries: `tf.tensor()` copies host data into the backend's storage (upload); `predict()` runs the
 * kernels (on cpu and wasm they run synchronously inside the call, so when it returns the work is done);
 * `data()` copies each output back into a fresh typed array (readback).
 * tfjs silently switches backend when one fails to initialise, so after setBackend we check getBackend().
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { HostTensor } from '../lib/inputs.ts';
import type { ModelInfo } from '../lib/manifest.ts';
import type { BackendId, Cell, Dtype, Proof, StageNote } from '../lib/schema.ts';
import { BackendMismatch, BackendUnavailable, type ModelBytes, type RuntimeAdapter, type RuntimeSession } from './runtime.ts';

type Model = tf.LayersModel | tf.GraphModel;

const SUPPORTED: readonly BackendId[] = ['cpu', 'wasm'];

/** tfjs has no int64, uint8 or int8 tensors: integer inputs go in as int32 (values are range-checked upstream). */
function toTfData(t: HostTensor): { data: Float32Array | Int32Array | Uint8Array; dtype: 'float32' | 'int32' | 'bool' } {
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
    if (!SUPPORTED.includes(backend)) {
      throw new BackendUnavailable(`tfjs:${backend} is not wired into the lab yet (tfjs:cpu and tfjs:wasm in this build)`);
    }
    if (cell.threads > 1) {
      throw new BackendUnavailable(`tfjs:${backend} runs single-threaded in this lab (tfjs-wasm's threaded build hangs when minified); ${cell.threads} threads can't run`);
    }
    if (backend === 'wasm') {
      // Same-origin wasm files (Vite `?url` assets). Without this tfjs fetches index.html, fails, and falls back.
      setWasmPaths({
        'tfjs-backend-wasm.wasm': wasmPlain,
        'tfjs-backend-wasm-simd.wasm': wasmSimd,
        'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd,
      });
      // The threaded build hangs in a minified bundle under isolation (its pthread worker is built from a
      // function's source text): keep tfjs wasm single-threaded and say so in the proof.
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    }
    let ok = false;
    try {
      ok = await tf.setBackend(backend);
      await tf.ready();
    } catch (e) {
      throw new BackendUnavailable(`tfjs:${backend} failed to initialise: ${e instanceof Error ? e.message : String(e)}`);
    }
    const inUse = tf.getBackend();
    if (!ok || inUse !== backend) {
      throw new BackendMismatch(`asked tfjs for backend '${backend}' but it is running '${inUse}'`);
    }
  },

  async createSession(model: ModelInfo, bytes: ModelBytes, cell: Cell): Promise<RuntimeSession> {
    if (bytes.format === 'onnx') throw new Error('tfjs loads TF.js models, not ONNX');
    let json: { modelTopology?: unknown; weightsManifest?: { weights: tf.io.WeightsManifestEntry[] }[]; format?: string };
    try {
      json = JSON.parse(new TextDecoder().decode(bytes.entry));
    } catch (e) {
      throw new Error(`model.json is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
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
    const loaded: Model =
      bytes.format === 'tfjs-layers' ? await tf.loadLayersModel(tf.io.fromMemory(artifacts)) : await tf.loadGraphModel(tf.io.fromMemory(artifacts));
    return new TfjsSession(loaded, model, cell);
  },
};

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

  constructor(
    private readonly model: Model,
    private readonly info: ModelInfo,
    private readonly cell: Cell,
  ) {}

  upload(inputs: readonly HostTensor[]): tf.Tensor[] {
    // Feed in the model's own input order, matched by name where the model names its inputs.
    const names = 'inputNames' in this.model ? this.model.inputNames : [];
    const ordered = names.length === inputs.length ? names.map((n, i) => inputs.find((t) => t.name === n || n.startsWith(`${t.name}:`)) ?? inputs[i]!) : inputs;
    return ordered.map((t) => {
      const { data, dtype } = toTfData(t);
      return tf.tensor(data, t.shape, dtype);
    });
  }

  async infer(inputs: tf.Tensor[]): Promise<tf.Tensor[]> {
    const x = inputs.length === 1 ? inputs[0]! : inputs;
    const y = this.model instanceof tf.GraphModel ? await this.model.executeAsync(x) : this.model.predict(x);
    return Array.isArray(y) ? y : [y as tf.Tensor];
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

  async proof(): Promise<Proof> {
    const inUse = tf.getBackend();
    if (inUse !== this.cell.backend) throw new BackendMismatch(`asked tfjs for '${this.cell.backend}' but it is running '${inUse}'`);
    const wasm = inUse === 'wasm';
    const simd = wasm ? Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) : null;
    return {
      runtime: 'tfjs',
      runtimeVersion: tf.version.tfjs,
      backendRequested: this.cell.backend,
      backendInUse: inUse,
      threads: wasm ? getThreadsCount() : 1,
      simd,
      crossOriginIsolated: self.crossOriginIsolated,
      details: {
        modelKind: this.model instanceof tf.GraphModel ? 'graph' : 'layers',
        threadsRequested: this.cell.threads,
        multithreadDisabled: wasm ? 'threaded tfjs-wasm hangs in minified builds; kept single-threaded' : null,
        tensorsAfterLoad: tf.memory().numTensors,
      },
    };
  }

  async dispose(): Promise<void> {
    this.model.dispose();
  }
}
