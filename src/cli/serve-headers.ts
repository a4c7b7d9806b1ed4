/**
 * The headers the lab's server sends with the build's files: cross-origin isolation (COOP/COEP/CORP, for wasm threads
 * and the 5 us timer) and the Content-Security-Policy, strict everywhere except where a run opted in: with
 * `evalScripts` (latency-lab run --webnn), the scripts it matches (the cell worker's) get WEBNN_WORKER_CSP_HEADER,
 * whose script-src allows 'unsafe-eval' for ORT's WebNN execution provider (why: src/lib/csp.ts).
 */
import { CONTENT_SECURITY_POLICY_HEADER, WEBNN_WORKER_CSP_HEADER } from '../lib/csp.ts';

export const ISOLATION_HEADERS: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** The cell worker's script as Vite names it in the build (assets/cell-worker-<hash>.js). */
export const CELL_WORKER_SCRIPT = /^\/assets\/cell-worker-[\w-]+\.js$/;

/** Said once on stderr by a --webnn run. */
export const WEBNN_CSP_NOTICE =
  "--webnn: the cell worker's script is served with 'unsafe-eval' in script-src (ORT's WebNN execution provider builds functions from strings); the page and every other file keep the strict Content-Security-Policy";

export type HeadersFor = (pathInRoot: string) => Record<string, string>;

/** isolate false: none at all (a plain static host, as GitHub Pages is; the built page's <meta> CSP still applies). */
export function policyHeaders(isolate: boolean, evalScripts?: RegExp): HeadersFor {
  if (!isolate) return () => ({});
  const strict = { ...ISOLATION_HEADERS, 'Content-Security-Policy': CONTENT_SECURITY_POLICY_HEADER };
  const relaxed = { ...ISOLATION_HEADERS, 'Content-Security-Policy': WEBNN_WORKER_CSP_HEADER };
  return (p) => (evalScripts?.test(p) ? relaxed : strict);
}
