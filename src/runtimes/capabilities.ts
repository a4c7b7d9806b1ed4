/**
 * What this browser can run, probed inside a worker (where cells run) before any cell starts: WebGPU adapter,
 * WebGL renderer, WebNN, isolation and threads. Each runtime:backend gets available or unavailable with the
 * reason, so cells that can't run are `unsupported` at once and cost no time.
 */
import { errorMessage } from '../lib/errors.ts';
import type { Capability, GpuInfo } from '../lib/schema.ts';
import { allTargets } from '../lib/targets.ts';

interface NavigatorGpu {
  gpu?: {
    requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null>;
  };
  ml?: { createContext?: (options?: unknown) => Promise<unknown> };
}

interface AdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
  features: { has(name: string): boolean };
}

/** How long the probe waits for a WebGPU adapter (SwiftShader on a loaded 2-core machine answers in < 1 s). */
const ADAPTER_WAIT_MS = 10_000;

async function probeWebGpu(): Promise<{ adapter: GpuInfo['webgpu']; reason: string | null }> {
  const nav = navigator as unknown as NavigatorGpu;
  if (!nav.gpu)
    return {
      adapter: null,
      reason:
        'navigator.gpu is missing: this browser has no WebGPU (or it is not enabled; headless Chromium needs --enable-unsafe-webgpu)',
    };
  let adapter: AdapterLike | null;
  try {
    // A GPU process that is busy or hung can leave requestAdapter() unanswered; the page must not wait forever.
    const late = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), ADAPTER_WAIT_MS));
    const answer = await Promise.race([nav.gpu.requestAdapter(), late]);
    if (answer === 'late')
      return {
        adapter: null,
        reason: `navigator.gpu.requestAdapter() did not answer within ${ADAPTER_WAIT_MS / 1000} s (GPU process busy or hung)`,
      };
    adapter = answer;
  } catch (e) {
    return { adapter: null, reason: `requestAdapter() threw: ${errorMessage(e)}` };
  }
  if (!adapter)
    return {
      adapter: null,
      reason: 'navigator.gpu.requestAdapter() returned no adapter (no usable GPU, or WebGPU blocked on this device)',
    };
  const info = adapter.info ?? {};
  const isFallbackAdapter = Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false);
  return {
    adapter: {
      vendor: info.vendor ?? '',
      architecture: info.architecture ?? '',
      device: info.device ?? '',
      description: info.description ?? '',
      isFallbackAdapter,
      timestampQuery: adapter.features.has('timestamp-query'),
    },
    reason: null,
  };
}

