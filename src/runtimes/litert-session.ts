/**
 * A LiteRT.js session. Stage boundaries, as LiteRT separates them:
 * - upload: `new Tensor(typedArray, shape)` copies the host data into a buffer in LiteRT's wasm heap; where the
 *   compiled model takes an input only in another buffer type (WebGPU), the tensor is moved there (`moveTo`, as
 *   LiteRT's own run() would do inside the call) and upload ends when the device queue has done the copy.
 * - inference: `run()`; on webgpu it ends after `device.queue.onSubmittedWorkDone()`, since run() may resolve once
 *   the work is queued.
 * - readback: outputs in wasm memory are copied out (`toTypedArray`, a slice of the heap); outputs on the GPU are
 *   moved to wasm first (`moveTo('wasm')`).
 * LiteRT manages memory by hand: every tensor is deleted in release() (outside the timed stages).
 */
import { Tensor, type CompiledModel, type LiteRt, type TensorDetails } from '@litertjs/core';
import { errorMessage } from '../lib/errors.ts';
import { modelInputs, type ModelInfo } from '../lib/models/manifest.ts';
import type { HostTensor } from '../lib/models/inputs.ts';
import type { Cell, Dtype, GpuBusy, Proof, StageNote } from '../lib/schema.ts';
import { captureConsole } from './console-tap.ts';
import {
  LITERT_BUILD_FILES,
  type LiteRtBuild,
  type LiteRtFeatures,
  liteRtWarnings,
  readLiteRtRan,
} from './litert-proof.ts';
import { BackendMismatch, BackendUnavailable, type ModelBytes, type RuntimeSession } from './runtime.ts';
import { fetchedWasm, LITERT_WASM_BUILDS } from './wasm-file.ts';

type LiteRtDtype = TensorDetails['dtype'];
type LiteRtArray = Float32Array<ArrayBuffer> | Int32Array<ArrayBuffer> | Uint8Array<ArrayBuffer>;

/** What the adapter's init() chose and found, for the session's proof. */
export interface LiteRtLoaded {
  liteRt: LiteRt;
  build: LiteRtBuild;
  buildWhy: string;
  features: LiteRtFeatures;
  /** What LiteRT printed while loading (its default environment warns when it gets no WebGPU device). */
  loadSaid: string[];
}

const HOST_MEMORY = 1; // TensorBufferType.HOST_MEMORY

/** Host data as the typed array a LiteRT input of `want` takes (int64 ids narrowed to int32 where the model says). */
export function toLiteRtData(t: HostTensor, want: LiteRtDtype): LiteRtArray {
  if (t.dtype === want) return t.data as LiteRtArray;
  if (want === 'int32' && t.dtype === 'int64') return Int32Array.from(t.data as BigInt64Array, (v) => Number(v));
  if (want === 'int32' && (t.dtype === 'int8' || t.dtype === 'uint8')) return Int32Array.from(t.data as Uint8Array);
  throw new Error(`input '${t.name}' is ${t.dtype}; the .tflite input takes ${want}`);
}

/** Why a cell's inputs don't fit the compiled model (LiteRT.js runs the shapes the file fixes), or null. */
export function shapeMismatch(details: readonly TensorDetails[], inputs: readonly HostTensor[]): string | null {
  if (details.length !== inputs.length)
    return `the .tflite file has ${details.length} inputs, the model's manifest ${inputs.length}`;
  for (const [i, d] of details.entries()) {
    const t = inputs[i]!;
    const want = [...d.shape];
    if (want.length !== t.shape.length || want.some((n, k) => n !== t.shape[k])) {
      // LiteRT.js 2.5.3 checks every input against the compiled shape and has no resize: a -1 there runs nothing.
      if (want.includes(-1))
        return `input '${d.name}' of the .tflite file has shape [${want.join(', ')}]: LiteRT.js runs only fixed shapes (a free dim belongs in shape_signature, with a size in shape)`;
      return `input '${d.name}' of the .tflite file is [${want.join(', ')}] and the cell feeds [${t.shape.join(', ')}]: LiteRT.js runs the shapes the file fixes (it has no resize), so only that batch and size run`;
    }
  }
  return null;
}

/** Our inputs in the compiled model's order: by name where the names match, else in the manifest's order. */
function inputOrder(details: readonly TensorDetails[], inputs: readonly { name: string }[]): number[] {
  const byName = details.map((d) => inputs.findIndex((t) => t.name === d.name));
  return byName.every((j) => j >= 0) ? byName : details.map((_, i) => i);
}

