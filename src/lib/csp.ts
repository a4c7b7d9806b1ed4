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
