/**
 * ONNX Runtime Web adapter.
 *
 * Stage boundaries on the wasm backend: `new ort.Tensor` only wraps the host array; the copy into the wasm heap
 * happens inside `session.run()`, and run() returns outputs already copied out of the heap into JS memory. So
 * upload and readback can't be separated from inference: both are folded into it (stageNotes say so).
 * The .wasm file is found through `new URL(..., import.meta.url)` inside the bundled entry, which Vite rewrites
 * to a same-origin asset: nothing is fetched from another origin.
 */
import * as ort from 'onnxruntime-web';
import type { HostTensor } from '../lib/inputs.ts';
import type { ModelInfo } from '../lib/manifest.ts';
import type { BackendId, Cell, Dtype, Proof, StageNote } from '../lib/schema.ts';
import { BackendMismatch, BackendUnavailable, type ModelBytes, type RuntimeAdapter, type RuntimeSession } from './runtime.ts';

type Feeds = Record<string, ort.Tensor>;
type Outputs = ort.InferenceSession.ReturnType;

const WASM_STAGE_NOTES: StageNote[] = [
  { stage: 'upload', includedIn: 'inference', why: 'ORT wasm copies inputs into the wasm heap inside run(); wrapping them as tensors is counted in inference' },
  { stage: 'readback', includedIn: 'inference', why: 'ORT wasm returns outputs already copied out of the wasm heap by run()' },
];

/** ORT tensor types by our dtype; the typed arrays from src/lib/inputs.ts match what ORT expects for each. */
const ORT_TYPES: Record<Dtype, ort.Tensor.Type> = {
  float32: 'float32',
  float16: 'float16',
  int32: 'int32',
  int64: 'int64',
  uint8: 'uint8',
  int8: 'int8',
  bool: 'bool',
};

let initialisedBackend: BackendId | null = null;

export const ortAdapter: RuntimeAdapter = {
  id: 'ort',
  version: ort.env.versions.web ?? 'unknown',

  async init(backend: BackendId, cell: Cell): Promise<void> {
    if (backend !== 'wasm') {
      throw new BackendUnavailable(`ort:${backend} is not wired into the lab yet (only ort:wasm in this build)`);
    }
    // Threads need SharedArrayBuffer, which needs cross-origin isolation; without it ORT silently uses 1,
    // so say so instead of timing a 1-thread run under a 2-thread label.
    if (cell.threads > 1 && !self.crossOriginIsolated) {
      throw new BackendUnavailable(`ort:wasm with ${cell.threads} threads needs cross-origin isolation (SharedArrayBuffer); this page is not isolated`);
    }
    ort.env.wasm.numThreads = cell.threads;
    ort.env.wasm.proxy = false; // we are already in a dedicated worker
    ort.env.logLevel = 'error';
    initialisedBackend = backend;
  },

  async createSession(model: ModelInfo, bytes: ModelBytes, cell: Cell): Promise<RuntimeSession> {
    if (bytes.format !== 'onnx') throw new Error(`ort loads ONNX files, not ${bytes.format}`);
    if (initialisedBackend !== cell.backend) throw new Error('ort adapter: init() was not called for this backend');
    const session = await ort.InferenceSession.create(new Uint8Array(bytes.entry), {
      executionProviders: [cell.backend],
      graphOptimizationLevel: 'all',
    });
    const missing = model.inputs.filter((i) => !session.inputNames.includes(i.name)).map((i) => i.name);
    if (missing.length) {
      await session.release();
      throw new Error(`the ONNX graph has no input named ${missing.join(', ')}; its inputs are ${session.inputNames.join(', ')}`);
    }
    return new OrtSession(session, model, cell);
  },
};

class OrtSession implements RuntimeSession<Feeds, Outputs> {
  readonly stageNotes = WASM_STAGE_NOTES;

  constructor(
    private readonly session: ort.InferenceSession,
    private readonly model: ModelInfo,
    private readonly cell: Cell,
  ) {}

  upload(inputs: readonly HostTensor[]): Feeds {
    const feeds: Feeds = {};
    for (const t of inputs) feeds[t.name] = new ort.Tensor(ORT_TYPES[t.dtype], t.data, t.shape);
    return feeds;
  }

  infer(feeds: Feeds): Promise<Outputs> {
    // On wasm, run() executes synchronously inside the wasm module and resolves after outputs are copied out.
    return this.session.run(feeds);
  }

  async readback(outputs: Outputs): Promise<HostTensor[]> {
    return this.session.outputNames.map((name) => {
      const t = outputs[name];
      if (!t) throw new Error(`ORT returned no output '${name}'`);
      const spec = this.model.outputs.find((o) => o.name === name);
      return { name, dtype: spec?.dtype ?? (t.type as Dtype), shape: [...t.dims], data: t.data as HostTensor['data'] };
    });
  }

  release(feeds: Feeds, outputs: Outputs): void {
    for (const t of Object.values(feeds)) t.dispose();
    for (const t of Object.values(outputs)) t.dispose();
  }

  async proof(): Promise<Proof> {
    // ORT reads numThreads back as the count it actually uses once the wasm module is up (1 when not isolated).
    const threads = Number(ort.env.wasm.numThreads) || 1;
    if (this.cell.backend !== 'wasm') throw new BackendMismatch(`asked for ${this.cell.backend}`);
    return {
      runtime: 'ort',
      runtimeVersion: ortAdapter.version,
      backendRequested: this.cell.backend,
      backendInUse: 'wasm',
      threads,
      simd: true, // ORT 1.30 ships only SIMD wasm builds
      crossOriginIsolated: self.crossOriginIsolated,
      details: { executionProviders: 'wasm', threadsRequested: this.cell.threads, wasmBuild: 'ort-wasm-simd-threaded' },
    };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