function probeWebGl(): { renderer: GpuInfo['webgl']; reason: string | null } {
  if (typeof OffscreenCanvas === 'undefined')
    return {
      renderer: null,
      reason: 'OffscreenCanvas is missing in workers: WebGL cannot run off the main thread here',
    };
  const gl = new OffscreenCanvas(1, 1).getContext('webgl2') as WebGL2RenderingContext | null;
  if (!gl) return { renderer: null, reason: 'no WebGL2 context could be created (GPU blocklisted or WebGL disabled)' };
  const dbg = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(dbg ? gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
  const vendor = String(dbg ? gl.getParameter(dbg.UNMASKED_VENDOR_WEBGL) : gl.getParameter(gl.VENDOR));
  const timerQuery = gl.getExtension('EXT_disjoint_timer_query_webgl2') !== null;
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return { renderer: { renderer, vendor, timerQuery }, reason: null };
}

/** Software renderers: numbers from them are correctness checks, never GPU performance. */
export function isSoftwareRenderer(text: string): boolean {
  return /swiftshader|llvmpipe|softpipe|software|basic render|warp/i.test(text);
}

/** What the probe found missing, by feature (null: present). */
export interface Found {
  wasm: string | null;
  webgl2: string | null;
  webgl1: string | null;
  webgpu: string | null;
  webnn: string | null;
}

function probeWebGl1(): string | null {
  if (typeof OffscreenCanvas === 'undefined') return 'OffscreenCanvas is missing in workers';
  const gl = new OffscreenCanvas(1, 1).getContext('webgl') as WebGLRenderingContext | null;
  if (!gl) return 'no WebGL1 context either';
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return null;
}

/**
 * What each runtime:backend needs, and why it can't start here, by name: a reason says whose need failed (ORT's
 * WebGPU execution provider, or tfjs-backend-webgpu), and each target has its own check to grow where the runtimes
 * differ. Both WebGL backends take WebGL2 and fall back to WebGL1.
 */
const NEEDS: Record<string, (f: Found) => string | null> = {
  'ort:wasm': (f) => f.wasm && `ORT's wasm backend needs WebAssembly: ${f.wasm}`,
  'ort:webgl': (f) =>
    f.webgl2 && f.webgl1
      ? `ORT's WebGL backend needs a WebGL2 or WebGL1 context in a worker: ${f.webgl2}; ${f.webgl1}`
      : null,
  'ort:webgpu': (f) => f.webgpu && `ORT's WebGPU execution provider needs a WebGPU adapter: ${f.webgpu}`,
  'ort:webnn': (f) => f.webnn && `ORT's WebNN execution provider needs a WebNN context: ${f.webnn}`,
  'tfjs:cpu': () => null,
  'tfjs:wasm': (f) => f.wasm && `tfjs-backend-wasm needs WebAssembly: ${f.wasm}`,
  'tfjs:webgl': (f) =>
    f.webgl2 && f.webgl1
      ? `tfjs-backend-webgl needs a WebGL2 or WebGL1 context in a worker: ${f.webgl2}; ${f.webgl1}`
      : null,
  'tfjs:webgpu': (f) => f.webgpu && `tfjs-backend-webgpu needs a WebGPU adapter: ${f.webgpu}`,
  'litert:wasm': (f) => f.wasm && `LiteRT.js's wasm accelerator needs WebAssembly: ${f.wasm}`,
  'litert:webgpu': (f) => f.webgpu && `LiteRT.js's WebGPU accelerator needs a WebGPU adapter: ${f.webgpu}`,
  'calib:cpu': () => null,
  // Native ONNX Runtime is not a browser runtime: the CLI runs it beside the browser (its runner checks for that).
  'ort-node:cpu': () =>
    'native ONNX Runtime (onnxruntime-node) is not a browser runtime: native reference cells run from the CLI, latency-lab run --native',
};

/** Every runtime:backend, available or not, with its own reason. */
export function capabilitiesFrom(found: Found): Capability[] {
  return allTargets().map((target) => {
    const needs = NEEDS[target];
    const reason = needs ? needs(found) : `${target}: no check is defined for this target`;
    return { target, available: reason === null, reason };
  });
}

const WEBNN_DEVICES = ['cpu', 'gpu', 'npu'] as const;

/**
 * WebNN is there only where a context comes up: Chromium can expose navigator.ml (behind
 * --enable-features=WebMachineLearningNeuralNetwork) on a platform where every createContext() throws
 * NotSupportedError. So each device type is tried; null once one gives a context, else the browser's own words.
 */
export async function probeWebNn(ml: NavigatorGpu['ml']): Promise<string | null> {
  if (!ml?.createContext)
    return 'navigator.ml is missing: this browser has no WebNN (Chromium exposes it with --enable-features=WebMachineLearningNeuralNetwork; the CLI: --webnn)';
  const refusals = new Map<string, string[]>();
  for (const deviceType of WEBNN_DEVICES) {
    try {
      await ml.createContext({ deviceType });
      return null;
    } catch (e) {
      const said = `${(e as { name?: string } | null)?.name ?? 'Error'}: ${errorMessage(e)}`;
      refusals.set(said, [...(refusals.get(said) ?? []), deviceType]);
    }
  }
  const words = [...refusals].map(([said, devices]) => `${said} (createContext for ${devices.join(', ')})`);
  return `WebNN: ${words.join('; ')}`;
}

export async function probeCapabilities(): Promise<{ gpu: GpuInfo; capabilities: Capability[] }> {
  const [webgpu, webgl] = [await probeWebGpu(), probeWebGl()];
  const nav = navigator as unknown as NavigatorGpu;
  const webnnReason = await probeWebNn(nav.ml);
  const gpu: GpuInfo = {
    webgpu: webgpu.adapter,
    webgl: webgl.renderer,
    software: Boolean(
      (webgpu.adapter &&
        (webgpu.adapter.isFallbackAdapter ||
          isSoftwareRenderer(`${webgpu.adapter.architecture} ${webgpu.adapter.description}`))) ||
      (webgl.renderer && isSoftwareRenderer(webgl.renderer.renderer)),
    ),
  };
  const found: Found = {
    wasm: typeof WebAssembly === 'object' ? null : 'WebAssembly is missing',
    webgl2: webgl.reason,
    webgl1: webgl.reason === null ? null : probeWebGl1(),
    webgpu: webgpu.reason,
    webnn: webnnReason,
  };
  const capabilities = capabilitiesFrom(found);
  return { gpu, capabilities };
}
