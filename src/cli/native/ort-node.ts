/**
 * The native reference runtime: onnxruntime-node (the same ORT release as onnxruntime-web) on this machine's CPU.
 * It is an optional dependency, loaded only when a run asks for native cells, and only in Node: the page and its
 * workers never import this file.
 *
 * Stage boundaries: run() copies inputs into native memory and returns outputs already in host memory, so upload
 * and readback are not separable natively; both are folded into inference (as for ORT's wasm backend), and the
 * browser tax compares upload + inference + readback on both sides.
 */
import { cpus, release, type as osType, arch } from 'node:os';
import type * as OrtNode from 'onnxruntime-node';
import type { HostTensor } from '../../lib/models/inputs.ts';
import type { ModelInfo } from '../../lib/models/manifest.ts';
import { errorLine } from '../../lib/errors.ts';
import type { BackendId, Cell, Dtype, Proof, StageNote } from '../../lib/schema.ts';
import {
  BackendUnavailable,
  type ModelBytes,
  type RuntimeAdapter,
  type RuntimeSession,
} from '../../runtimes/runtime.ts';

type Ort = typeof OrtNode;
type Feeds = Record<string, OrtNode.Tensor>;
type Outputs = OrtNode.InferenceSession.OnnxValueMapType;

/** The package name; a test may point it elsewhere to check what a missing install looks like. */
export function nativeModuleName(): string {
  return process.env.LATENCY_LAB_NATIVE_MODULE || 'onnxruntime-node';
}

/** Loads onnxruntime-node, or says plainly why it can't (not installed, no binary for this platform). */
export async function loadOrtNode(): Promise<Ort> {
  const name = nativeModuleName();
  try {
    const mod = (await import(name)) as Ort & { default?: Ort };
    const ort = mod.default ?? mod;
    if (typeof ort.InferenceSession?.create !== 'function') throw new Error(`'${name}' has no InferenceSession`);
    return ort;
  } catch (e) {
    throw new BackendUnavailable(
      `native reference cells need onnxruntime-node (an optional dependency), and '${name}' did not load: ${errorLine(e)}. ` +
        `Install it with: ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save onnxruntime-node@1.30.0 (its CPU binary is in the package; without the variable its install script tries to download CUDA files and fails offline; a platform without its binaries can't run native cells)`,
    );
  }
}

const STAGE_NOTES: StageNote[] = [
  {
    stage: 'upload',
    includedIn: 'inference',
    why: 'onnxruntime-node copies inputs into native memory inside run(); wrapping them as tensors is counted in inference',
  },
  {
    stage: 'readback',
    includedIn: 'inference',
    why: 'onnxruntime-node returns outputs already in host memory from run()',
  },
];

/** The machine the native cells ran on, as Node sees it (recorded in every native cell's proof). */
export function nativeMachine(): Record<string, string | number> {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    logicalCores: cpu.length,
    os: `${osType()} ${release()} ${arch()}`,
    node: process.version,
  };
}

class OrtNodeSession implements RuntimeSession<Feeds, Outputs> {
  readonly stageNotes = STAGE_NOTES;
  constructor(
    private readonly ort: Ort,
    private readonly session: OrtNode.InferenceSession,
    private readonly model: ModelInfo,
    private readonly cell: Cell,
  ) {}

  upload(inputs: readonly HostTensor[]): Feeds {
    const feeds: Feeds = {};
    for (const t of inputs) feeds[t.name] = new this.ort.Tensor(t.dtype as OrtNode.Tensor.Type, t.data, t.shape);
    return feeds;
  }

  infer(feeds: Feeds): Promise<Outputs> {
    return this.session.run(feeds);
  }

  readback(outputs: Outputs): HostTensor[] {
    return this.session.outputNames.map((name) => {
      const t = outputs[name];
      if (!t) throw new Error(`onnxruntime-node returned no output '${name}'`);
      const spec = this.model.outputs.find((o) => o.name === name);
      return { name, dtype: spec?.dtype ?? (t.type as Dtype), shape: [...t.dims], data: t.data as HostTensor['data'] };
    });
  }

  release(): void {
    // Native tensors are freed by the garbage collector; there is nothing to dispose by hand.
  }

  async proof(): Promise<Proof> {
    return {
      runtime: 'ort-node',
      runtimeVersion: this.ort.env.versions?.node ?? 'unknown',
      backendRequested: 'cpu',
      // One execution provider is listed, so ORT runs on it or fails to create the session: no silent fallback.
      backendInUse: 'cpu',
      threads: this.cell.threads,
      simd: null,
      crossOriginIsolated: false,
      details: {
        executionProvider: 'cpu',
        intraOpNumThreads: this.cell.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        ...nativeMachine(),
      },
    };
  }

  async measureGpuBusy(): Promise<string> {
    return 'native CPU cell: no GPU';
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

export function ortNodeAdapter(ort: Ort): RuntimeAdapter {
  return {
    id: 'ort-node',
    version: ort.env.versions?.node ?? 'unknown',
    async init(backend: BackendId) {
      if (backend !== 'cpu') throw new BackendUnavailable(`ort-node runs the CPU only (asked for ${backend})`);
    },
    async createSession(model: ModelInfo, bytes: ModelBytes, cell: Cell) {
      if (bytes.format !== 'onnx') throw new BackendUnavailable(`ort-node loads ONNX files, not ${bytes.format}`);
      // The browser cells' settings where they apply: graph optimisation 'all', intra-op threads = the cell's threads.
      const session = await ort.InferenceSession.create(new Uint8Array(bytes.entry), {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        intraOpNumThreads: cell.threads,
        interOpNumThreads: 1,
      });
      return new OrtNodeSession(ort, session, model, cell);
    },
    wasmHeapBytes: () => null,
  };
}
