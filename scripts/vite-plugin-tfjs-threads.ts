/**
 * Keeps tfjs-backend-wasm's threaded build working in a minified bundle.
 *
 * Root cause (tfjs-backend-wasm 4.22, src/backend_wasm.ts init()): each pthread worker is a Blob that runs
 * `importScripts(mainScriptUrlOrBlob)`, and that main script is made from the Emscripten factory's source text:
 * `'var WasmBackendModuleThreadedSimd = ' + wasmFactoryThreadedSimd.toString()`. The worker then calls the factory
 * by that name. In a production bundle `toString()` returns the *minified* function, whose free identifiers point
 * at names the bundler gave things outside it (module scope, hoisted helpers); in the worker those names don't
 * exist, the worker dies before it reports "loaded", and the main thread waits for it forever (the hang).
 *
 * Fix: the factory module is left to the bundler as it is, and its function gets a `toString` that returns the
 * original, unminified source text, captured here as a string literal (minifiers don't touch string contents).
 * In that text every free identifier is guarded (`typeof _scriptDir`) or defined by Emscripten's worker prelude.
 */
import type { Plugin } from 'vite';

/** The package's modules that carry the factory (its flat ES bundles, or wasm-out/ when imported from there). */
const PACKAGE = /[\\/]@tensorflow[\\/]tfjs-backend-wasm[\\/]/;
const DEFINED = 'var WasmBackendModuleThreadedSimd = (() => {';
const START = /return \(\s*\n\s*(function\(WasmBackendModuleThreadedSimd\) \{)/;
const READY = /return WasmBackendModuleThreadedSimd\.ready\s*\n\s*\}/;
const IIFE_END = /\)\s*;\s*\n\s*\}\)\(\);/;

export function tfjsThreadedFactorySource(): Plugin {
  return {
    name: 'lab:tfjs-threaded-factory-source',
    enforce: 'pre',
    transform(code, id) {
      if (!PACKAGE.test(id) || !code.includes(DEFINED)) return null;
      const defined = code.indexOf(DEFINED);
      const start = START.exec(code.slice(defined));
      const ready = start ? READY.exec(code.slice(defined + start.index)) : null;
      if (!start || !ready || start[1] === undefined)
        return this.error(
          `tfjs-backend-wasm's threaded factory has changed shape (${id}); the threads fix needs updating`,
        );
      const from = defined + start.index + start[0].length - start[1].length;
      const to = defined + start.index + ready.index + ready[0].length;
      const end = IIFE_END.exec(code.slice(to));
      if (!end || end.index > 40)
        return this.error(`tfjs-backend-wasm's threaded factory ends in an unexpected way (${id})`);
      const at = to + end.index + end[0].length;
      const keep = `\nWasmBackendModuleThreadedSimd.toString = function () { return ${JSON.stringify(code.slice(from, to))}; };\n`;
      // Right after the factory is defined, in its scope, before the module exports it.
      return { code: code.slice(0, at) + keep + code.slice(at), map: null };
    },
  };
}
