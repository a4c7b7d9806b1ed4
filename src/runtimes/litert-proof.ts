/**
 * LiteRT.js (@litertjs/core 2.5.3): which of its wasm builds a cell loads, and what really ran, read from LiteRT
 * itself. Pure: litert.ts and litert-session.ts feed it what they read from LiteRT's objects and console.
 *
 * The four builds (compat, plain, threaded, jspi) are not a dimension of the matrix: an app that follows LiteRT's
 * README ships the whole wasm folder and `loadLiteRt(folder, {threads, jspi})` picks one by the browser's features,
 * so what an app ships does not change with the build. The lab picks the way LiteRT's own loader would for the
 * cell's settings, and the proof records which file was fetched.
 *
 * What ran: LiteRT compiles a model for the accelerator asked; when WebGPU can't take every op it logs (console.warn,
 * `%c[LiteRT]%c ...`) and either partitions the model (JSPI builds: the rest runs on wasm, per op) or, without JSPI,
 * compiles the whole model for wasm again and returns that. The compiled model says which accelerator it was
 * compiled for (`options.accelerator`) and whether it is fully accelerated (`isFullyAccelerated`); an output tensor
 * says where its buffer lives (`accelerator`).
 */
import type { BackendId } from '../lib/schema.ts';

export const LITERT_BUILDS = ['compat', 'plain', 'threaded', 'jspi'] as const;
export type LiteRtBuild = (typeof LITERT_BUILDS)[number];

/** The .js glue file of each build (its .wasm has the same stem). */
export const LITERT_BUILD_FILES: Record<LiteRtBuild, string> = {
  compat: 'litert_wasm_compat_internal',
  plain: 'litert_wasm_internal',
  threaded: 'litert_wasm_threaded_internal',
  jspi: 'litert_wasm_jspi_internal',
};

/** Browser features LiteRT's loader checks (supportsFeature), and the page's isolation. */
export interface LiteRtFeatures {
  relaxedSimd: boolean;
  /** Wasm threads (shared memory), as LiteRT checks them. */
  threads: boolean;
  jspi: boolean;
  crossOriginIsolated: boolean;
}

export type BuildChoice = { build: LiteRtBuild; why: string } | { unavailable: string };

/**
 * The build for a cell, as `loadLiteRt(folder, options)` would pick it: threads (more than 1) need the threaded
 * build, which LiteRT offers only with relaxed SIMD and shared memory (cross-origin isolation); WebGPU gets the JSPI
 * build where JSPI is there (LiteRT's README: needed to run a model WebGPU can't fully take partly on wasm); else
 * the plain build, or compat without relaxed SIMD.
 */
export function chooseLiteRtBuild(backend: BackendId, threads: number, f: LiteRtFeatures): BuildChoice {
  if (threads > 1) {
    if (backend !== 'wasm') return { unavailable: `litert:${backend} has no thread setting (threads apply to wasm)` };
    if (!f.crossOriginIsolated)
      return {
        unavailable: `litert:wasm with ${threads} threads needs cross-origin isolation (SharedArrayBuffer); this page is not isolated`,
      };
    if (!f.relaxedSimd)
      return {
        unavailable: `litert:wasm with ${threads} threads needs relaxed SIMD (LiteRT.js's threaded build has no other form); this browser lacks it`,
      };
    if (!f.threads) return { unavailable: `litert:wasm with ${threads} threads: LiteRT.js finds no wasm threads here` };
    return { build: 'threaded', why: `${threads} threads asked: loadLiteRt's threads option` };
  }
  if (!f.relaxedSimd) return { build: 'compat', why: 'no relaxed SIMD here: LiteRT.js loads its compat build' };
  if (backend === 'webgpu' && f.jspi)
    return { build: 'jspi', why: 'webgpu with JSPI: ops WebGPU cannot take run on wasm (loadLiteRt jspi option)' };
  return {
    build: 'plain',
    why: backend === 'webgpu' ? 'webgpu without JSPI: the plain build' : '1 thread: the plain (relaxed SIMD) build',
  };
}

/** What LiteRT said while compiling: its `[LiteRT]` warnings, with the console's %c style arguments removed. */
export function liteRtWarnings(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    const m = /\[LiteRT\](?:%c)?\s*([^%]*?)(?:\s+(?:background|color|font-weight):[\s\S]*)?$/.exec(line);
    if (m && m[1]!.trim()) out.push(m[1]!.trim());
  }
  return out;
}

/** What the compiled model and its outputs say ran. */
export interface LiteRtRanInput {
  requested: BackendId;
  /** CompiledModel.options.accelerator: what LiteRT compiled the model for (wasm after a whole fallback). */
  compiledFor: string;
  /** CompiledModel.isFullyAccelerated (null: not asked, wasm). */
  fullyAccelerated: boolean | null;
  /** Tensor.accelerator of the first pass's outputs. */
  outputsOn: readonly string[];
  /** liteRtWarnings() of the compile. */
  warnings: readonly string[];
}

export interface LiteRtRan {
  backendInUse: string;
  /** The model did not run on the accelerator asked at all: the cell must not carry its label. */
  fellBack: string | null;
  warning: string | null;
  summary: string;
}

export function readLiteRtRan(r: LiteRtRanInput): LiteRtRan {
  const said = r.warnings.length ? ` (LiteRT: "${r.warnings.join('; ')}")` : '';
  if (r.compiledFor !== r.requested)
    return {
      backendInUse: r.compiledFor,
      fellBack: `asked LiteRT.js for ${r.requested}, but it compiled the model for ${r.compiledFor}${said}: it fell back`,
      warning: null,
      summary: `compiled for ${r.compiledFor}`,
    };
  const elsewhere = r.outputsOn.filter((a) => a !== r.requested);
  if (r.requested === 'webgpu' && r.fullyAccelerated === false)
    return {
      backendInUse: 'webgpu',
      fellBack: null,
      // JSPI partitioning: LiteRT says the model is not fully on WebGPU but not how many ops ran on wasm.
      warning: `LiteRT.js compiled the model for webgpu but not fully: some ops run on wasm (partitioned)${said}`,
      summary: `webgpu, partly on wasm; outputs on ${r.outputsOn.join(', ') || 'none'}`,
    };
  return {
    backendInUse: r.requested,
    fellBack: null,
    warning: elsewhere.length
      ? `outputs came back on ${[...new Set(elsewhere)].join(', ')}, not ${r.requested}${said}`
      : said
        ? `LiteRT warned while compiling${said}`
        : null,
    summary: `${r.requested}${r.fullyAccelerated ? ', fully accelerated' : ''}; outputs on ${r.outputsOn.join(', ') || 'none'}`,
  };
}
