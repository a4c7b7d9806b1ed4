/**
 * LiteRT.js adapter (@litertjs/core, Google's runtime for .tflite files): accelerators wasm (XNNPack; threads with
 * the threaded build) and webgpu. Stage boundaries are in litert-session.ts; which build and what ran, litert-proof.ts.
 *
 * Serving the wasm ourselves: every build's .js glue and .wasm are Vite `?url` assets (same origin, hashed names).
 * LiteRT's loader runs the glue with importScripts, which a module worker (the lab's cell workers are ES modules)
 * refuses; so the worker fetches the glue itself, imports it as a module from a blob: URL with an export added, and
 * hands the factory to LiteRT's loader through a one-call importScripts stand-in. The factory finds its .wasm through
 * `Module.locateFile`, and the threaded build starts its pthread workers from `Module.mainScriptUrlOrBlob` (the same
 * glue, as a classic worker script, where importScripts works).
 */
import { loadLiteRt, supportsFeature, Tensor, type LiteRt } from '@litertjs/core';
import compatJs from '@litertjs/core/wasm/litert_wasm_compat_internal.js?url';
import compatWasm from '@litertjs/core/wasm/litert_wasm_compat_internal.wasm?url';
import plainJs from '@litertjs/core/wasm/litert_wasm_internal.js?url';
import plainWasm from '@litertjs/core/wasm/litert_wasm_internal.wasm?url';
import threadedJs from '@litertjs/core/wasm/litert_wasm_threaded_internal.js?url';
import threadedWasm from '@litertjs/core/wasm/litert_wasm_threaded_internal.wasm?url';
import jspiJs from '@litertjs/core/wasm/litert_wasm_jspi_internal.js?url';
import jspiWasm from '@litertjs/core/wasm/litert_wasm_jspi_internal.wasm?url';
import type { ModelInfo } from '../lib/models/manifest.ts';
import type { BackendId, Cell } from '../lib/schema.ts';
import { captureConsole, installConsoleTap } from './console-tap.ts';
import { chooseLiteRtBuild, type LiteRtBuild, type LiteRtFeatures } from './litert-proof.ts';
import { litertVersion, LiteRtSession, toLiteRtData, type LiteRtLoaded } from './litert-session.ts';
import {
  BackendUnavailable,
  type BareRunner,
  type ModelBytes,
  type RuntimeAdapter,
  type RuntimeSession,
} from './runtime.ts';

const FILES: Record<LiteRtBuild, { js: string; wasm: string }> = {
  compat: { js: compatJs, wasm: compatWasm },
  plain: { js: plainJs, wasm: plainWasm },
  threaded: { js: threadedJs, wasm: threadedWasm },
  jspi: { js: jspiJs, wasm: jspiWasm },
};

let loaded: LiteRtLoaded | null = null;

export async function liteRtFeatures(): Promise<LiteRtFeatures> {
  const [relaxedSimd, threads, jspi] = await Promise.all([
    supportsFeature('relaxedSimd'),
    supportsFeature('threads'),
    supportsFeature('jspi'),
  ]);
  return { relaxedSimd, threads, jspi, crossOriginIsolated: self.crossOriginIsolated };
}

/** Runs a build's glue as a module and returns its factory (see the file comment for why not importScripts). */
async function importFactory(jsUrl: string): Promise<unknown> {
  const res = await fetch(jsUrl);
  if (!res.ok) throw new Error(`fetching LiteRT's wasm glue ${jsUrl}: HTTP ${res.status}`);
  const text = await res.text();
  const blob = URL.createObjectURL(new Blob([text, '\nexport default ModuleFactory;\n'], { type: 'text/javascript' }));
  try {
    return ((await import(/* @vite-ignore */ blob)) as { default: unknown }).default;
  } finally {
    URL.revokeObjectURL(blob);
  }
}

type LoaderGlobals = { importScripts?: unknown; ModuleFactory?: unknown; Module?: unknown };

