/**
 * ORT on WebGPU: inputs written into GPU buffers we own (upload ends when the queue has finished the copy), outputs
 * left on the GPU, inference ended by `device.queue.onSubmittedWorkDone()`, readback by `getData()`; GPU busy time
 * from ORT's profiling on extra passes.
 */
import type * as Ort from 'onnxruntime-web';
import type { HostTensor } from '../lib/models/inputs.ts';
import type { ModelInfo } from '../lib/models/manifest.ts';
import type { Cell, Dtype, GpuBusy, Proof, StageNote } from '../lib/schema.ts';
import { median } from '../lib/measure/stats.ts';
import {
  commonProof,
  ORT_TYPES,
  OrtCpuBoundSession,
  readWhatRan,
  type Feeds,
  type Loaded,
  type Outputs,
  type SessionRecipe,
} from './ort-session.ts';

/** WebGPU buffers must be sized in multiples of 4 bytes; 16 keeps every dtype aligned. */
const align16 = (n: number) => Math.ceil(Math.max(n, 4) / 16) * 16;
const GPU_BUFFER_TYPES = new Set<Dtype>(['float32', 'float16', 'int32', 'int64', 'uint8', 'bool']);

/**
 * Inputs of a dtype ORT can't take as a GPU buffer (int8, int16, uint16, uint32, float64, ...) go in as CPU tensors
 * and run() uploads them: their upload can't be timed apart, so the whole upload stage is counted in inference, and
 * the note says which inputs made it so.
 */
export function cpuUploadNotes(model: Pick<ModelInfo, 'inputs'>): StageNote[] {
  const cpu = model.inputs.filter((i) => !GPU_BUFFER_TYPES.has(i.dtype));
  if (!cpu.length) return [];
  const names = cpu.map((i) => `'${i.name}' (${i.dtype})`).join(', ');
  return [
    {
      stage: 'upload',
      includedIn: 'inference',
      why: `ORT webgpu takes ${names} only as CPU tensors and uploads ${cpu.length > 1 ? 'them' : 'it'} inside run()`,
    },
  ];
}

export class OrtWebGpuSession extends OrtCpuBoundSession {
  private lost: string | null = null;

  constructor(
    loaded: Loaded,
    session: Ort.InferenceSession,
    model: ModelInfo,
    cell: Cell,
    recipe: SessionRecipe,
    /** The device ORT runs this session on (read from ORT after creation; the GPU-sync benchmark drains it too). */
    readonly device: GPUDevice,
  ) {
    super(loaded, session, model, cell, cpuUploadNotes(model), recipe);
    void device.lost.then((info) => {
      this.lost = `WebGPU device lost${info.reason ? ` (${info.reason})` : ''}: ${info.message || 'no message'}`;
    });
  }

  private check(): void {
    if (this.lost) throw new Error(this.lost);
  }

  loseDevice(): void {
    this.device.destroy();
  }

