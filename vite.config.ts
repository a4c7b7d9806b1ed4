import { readFileSync } from 'node:fs';
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { ISOLATION_HEADERS } from './src/cli/server.ts';
import { CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_HEADER } from './src/lib/csp.ts';
import { tfjsThreadedFactorySource } from './scripts/vite-plugin-tfjs-threads.ts';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
};
const LIBS = [
  'onnxruntime-web',
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-backend-webgpu',
  '@litertjs/core',
  'comlink',
  'svelte',
  'chart.js',
];

/**
 * Cross-origin isolation (COOP + COEP) in dev and preview, the same headers the CLI's server sends: it gives
 * SharedArrayBuffer (wasm threads) and the 5 us performance.now() resolution in page and workers.
 */
export default defineConfig({
  // Relative base: the built lab works from any sub-path of any static host.
  base: './',
  plugins: [
    svelte(),
    {
      // The built page carries its CSP itself, for static hosts that send no headers (not in dev: Vite's dev client
      // injects inline code).
      name: 'lab-csp-meta',
      apply: 'build',
      transformIndexHtml: () => [
        {
          tag: 'meta',
          attrs: { 'http-equiv': 'Content-Security-Policy', content: CONTENT_SECURITY_POLICY },
          injectTo: 'head-prepend',
        },
      ],
    },
  ],
  define: {
    __LIB_VERSIONS__: JSON.stringify(Object.fromEntries(LIBS.map((l) => [l, pkg.dependencies[l] ?? 'unknown']))),
    __LAB_VERSION__: JSON.stringify(pkg.version),
  },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: { ...ISOLATION_HEADERS, 'Content-Security-Policy': CONTENT_SECURITY_POLICY_HEADER } },
  // Runtimes load in cell workers, which Vite bundles with their own plugins. tfjsThreadedFactorySource: tfjs-wasm's
  // threaded build would hang once minified (see the plugin for why).
  worker: { format: 'es', plugins: () => [tfjsThreadedFactorySource()] },
  // Runtimes first imported inside a worker would make the dev server re-optimise and reload mid-run.
  optimizeDeps: {
    include: [
      '@tensorflow/tfjs',
      '@tensorflow/tfjs-backend-wasm',
      '@tensorflow/tfjs-backend-webgpu',
      '@litertjs/core',
      'comlink',
      'zod',
    ],
    // ORT finds its .wasm next to its own module: pre-bundling would move the module away from it.
    exclude: ['onnxruntime-web', 'onnxruntime-web/all'],
  },
  // The manifest tells scripts/check-size.ts which chunks the first page load needs.
  build: { target: 'es2022', chunkSizeWarningLimit: 4096, manifest: true },
});