async function loadBuild(build: LiteRtBuild): Promise<{ liteRt: LiteRt; said: string[] }> {
  const { js, wasm } = FILES[build];
  const factory = await importFactory(js);
  const g = self as unknown as LoaderGlobals;
  g.importScripts = () => {
    g.ModuleFactory = factory;
  };
  g.Module = {
    locateFile: (path: string) => (path.endsWith('.wasm') ? new URL(wasm, self.location.href).href : path),
    mainScriptUrlOrBlob: new URL(js, self.location.href).href,
  };
  try {
    // LiteRT's default environment asks for a WebGPU device and only warns when it gets none: keep its words.
    const got = await captureConsole(() => loadLiteRt(new URL(js, self.location.href).href));
    if (!got.ok) throw got.error;
    return { liteRt: got.value, said: got.lines.filter((l) => l.level === 'warn').map((l) => l.text) };
  } finally {
    delete g.importScripts; // back to the worker's own (which throws in a module worker)
    delete g.Module;
  }
}

export const litertAdapter: RuntimeAdapter = {
  id: 'litert',
  version: litertVersion(),

  async init(backend: BackendId, cell: Cell): Promise<void> {
    if (backend !== 'wasm' && backend !== 'webgpu')
      throw new BackendUnavailable(`LiteRT.js has no ${backend} accelerator here (the lab runs wasm and webgpu)`);
    if (cell.threads > navigator.hardwareConcurrency)
      throw new BackendUnavailable(
        `${cell.threads} threads asked, this device has ${navigator.hardwareConcurrency} logical cores`,
      );
    if (backend === 'webgpu' && !('gpu' in navigator))
      throw new BackendUnavailable('navigator.gpu is missing: this browser has no WebGPU');
    const features = await liteRtFeatures();
    const choice = chooseLiteRtBuild(backend, cell.threads, features);
    if ('unavailable' in choice) throw new BackendUnavailable(choice.unavailable);
    if (loaded && loaded.build !== choice.build)
      throw new Error(`this worker already loaded LiteRT build '${loaded.build}', not '${choice.build}'`);
    // Before the glue runs: LiteRT's fallback warnings come only on the console.
    installConsoleTap();
    if (!loaded) {
      const { liteRt, said } = await loadBuild(choice.build);
      loaded = { liteRt, build: choice.build, buildWhy: choice.why, features, loadSaid: said };
    }
    if (backend === 'webgpu' && !loaded.liteRt.getWebGpuDevice()) {
      const why = loaded.loadSaid.find((l) => /WebGPU device/.test(l)) ?? 'no reason given';
      throw new BackendUnavailable(`LiteRT.js got no WebGPU device here: ${why}`);
    }
  },

  async createSession(model: ModelInfo, bytes: ModelBytes, cell: Cell): Promise<RuntimeSession> {
    if (bytes.format !== 'tflite') throw new Error(`litert loads .tflite files, not ${bytes.format}`);
    if (!loaded) throw new Error('litert adapter: init() was not called');
    return LiteRtSession.create(loaded, model, bytes, cell);
  },

  /**
   * LiteRT's own API as an app writes an inference (wasm accelerator only): the LiteRt that init() loaded (the same
   * self-hosted build a cell uses; a worker loads LiteRT once), a second compile of the file, and per pass a Tensor
   * from the input bytes, run(), toTypedArray() of every output and the deletes LiteRT's hand-managed memory needs.
   */
  async createBare(_model: ModelInfo, bytes: ModelBytes, cell: Cell): Promise<BareRunner> {
    if (!loaded) throw new Error('litert adapter: init() was not called');
    if (cell.backend !== 'wasm') throw new Error(`litert's bare loop runs the wasm accelerator, not ${cell.backend}`);
    const compiled = await loaded.liteRt.loadAndCompile(new Uint8Array(bytes.entry), {
      accelerator: 'wasm',
      cpuOptions: { numThreads: cell.threads },
    });
    const details = compiled.getInputDetails();
    return {
      async pass(inputs) {
        const xs = inputs.map((t, i) => new Tensor(toLiteRtData(t, details[i]!.dtype), t.shape));
        const ys = await compiled.run(xs);
        for (const y of ys) void y.toTypedArray();
        for (const t of [...xs, ...ys]) t.delete();
      },
      dispose: async () => compiled.delete(),
    };
  },

  wasmHeapBytes() {
    return loaded?.liteRt.liteRtWasm.HEAPU8?.byteLength ?? null;
  },
};