  override async upload(inputs: readonly HostTensor[]): Promise<Feeds> {
    this.check();
    const feeds: Feeds = {};
    for (const t of inputs) {
      if (!GPU_BUFFER_TYPES.has(t.dtype)) {
        // ORT can't wrap this dtype as a GPU buffer: it goes in as a CPU tensor and run() uploads it.
        feeds[t.name] = new this.loaded.ort.Tensor(ORT_TYPES[t.dtype], t.data, t.shape);
        continue;
      }
      const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      const buffer = this.device.createBuffer({
        size: align16(bytes.byteLength),
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      this.device.queue.writeBuffer(
        buffer,
        0,
        (bytes.byteLength % 4 === 0 ? bytes : padTo4(bytes)) as Uint8Array<ArrayBuffer>,
      );
      feeds[t.name] = this.loaded.ort.Tensor.fromGpuBuffer(buffer, {
        dataType: ORT_TYPES[t.dtype] as Ort.Tensor.GpuBufferDataTypes,
        dims: t.shape,
        dispose: () => buffer.destroy(),
      });
    }
    // The upload ends when the copies have landed on the device, not when they were queued.
    await this.device.queue.onSubmittedWorkDone();
    return feeds;
  }

  override async infer(feeds: Feeds): Promise<Outputs> {
    this.check();
    const out = await this.session.run(feeds);
    // With GPU-resident outputs run() can resolve while kernels are still queued: drain the queue so the
    // inference stage holds the device's work, not only its dispatch.
    await this.device.queue.onSubmittedWorkDone();
    this.check();
    return out;
  }

  override async proof(inputs: readonly HostTensor[]): Promise<Proof> {
    const ran = await readWhatRan(this.loaded, this.session, this.recipe, this.cell, inputs);
    type Info = { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
    const adapter = this.loaded.ort.env.webgpu.adapter as unknown as { info?: Info } | undefined;
    // The JSEP builds expose the adapter; the native WebGPU EP (/webgpu) only the device, which carries its info.
    const info = adapter?.info ?? (this.device as unknown as { adapterInfo?: Info }).adapterInfo ?? null;
    return commonProof(this.loaded, this.cell, this.recipe, ran, {
      webgpuVendor: info?.vendor ?? null,
      webgpuArchitecture: info?.architecture ?? null,
      webgpuDescription: info?.description ?? null,
      isFallbackAdapter: info?.isFallbackAdapter ?? null,
      outputLocation: 'gpu-buffer',
    });
  }

  /**
   * GPU busy time from ORT's WebGPU profiling (timestamp queries around each kernel). Queries cost time, so they
   * run only on these extra passes, never during the timed samples. ORT re-reads the mode at every run start.
   */
  override async measureGpuBusy(inputs: readonly HostTensor[], passes: number): Promise<GpuBusy | string> {
    if (this.loaded.build === 'webgpu')
      return "ORT's native WebGPU EP (the /webgpu build) reports no per-kernel timestamps to JS; the default or /all build (JSEP) does";
    // ORT asks for the inside-passes variant where the adapter has it, else plain timestamp-query.
    if (
      !this.device.features.has('timestamp-query') &&
      !this.device.features.has('chromium-experimental-timestamp-query-inside-passes')
    ) {
      return 'the WebGPU device has no timestamp-query feature';
    }
    const perPass: number[] = [];
    const walls: number[] = [];
    let kernels: { start: number; end: number }[] = [];
    this.loaded.ort.env.webgpu.profiling = {
      mode: 'default',
      ondata: (d) => kernels.push({ start: d.startTime, end: d.endTime }),
    };
    try {
      for (let i = 0; i < passes; i++) {
        kernels = [];
        const feeds = await this.upload(inputs);
        const t0 = performance.now();
        const out = await this.infer(feeds);
        walls.push(performance.now() - t0);
        this.release(feeds, out);
        await settle(() => kernels.length);
        // Timestamps are in nanoseconds. Kernel times are summed (busy time),
        // not the span, so idle gaps between dispatches count as overhead, not GPU work.
        if (!kernels.length) return 'ORT reported no kernel timestamps';
        perPass.push(kernels.reduce((s, k) => s + (k.end - k.start), 0) / 1e6);
      }
    } finally {
      this.loaded.ort.env.webgpu.profiling = { mode: 'off' };
    }
    return {
      source: 'webgpu timestamp-query (ORT profiling, per kernel, summed)',
      passes: perPass,
      medianMs: median(perPass),
      wallMedianMs: median(walls),
    };
  }
}

/** Waits until a count stops growing (profiling data arrives asynchronously after the queue drains). */
async function settle(count: () => number, quietMs = 30, maxMs = 2000): Promise<void> {
  const start = performance.now();
  let last = -1;
  while (performance.now() - start < maxMs) {
    const now = count();
    if (now === last && now > 0) return;
    last = now;
    await new Promise((r) => setTimeout(r, quietMs));
  }
}

function padTo4(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
  out.set(bytes);
  return out;
}
