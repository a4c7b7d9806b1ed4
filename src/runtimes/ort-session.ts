/**
 * ORT sessions on CPU-bound execution providers (wasm, webgl, webnn: CPU tensors in, CPU tensors out), and what
 * every ORT session shares: the loaded build, dtype names, the proof of what ran.
 */
import type * as Ort from 'onnxruntime-web';
import { ORT_BUILD_INFO, type OrtBuild } from '../lib/builds.ts';
import type { HostTensor } from '../lib/models/inputs.ts';
import type { ModelInfo } from '../lib/models/manifest.ts';
import type { Cell, Dtype, GpuBusy, Proof, StageNote } from '../lib/schema.ts';
import { captureConsole } from './console-tap.ts';
import { backendKindOf, formatProviders, kernelsPerProvider, verdictOf } from './ort-proof.ts';
import { webNnProof } from './ort-webnn.ts';
import { BackendMismatch, type RuntimeSession } from './runtime.ts';
import { fetchedWasm, ORT_WASM_BUILDS } from './wasm-file.ts';

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

/** How the session was created: the twin that is profiled for the proof is created the same way. */
export interface SessionRecipe {
  bytes: Uint8Array;
  options: Ort.InferenceSession.SessionOptions;
}

/** What ran, as read from ORT, and where it was read. */
export interface Ran {
  backendInUse: string;
  executedProviders: string;
  proofSource: string;
  warning: string | null;
}

export async function commonProof(
  loaded: Loaded,
  cell: Cell,
  recipe: SessionRecipe,
  ran: Ran,
  details: Proof['details'],
): Promise<Proof> {
  const { ort, build } = loaded;
  // ORT writes the thread count it really uses back into numThreads once the wasm module is up.
  const threads = cell.backend === 'wasm' ? Number(ort.env.wasm.numThreads) || 1 : 1;
  if (cell.backend === 'wasm' && threads !== cell.threads) {
    throw new BackendMismatch(`asked ORT for ${cell.threads} wasm threads, it runs ${threads}`);
  }
  // The wasm this worker fetched is the build that runs (null for the WebGL backend, which runs no wasm).
  const wasm = fetchedWasm(ORT_WASM_BUILDS);
  const requested = (recipe.options.executionProviders ?? []).map((ep) => (typeof ep === 'string' ? ep : ep.name));
  return {
    runtime: 'ort',
    runtimeVersion: ort.env.versions.web ?? 'unknown',
    backendRequested: cell.backend,
    backendInUse: ran.backendInUse,
    threads,
    simd: wasm ? wasm.build.simd : null,
    crossOriginIsolated: self.crossOriginIsolated,
    details: {
      executionProvidersRequested: requested.join(', '),
      executedProviders: ran.executedProviders,
      wasmFile: wasm?.file ?? null,
      proofSource: wasm
        ? `${ran.proofSource}; wasm file and SIMD: the .wasm this worker fetched (Resource Timing)`
        : ran.proofSource,
      proofWarning: ran.warning,
      threadsRequested: cell.threads,
      build,
      entry: ORT_BUILD_INFO[build].entry,
      ...details,
    },
  };
}

/**
 * Which execution providers ran the model's kernels. ORT only reports that from a session created with profiling
 * on, and profiling records an event around every kernel of every run, so the timed session never has it: a second
 * session of the same model, created with the same options plus profiling, runs one pass after sampling, and its
 * profile (console lines, captured quietly) is read. Same options, same graph: ORT places the nodes the same way.
 */
export async function profiledKernels(
  ort: OrtModule,
  recipe: SessionRecipe,
  inputs: readonly HostTensor[],
): Promise<Record<string, number>> {
  const captured = await captureConsole(async () => {
    const twin = await ort.InferenceSession.create(recipe.bytes, { ...recipe.options, enableProfiling: true });
    try {
      const feeds: Feeds = {};
      for (const t of inputs) feeds[t.name] = new ort.Tensor(ORT_TYPES[t.dtype], t.data, t.shape);
      const out = await twin.run(feeds);
      for (const t of Object.values(out)) t.dispose();
      await twin.endProfiling();
    } finally {
      await twin.release();
    }
  }, true);
  if (!captured.ok) throw captured.error;
  return kernelsPerProvider(captured.lines.filter((l) => l.level === 'log').map((l) => l.text));
}

/** What ran on ORT's WebAssembly backend (wasm, webgpu, webnn providers), from the profiled twin. */
export async function ranOnWasmBackend(
  loaded: Loaded,
  recipe: SessionRecipe,
  cell: Cell,
  inputs: readonly HostTensor[],
): Promise<Ran> {
  const counts = await profiledKernels(loaded.ort, recipe, inputs);
  const verdict = verdictOf(counts, cell.backend);
  const executedProviders = formatProviders(counts);
  if (verdict.fellBack)
    throw new BackendMismatch(
      `asked ORT for ${cell.backend}, but its profile shows every kernel ran on ${executedProviders} (${verdict.backendInUse}): it fell back`,
    );
  return {
    backendInUse: verdict.backendInUse ?? 'unverified',
    executedProviders: executedProviders || 'none read',
    proofSource:
      'executed providers: the profile of a second session with the same model and options (profiling on), one pass after sampling',
    warning: verdict.warning,
  };
}

