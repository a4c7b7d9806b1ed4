/**
 * Targets as a person writes them (`ort:wasm`, `ort:wasm@default`), checked with errors that name the valid ones;
 * the formats each runtime loads, and which targets run on the CPU (parity references).
 */
import {
  isOrtBuild,
  ORT_BUILD_INFO,
  ORT_BUILDS,
  ortBuildLacks,
  RECOMMENDED_ORT_BUILD,
  type OrtBuild,
} from '../builds.ts';
import type { ModelInfo } from '../models/manifest.ts';
import type { BackendId, ModelFormat, RuntimeId } from '../schema.ts';
import { allTargets, RUNTIME_BACKENDS, BACKENDS, RUNTIMES } from '../targets.ts';

/** The native reference target: onnxruntime-node on this machine's CPU, run by the CLI (`--native`). */
export const NATIVE_TARGET = 'ort-node:cpu';

/** Backends that run on the CPU: cells on them are parity references. Ordered by preference. */
export const CPU_TARGETS: readonly Target[] = [
  { runtime: 'ort', backend: 'wasm' },
  { runtime: 'tfjs', backend: 'cpu' },
  { runtime: 'tfjs', backend: 'wasm' },
  // Last: a .tflite-only model's litert:webgpu cells still get a CPU reference.
  { runtime: 'litert', backend: 'wasm' },
];

/** The formats a runtime can load, in order of preference. */
export const RUNTIME_FORMATS: Record<RuntimeId, readonly ModelFormat[]> = {
  ort: ['onnx'],
  tfjs: ['tfjs-layers', 'tfjs-graph'],
  litert: ['tflite'],
  calib: ['calibration'],
  'ort-node': ['onnx'],
};

export interface Target {
  runtime: RuntimeId;
  backend: BackendId;
  /** ORT only: the build, when the target names one (`ort:wasm@default`). */
  build?: OrtBuild;
}

export class PlanError extends Error {
  override name = 'PlanError';
}

/**
 * `runtime:backend`, optionally with a build: `ort:wasm@default`. The build must be one that runs the backend.
 */
export function parseTarget(text: string): Target {
  const [pair = '', build, moreAt] = text.trim().split('@');
  if (moreAt !== undefined) throw new PlanError(`'${text}' has more than one @build`);
  const t = parsePair(pair, text);
  if (build === undefined) return t;
  if (t.runtime !== 'ort') throw new PlanError(`'${text}': only ort has builds (${ORT_BUILDS.join(', ')})`);
  if (!isOrtBuild(build))
    throw new PlanError(`unknown ORT build '${build}' in '${text}'; valid: ${ORT_BUILDS.join(', ')}`);
  const lacks = ortBuildLacks(build, t.backend);
  if (lacks) throw new PlanError(lacks);
  return { ...t, build };
}

function parsePair(pair: string, text: string): Target {
  const [runtime, backend, extra] = pair.split(':');
  if (extra !== undefined || !runtime || !backend) {
    throw new PlanError(`'${text}' is not runtime:backend; valid: ${allTargets().join(', ')}`);
  }
  if (!(RUNTIMES as readonly string[]).includes(runtime)) {
    throw new PlanError(`unknown runtime '${runtime}' in '${text}'; valid runtimes: ${RUNTIMES.join(', ')}`);
  }
  const r = runtime as RuntimeId;
  if (!(BACKENDS as readonly string[]).includes(backend) || !RUNTIME_BACKENDS[r].includes(backend as BackendId)) {
    throw new PlanError(`runtime '${r}' has no backend '${backend}'; valid: ${RUNTIME_BACKENDS[r].join(', ')}`);
  }
  return { runtime: r, backend: backend as BackendId };
}

export function targetKey(t: Target): string {
  return `${t.runtime}:${t.backend}${t.build ? `@${t.build}` : ''}`;
}

/**
 * The builds an ORT target runs with: its own @build, else each of `choices` that has its backend (`recommended`
 * stands for the recommended one). Empty when none of the chosen builds has the backend.
 */
export function buildsOf(t: Target, choices: readonly string[] = ['recommended']): (OrtBuild | undefined)[] {
  if (t.runtime !== 'ort') return [undefined];
  if (t.build) return [t.build];
  const out = new Set<OrtBuild>();
  for (const c of choices) {
    if (c === 'recommended') out.add(RECOMMENDED_ORT_BUILD[t.backend as keyof typeof RECOMMENDED_ORT_BUILD]);
    else if (isOrtBuild(c) && ORT_BUILD_INFO[c].backends.includes(t.backend)) out.add(c);
  }
  return [...out];
}

export function pickFormat(model: ModelInfo | undefined, runtime: RuntimeId): ModelFormat | null {
  if (!model) return null;
  return RUNTIME_FORMATS[runtime].find((f) => model.formats.some((m) => m.format === f)) ?? null;
}
