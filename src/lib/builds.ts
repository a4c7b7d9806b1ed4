/**
 * Runtime builds: which bundle of ONNX Runtime Web a cell loads. The import line alone moves wasm latency by up to
 * 2x here (per-operator overhead differs between builds) and the wasm download from 14 to 28 MB, so a cell names
 * its build and the lab measures what an app importing that entry point would ship. Pure.
 */
/** A backend name (the schema's BackendId; spelled here so the schema can import this file without a cycle). */
type BackendId = 'wasm' | 'webgl' | 'webgpu' | 'webnn' | 'cpu';

export const ORT_BUILDS = ['wasm', 'default', 'webgpu', 'jspi', 'all', 'webgl'] as const;
export type OrtBuild = (typeof ORT_BUILDS)[number];
/** What a person chooses: builds, or `recommended` (per backend, the build ORT's docs point an app using it to). */
export const ORT_BUILD_CHOICES = ['recommended', ...ORT_BUILDS] as const;

export interface OrtBuildInfo {
  /** The import an app writes. */
  entry: string;
  /** Backends (execution providers) the build can run. */
  backends: readonly BackendId[];
  /** The wasm file the bundle loads (null: no wasm, the webgl-only build). */
  wasm: string | null;
  about: string;
}

export const ORT_BUILD_INFO: Record<OrtBuild, OrtBuildInfo> = {
  wasm: {
    entry: 'onnxruntime-web/wasm',
    backends: ['wasm'],
    wasm: 'ort-wasm-simd-threaded.wasm',
    about: 'wasm only: the smallest wasm (14 MB here)',
  },
  default: {
    entry: 'onnxruntime-web',
    backends: ['wasm', 'webgpu', 'webnn'],
    wasm: 'ort-wasm-simd-threaded.jsep.wasm',
    about: 'the default import: wasm, WebGPU (JSEP) and WebNN',
  },
  webgpu: {
    entry: 'onnxruntime-web/webgpu',
    backends: ['wasm', 'webgpu', 'webnn'],
    wasm: 'ort-wasm-simd-threaded.asyncify.wasm',
    about: 'the newer native WebGPU execution provider, on an asyncify build',
  },
  jspi: {
    entry: 'onnxruntime-web/jspi',
    backends: ['wasm', 'webgpu', 'webnn'],
    wasm: 'ort-wasm-simd-threaded.jspi.wasm',
    about: 'the WebGPU execution provider on a JSPI build (needs JS promise integration)',
  },
  all: {
    entry: 'onnxruntime-web/all',
    backends: ['wasm', 'webgl', 'webgpu', 'webnn'],
    wasm: 'ort-wasm-simd-threaded.jsep.wasm',
    about: 'everything, WebGL included (JSEP wasm)',
  },
  webgl: { entry: 'onnxruntime-web/webgl', backends: ['webgl'], wasm: null, about: 'WebGL only (no wasm)' },
};

/**
 * The build an app using only this backend would ship, as ORT's docs recommend: `/wasm` for wasm, `/webgpu` for
 * WebGPU, `/webgl` for WebGL, the default import for WebNN.
 */
export const RECOMMENDED_ORT_BUILD: Record<Exclude<BackendId, 'cpu'>, OrtBuild> = {
  wasm: 'wasm',
  webgpu: 'webgpu',
  webgl: 'webgl',
  webnn: 'default',
};

export function isOrtBuild(text: string): text is OrtBuild {
  return (ORT_BUILDS as readonly string[]).includes(text);
}

/** Why a build can't run a backend (names the builds that can), or null when it can. Plan and runtime both ask. */
export function ortBuildLacks(build: OrtBuild, backend: BackendId): string | null {
  if (ORT_BUILD_INFO[build].backends.includes(backend)) return null;
  return `ORT build '${build}' (${ORT_BUILD_INFO[build].entry}) has no ${backend} backend; builds with it: ${buildsFor(backend).join(', ')}`;
}

/** The builds that can run a backend, in the order of ORT_BUILDS. */
export function buildsFor(backend: BackendId): OrtBuild[] {
  return ORT_BUILDS.filter((b) => ORT_BUILD_INFO[b].backends.includes(backend));
}