/**
 * What ran on ORT's WebGL backend: onnxjs has no other backend, so a session it holds that has a WebGL context
 * (env.webgl.context, set when that backend starts) ran on WebGL.
 */
export function ranOnWebGl(ort: OrtModule): Ran {
  const gl = ort.env.webgl.context as unknown;
  const isGl =
    (typeof WebGL2RenderingContext !== 'undefined' && gl instanceof WebGL2RenderingContext) ||
    (typeof WebGLRenderingContext !== 'undefined' && gl instanceof WebGLRenderingContext);
  if (!isGl) throw new BackendMismatch('ORT holds the session on its WebGL backend, but it has no WebGL context');
  return {
    backendInUse: 'webgl',
    executedProviders: `onnxjs WebGL backend (${gl instanceof WebGL2RenderingContext ? 'WebGL2' : 'WebGL1'} context)`,
    proofSource: "the session's ORT backend (its handler) and the WebGL context ORT holds (env.webgl.context)",
    warning: null,
  };
}

/** Reads what ran for any ORT session: by the backend that holds it (said, not guessed, when it can't be told). */
export async function readWhatRan(
  loaded: Loaded,
  session: Ort.InferenceSession,
  recipe: SessionRecipe,
  cell: Cell,
  inputs: readonly HostTensor[],
): Promise<Ran> {
  const kind = backendKindOf(session);
  if (kind === 'onnxjs') return ranOnWebGl(loaded.ort);
  if (kind === 'wasm') return ranOnWasmBackend(loaded, recipe, cell, inputs);
  return {
    backendInUse: 'unverified',
    executedProviders: 'not read',
    proofSource: "ORT's session handler had neither known shape (ORT's internals changed?)",
    warning: 'which ORT backend ran could not be read: backendInUse says unverified',
  };
}

/** wasm, webgl, webnn: CPU tensors in, CPU tensors out; run() does the device work in between. */
export class OrtCpuBoundSession implements RuntimeSession<Feeds, Outputs> {
  constructor(
    readonly loaded: Loaded,
    readonly session: Ort.InferenceSession,
    protected readonly model: ModelInfo,
    protected readonly cell: Cell,
    readonly stageNotes: readonly StageNote[],
    protected readonly recipe: SessionRecipe,
  ) {
    // Looked up once, not per output per pass: readback is a timed stage.
    this.outputDtypes = new Map(model.outputs.map((o) => [o.name, o.dtype]));
  }

  private readonly outputDtypes: ReadonlyMap<string, Dtype>;

  upload(inputs: readonly HostTensor[]): Feeds | Promise<Feeds> {
    const feeds: Feeds = {};
    for (const t of inputs) feeds[t.name] = new this.loaded.ort.Tensor(ORT_TYPES[t.dtype], t.data, t.shape);
    return feeds;
  }

  infer(feeds: Feeds): Promise<Outputs> {
    if (this.cell.backend === 'webgl') primeWebGlInputCheck(this.session, feeds);
    return this.session.run(feeds);
  }

  readback(outputs: Outputs): HostTensor[] | Promise<HostTensor[]> {
    const tensors = this.session.outputNames.map((name) => {
      const t = outputs[name];
      if (!t) throw new Error(`ORT returned no output '${name}'`);
      return { name, t };
    });
    const host = (name: string, t: Ort.Tensor, data: unknown): HostTensor => ({
      name,
      dtype: this.outputDtypes.get(name) ?? (t.type as Dtype),
      shape: [...t.dims],
      data: data as HostTensor['data'],
    });
    // CPU outputs have .data now (no await: an app reads them as run() resolves); GPU-resident ones are downloaded.
    if (tensors.every(({ t }) => t.location === 'cpu')) return tensors.map(({ name, t }) => host(name, t, t.data));
    return Promise.all(
      tensors.map(async ({ name, t }) => host(name, t, t.location === 'cpu' ? t.data : await t.getData())),
    );
  }

  release(feeds: Feeds, outputs: Outputs): void {
    for (const t of Object.values(feeds)) t.dispose();
    for (const t of Object.values(outputs)) t.dispose();
  }

  async proof(inputs: readonly HostTensor[]): Promise<Proof> {
    let ran = await readWhatRan(this.loaded, this.session, this.recipe, this.cell, inputs);
    let details: Proof['details'] = {};
    if (this.cell.backend === 'webnn') {
      const webnn = await webNnProof();
      details = webnn.details;
      ran = { ...ran, warning: [ran.warning, webnn.warning].filter((w) => w !== null).join('; ') || null };
    }
    if (this.cell.backend === 'webgl') {
      const gl = this.loaded.ort.env.webgl.context as WebGL2RenderingContext | undefined;
      const dbg = gl?.getExtension('WEBGL_debug_renderer_info');
      details.webglRenderer = gl
        ? String(dbg ? gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER))
        : null;
    }
    return commonProof(this.loaded, this.cell, this.recipe, ran, details);
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