export class LiteRtSession implements RuntimeSession<Tensor[], Tensor[]> {
  readonly stageNotes: readonly StageNote[] = [];
  private readonly details: readonly TensorDetails[];
  private readonly order: number[];
  private readonly device: GPUDevice | null;
  private outputsOn: string[] = [];
  /** Per output: whether it comes back in wasm memory, and its shape (both fixed by the compiled model). */
  private outputInHost: boolean[] | null = null;
  private readonly outputShapes: number[][] = [];
  private inputsOn: string[] = [];
  /** Per input, the buffer type to move it to before run(), or null: fixed by the compiled model, so found once. */
  private readonly moves: (number | null)[];

  private constructor(
    private readonly loaded: LiteRtLoaded,
    private readonly compiled: CompiledModel,
    private readonly model: ModelInfo,
    private readonly cell: Cell,
    private readonly compileSaid: string[],
    order: number[],
  ) {
    this.details = compiled.getInputDetails();
    this.order = order;
    // Worked out here, not in upload(): upload is a timed stage.
    this.moves = this.details.map((d) => (d.supportedBufferTypes.has(HOST_MEMORY) ? null : firstOf(d)));
    this.device = compiled.options.accelerator === 'webgpu' ? compiled.options.environment.webGpuDevice : null;
  }

  static async create(loaded: LiteRtLoaded, model: ModelInfo, bytes: ModelBytes, cell: Cell): Promise<LiteRtSession> {
    const options = {
      accelerator: cell.backend as 'wasm' | 'webgpu',
      ...(cell.backend === 'wasm' ? { cpuOptions: { numThreads: cell.threads } } : {}),
    };
    // LiteRT says it fell back (or partitioned the model) only on the console.
    const got = await captureConsole(() => loaded.liteRt.loadAndCompile(new Uint8Array(bytes.entry), options));
    const said = liteRtWarnings(got.lines.map((l) => l.text));
    if (!got.ok) throw new Error(`LiteRT.js could not compile the model: ${errorMessage(got.error)}`);
    const compiled = got.value;
    const details = compiled.getInputDetails();
    // The shapes this cell feeds, known before any pass: a batch the file doesn't fix is unsupported, not a failure.
    const inputs = modelInputs(model, cell.batch, cell.inputSeed, cell.inputOverrides);
    const order = inputOrder(details, inputs);
    const mismatch = shapeMismatch(
      details,
      order.map((j) => inputs[j]!),
    );
    if (mismatch) {
      compiled.delete();
      throw new BackendUnavailable(mismatch);
    }
    return new LiteRtSession(loaded, compiled, model, cell, said, order);
  }

  upload(inputs: readonly HostTensor[]): Tensor[] | Promise<Tensor[]> {
    const host = this.details.map((d, i) => {
      const t = inputs[this.order[i]!]!;
      return new Tensor(toLiteRtData(t, d.dtype), t.shape);
    });
    if (this.moves.every((m) => m === null)) return host;
    return this.moveInputs(host, this.moves);
  }

  private async moveInputs(host: Tensor[], moves: readonly (number | null)[]): Promise<Tensor[]> {
    const out = await Promise.all(host.map((t, i) => (moves[i] === null ? t : t.moveTo(moves[i] as 20))));
    if (this.device) await this.device.queue.onSubmittedWorkDone();
    return out;
  }

  async infer(inputs: Tensor[]): Promise<Tensor[]> {
    if (!this.inputsOn.length) this.inputsOn = inputs.map((t) => t.accelerator);
    const out = await this.compiled.run(inputs);
    if (this.device) await this.device.queue.onSubmittedWorkDone();
    return out;
  }

  readback(outputs: Tensor[]): HostTensor[] | Promise<HostTensor[]> {
    if (!this.outputsOn.length) this.outputsOn = outputs.map((t) => t.accelerator);
    // Where each output lives and its shape are the compiled model's, the same every pass: read once, not in the
    // timed readback of every pass.
    const inHost = (this.outputInHost ??= outputs.map((t) => t.getBufferType() === HOST_MEMORY));
    if (inHost.every(Boolean)) return outputs.map((t, i) => this.host(t, i));
    return Promise.all(
      outputs.map(async (t, i) => {
        if (inHost[i]) return this.host(t, i);
        const moved = await t.moveTo('wasm');
        outputs[i] = moved; // moveTo deleted the GPU tensor; release() frees the moved one
        return this.host(moved, i);
      }),
    );
  }

