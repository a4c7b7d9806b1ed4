/**
 * A run's model variants on the page side: each model's fp16/int8 file made once (in the variant worker; or given
 * by the CLI, which makes them in Node and serves them), before any cell of it starts, and each cell's model bytes
 * (raw, and gzip-compressed when the run has variants). Cells of a variant load the made file as their ONNX file.
 */
import * as Comlink from 'comlink';
import type { ModelFile, ModelInfo } from '../lib/models/manifest.ts';
import type { Cell, ModelBytes, Plan } from '../lib/schema.ts';
import {
  variantKey,
  variantPath,
  variantUnsupported,
  withVariantFile,
  type VariantFile,
  type VariantFiles,
} from '../lib/models/variants/variant-file.ts';
import type { VariantWorkerApi } from '../worker/variant-worker.ts';
import type { RunOptions } from './cell-start.ts';

type Made = VariantFile;

export class CellVariants {
  private readonly made = new Map<string, Promise<Made>>();
  private readonly gzip = new Map<string, Promise<number | null>>();
  private readonly bytesByPath = new Map<string, ArrayBuffer>();
  private worker: { api: Comlink.Remote<VariantWorkerApi>; worker: Worker } | null = null;
  /** Whether the plan asks for any variant but fp32 (then fp32 cells' compressed size is measured too). */
  readonly active: boolean;

  constructor(
    plan: Plan,
    private readonly modelsBaseUrl: string,
    private readonly files?: ReadonlyMap<string, ArrayBuffer>,
    private readonly given?: VariantFiles,
    private readonly onMade?: RunOptions['onVariantMade'],
  ) {
    this.active = plan.cells.some((c) => c.variant !== 'fp32');
  }

  /** The model a cell loads (the variant's file in place of the ONNX one), or why the cell can't run. */
  async modelFor(model: ModelInfo, cell: Cell): Promise<{ model: ModelInfo } | { reason: string }> {
    if (cell.variant === 'fp32') return { model };
    const why = variantUnsupported(model, cell.format, cell.variant);
    if (why) return { reason: why };
    const key = variantKey(model.id, cell.variant);
    let made = this.made.get(key);
    if (!made) this.made.set(key, (made = this.make(model, cell.variant)));
    const v = await made;
    return v.ok ? { model: withVariantFile(model, v.file) } : { reason: v.reason };
  }

  /** A variant file's bytes, by its path (sent with the job, as a person's own files are). */
  bytesOf(path: string): ArrayBuffer | undefined {
    return this.bytesByPath.get(path);
  }

  /** The bytes of the file a cell loaded: raw, and gzip-compressed when the run has variants (else null). */
  async modelBytes(model: ModelInfo, cell: Cell): Promise<ModelBytes | null> {
    const format = model.formats.find((f) => f.format === cell.format);
    if (!format) return null;
    const raw = [format.entry, ...format.weights].reduce((a, f) => a + f.bytes, 0);
    if (!this.active || format.format !== 'onnx') return { raw, compressed: null };
    if (cell.variant !== 'fp32') {
      const v =
        this.given?.[variantKey(model.id, cell.variant)] ?? (await this.made.get(variantKey(model.id, cell.variant)));
      return { raw, compressed: v?.ok ? v.compressedBytes : null };
    }
    let size = this.gzip.get(model.id);
    if (!size)
      this.gzip.set(
        model.id,
        (size = this.source(format.entry)
          .then((b) => this.api().gzipSize(b))
          .catch(() => null)),
      );
    return { raw, compressed: await size };
  }

  /** Ends the variant worker (the made files stay, for the cells still to run). */
  close(): void {
    this.worker?.worker.terminate();
    this.worker = null;
  }

  private api(): Comlink.Remote<VariantWorkerApi> {
    if (!this.worker) {
      const worker = new Worker(new URL('../worker/variant-worker.ts', import.meta.url), {
        type: 'module',
        name: 'variant-worker',
      });
      this.worker = { api: Comlink.wrap<VariantWorkerApi>(worker), worker };
    }
    return this.worker.api;
  }

  private async source(file: ModelFile): Promise<ArrayBuffer> {
    const own = this.files?.get(file.path);
    if (own) return own.slice(0);
    const res = await fetch(new URL(file.path, this.modelsBaseUrl));
    if (!res.ok) throw new Error(`fetching ${file.path}: HTTP ${res.status}`);
    return res.arrayBuffer();
  }

  private async make(model: ModelInfo, variant: 'fp16' | 'int8'): Promise<Made> {
    const given = this.given?.[variantKey(model.id, variant)];
    if (given) return given;
    const onnx = model.formats.find((f) => f.format === 'onnx')!;
    let made: Made;
    try {
      const bytes = await this.source(onnx.entry);
      const v = await this.api().make(Comlink.transfer(bytes, [bytes]), variant);
      if (!v.ok) return v;
      const path = variantPath(model.id, variant);
      this.bytesByPath.set(path, v.bytes);
      this.onMade?.(variantKey(model.id, variant), v.bytes);
      made = {
        ok: true,
        file: { path, bytes: v.bytes.byteLength, sha256: v.sha256 },
        compressedBytes: v.compressedBytes,
      };
    } catch (e) {
      made = { ok: false, reason: `no ${variant} variant: ${(e as Error).message}` };
    }
    return made;
  }
}
