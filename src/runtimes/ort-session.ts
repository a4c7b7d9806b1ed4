/**
 * ORT sessions on CPU-bound execution providers (wasm, webgl, webnn: CPU tensors in, CPU tensors out), and what
 * every ORT session shares: the loaded build, dtype names, the proof of what ran.
 */
import type * as Ort from 'onnxruntime-web';
import { ORT_BUILD_INFO, type OrtBuild } from '../lib/builds.ts';
import type { HostTensor } from '../lib/models/inputs.ts';
import type { ModelInfo } from '../lib/models/manifest.ts';
import type { Cell, Dtype, GpuBusy, Proof, StageNote } from '../lib/schema.ts';
import { BackendMismatch, type RuntimeSession } from './runtime.ts';

export type OrtModule = typeof Ort;
export type Feeds = Record<string, Ort.Tensor>;
export type Outputs = Ort.InferenceSession.ReturnType;

/** The ORT build this worker loaded (a worker runs one cell, a cell one build), and its module. */
export interface Loaded {
  ort: OrtModule;
  build: OrtBuild;
}

export const ORT_TYPES: Record<Dtype, Ort.Tensor.Type> = {
  float32: 'float32',
  float16: 'float16',
  int32: 'int32',
  int64: 'int64',
  uint8: 'uint8',
  int8: 'int8',
  bool: 'bool',
};

export async function commonProof(loaded: Loaded, cell: Cell, details: Proof['details']): Promise<Proof> {
  const { ort, build } = loaded;
  // ORT writes the thread count it really uses back into numThreads once the wasm module is up.
  const threads = cell.backend === 'wasm' ? Number(ort.env.wasm.numThreads) || 1 : 1;
  if (cell.backend === 'wasm' && threads !== cell.threads) {
    throw new BackendMismatch(`asked ORT for ${cell.threads} wasm threads, it runs ${threads}`);
  }
  return {
    runtime: 'ort',
    runtimeVersion: ort.env.versions.web ?? 'unknown',
    backendRequested: cell.backend,
    backendInUse: cell.backend,
    threads,
    simd: true, // ORT 1.30 ships only SIMD wasm builds
    crossOriginIsolated: self.crossOriginIsolated,
    details: {
      executionProviders: cell.backend,
      threadsRequested: cell.threads,
      build,
      entry: ORT_BUILD_INFO[build].entry,
      ...details,
    },
  };
}

/** wasm, webgl, webnn: CPU tensors in, CPU tensors out; run() does the device work in between. */
export class OrtCpuBoundSession implements RuntimeSession<Feeds, Outputs> {
  constructor(
    protected readonly loaded: Loaded,
    protected readonly session: Ort.InferenceSession,
    protected readonly model: ModelInfo,
    protected readonly cell: Cell,
    readonly stageNotes: readonly StageNote[],
  ) {}

  async upload(inputs: readonly HostTensor[]): Promise<Feeds> {
    const feeds: Feeds = {};
    for (const t of inputs) feeds[t.name] = new this.loaded.ort.Tensor(ORT_TYPES[t.dtype], t.data, t.shape);
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
      const gl = this.loaded.ort.env.webgl.context as WebGL2RenderingContext | undefined;
      const dbg = gl?.getExtension('WEBGL_debug_renderer_info');
      details.webglRenderer = gl
        ? String(dbg ? gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER))
        : null;
    }
    return commonProof(this.loaded, this.cell, details);
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