  private host(t: Tensor, i: number): HostTensor {
    const spec = this.model.outputs[i];
    const data = t.toTypedArray();
    const dtype: Dtype = spec?.dtype ?? (t.type.dtype as Dtype);
    const shape = (this.outputShapes[i] ??= [...t.type.layout.dimensions]);
    return { name: spec?.name ?? `output_${i}`, dtype, shape: [...shape], data };
  }

  release(inputs: Tensor[], outputs: Tensor[]): void {
    for (const t of [...inputs, ...outputs]) if (!t.deleted) t.delete();
  }

  async proof(): Promise<Proof> {
    const { loaded, compiled, cell } = this;
    const webgpu = compiled.options.accelerator === 'webgpu';
    const ran = readLiteRtRan({
      requested: cell.backend,
      compiledFor: compiled.options.accelerator,
      fullyAccelerated: webgpu ? compiled.isFullyAccelerated : null,
      outputsOn: this.outputsOn,
      warnings: this.compileSaid,
    });
    if (ran.fellBack) throw new BackendMismatch(ran.fellBack);
    const wasm = fetchedWasm(LITERT_WASM_BUILDS);
    const expected = LITERT_BUILD_FILES[loaded.build];
    if (!wasm || !wasm.build.name.startsWith(expected))
      throw new BackendMismatch(
        `chose LiteRT's ${loaded.build} build, but this worker fetched ${wasm?.file ?? 'no LiteRT wasm'}`,
      );
    // LiteRT's thread pool (getThreadCount, 1 in the unthreaded builds) and the XNNPack threads the model was given.
    const pool = loaded.liteRt.liteRtWasm.getThreadCount();
    const given = compiled.options.cpuOptions.numThreads ?? 1;
    const threads = cell.backend === 'wasm' ? Math.min(given, pool) : 1;
    if (cell.backend === 'wasm' && threads !== cell.threads)
      throw new BackendMismatch(
        `asked LiteRT.js for ${cell.threads} threads; its pool has ${pool} and the model was compiled with ${given}`,
      );
    const adapter = (this.device as (GPUDevice & { adapterInfo?: GPUAdapterInfo }) | null)?.adapterInfo;
    return {
      runtime: 'litert',
      runtimeVersion: litertVersion(),
      backendRequested: cell.backend,
      backendInUse: ran.backendInUse,
      threads,
      simd: loaded.build === 'compat' ? null : true,
      crossOriginIsolated: self.crossOriginIsolated,
      details: {
        build: loaded.build,
        buildWhy: loaded.buildWhy,
        wasmFile: wasm.file,
        relaxedSimd: loaded.features.relaxedSimd,
        jspi: loaded.features.jspi,
        compiledFor: compiled.options.accelerator,
        fullyAccelerated: webgpu ? compiled.isFullyAccelerated : null,
        inputsOn: this.inputsOn.join(', '),
        outputsOn: this.outputsOn.join(', '),
        threadPool: pool,
        threadsRequested: cell.threads,
        liteRtSaid: [...loaded.loadSaid, ...this.compileSaid].join(' | ') || null,
        webgpuVendor: adapter?.vendor ?? null,
        webgpuArchitecture: adapter?.architecture ?? null,
        executed: ran.summary,
        proofWarning: ran.warning,
        proofSource:
          "accelerator: the compiled model's options and isFullyAccelerated, its outputs' buffers, and LiteRT's [LiteRT] console warnings at compile; build: the .wasm this worker fetched (Resource Timing); threads: LiteRT's getThreadCount() and the compile options",
      },
    };
  }

  async measureGpuBusy(): Promise<GpuBusy | string> {
    return this.device ? 'LiteRT.js exposes no GPU timer queries' : 'not a GPU backend';
  }

  async dispose(): Promise<void> {
    if (!this.compiled.deleted) this.compiled.delete();
  }
}

function firstOf(d: TensorDetails): number {
  return d.supportedBufferTypes.values().next().value as number;
}

/** The package's version, from package.json at build time (vite.config.ts defines __LIB_VERSIONS__). */
export function litertVersion(): string {
  return typeof __LIB_VERSIONS__ === 'object' ? (__LIB_VERSIONS__['@litertjs/core'] ?? 'unknown') : 'unknown';
}
