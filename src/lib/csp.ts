/**
 * The lab's Content-Security-Policy: the page and its workers load code only from the lab's own origin, so a
 * result file or model imported by hand can never run script, even if a component slipped and put its text into
 * the page as markup. What the runtimes need, and nothing more:
 *  - 'wasm-unsafe-eval': compiling WebAssembly (ORT, tfjs-wasm); plain eval stays forbidden;
 *  - blob: for workers and scripts: tfjs-wasm's threaded build starts its pthread workers from a blob of its own
 *    source, which loads itself again (importScripts of a blob: URL); a blob: URL can only be made by script that
 *    already runs, so it opens nothing to injected markup;
 *  - blob:/data: for pictures and downloads made in the page; inline style attributes (Svelte, Chart.js).
 * Served as a header by the CLI's server and `vite preview`, and as a <meta> in the built index.html, so any
 * static host that sends no headers still applies it (frame-ancestors works only as a header).
 *
 * One opt-in exception, WEBNN_WORKER_CSP_HEADER: ORT's only path to WebNN (a real target on Windows and ChromeOS:
 * DirectML, NPUs) goes through Emscripten's embind, which builds its method callers with `new Function`, i.e. eval.
 * Only a run that asks for WebNN (`latency-lab run --webnn`) gets it, only on the cell worker's script (a dedicated
 * worker takes its policy from its own script's response, not from the page), and the webnn cell records it
 * (proof detail workerCsp and a warning). The page, every other response, `vite preview` and the <meta> stay strict.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval' blob:",
  "worker-src 'self' blob:",
  "connect-src 'self' blob: data:",
  "img-src 'self' blob: data:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** The header form adds what a <meta> can't carry. */
export const CONTENT_SECURITY_POLICY_HEADER = `${CONTENT_SECURITY_POLICY}; frame-ancestors 'none'`;

/** The header for the cell worker's script in a run that asked for WebNN: script-src adds 'unsafe-eval' (see above). */
export const WEBNN_WORKER_CSP_HEADER = CONTENT_SECURITY_POLICY_HEADER.replace(
  "script-src 'self' 'wasm-unsafe-eval'",
  "script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval'",
);
