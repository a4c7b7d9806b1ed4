/**
 * The runtimes, backends and runtime:backend targets, as plain constants: no zod, so the small probe worker the
 * page starts at load can list them without the schema code (src/lib/schema.ts builds its enums from these).
 */

/**
 * `litert` is LiteRT.js (@litertjs/core, Google's runtime for .tflite files): its wasm (XNNPack) and WebGPU accelerators.
 * `calib` is the built-in calibration runtime: its inference busy-waits a requested time (harness self-check).
 * `ort-node` is native ONNX Runtime (onnxruntime-node) on this machine's CPU, run by the CLI beside the browser's
 * cells as the native reference (`latency-lab run --native`); a browser can't run it.
 */
export const RUNTIMES = ['ort', 'tfjs', 'litert', 'calib', 'ort-node'] as const;
export type RuntimeName = (typeof RUNTIMES)[number];

export const BACKENDS = ['wasm', 'webgl', 'webgpu', 'webnn', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** Which backends each runtime has. tfjs `cpu` is plain JS; ORT has no JS CPU backend (its wasm is the CPU one). */
export const RUNTIME_BACKENDS: Record<RuntimeName, readonly BackendName[]> = {
  ort: ['wasm', 'webgl', 'webgpu', 'webnn'],
  tfjs: ['cpu', 'wasm', 'webgl', 'webgpu'],
  litert: ['wasm', 'webgpu'],
  calib: ['cpu'],
  'ort-node': ['cpu'],
};

/** Every runtime:backend pair. */
export function allTargets(): string[] {
  return RUNTIMES.flatMap((r) => RUNTIME_BACKENDS[r].map((b) => `${r}:${b}`));
}
