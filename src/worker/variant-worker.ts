/**
 * The variant worker: makes a model's fp16 or int8 file from its ONNX bytes (src/lib/models/variants/), and
 * measures a file's gzip size, off the page's thread. Started once per run that asks for variants, before any
 * cell's clock, and ended when the run's files are made.
 */
import * as Comlink from 'comlink';
import { makeVariantBytes } from '../lib/models/variants/variant-file.ts';
import { sha256Hex } from '../lib/sha256.ts';

/** Bytes as a static host would serve them compressed (gzip), by the browser's own CompressionStream. */
async function gzipSize(bytes: ArrayBuffer): Promise<number> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('gzip'));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

const api = {
  gzipSize,
  async make(
    onnx: ArrayBuffer,
    variant: 'fp16' | 'int8',
  ): Promise<
    { ok: true; bytes: ArrayBuffer; sha256: string; compressedBytes: number } | { ok: false; reason: string }
  > {
    const made = makeVariantBytes(new Uint8Array(onnx), variant);
    if (!made.ok) return made;
    const bytes = made.bytes.slice().buffer;
    const out = { ok: true as const, bytes, sha256: await sha256Hex(bytes), compressedBytes: await gzipSize(bytes) };
    return Comlink.transfer(out, [bytes]);
  },
};

export type VariantWorkerApi = typeof api;

Comlink.expose(api);
