/**
 * What ONNX Runtime Web really ran, read from ORT rather than copied from the request. ORT 1.30 says it in three
 * places, all checked against its source (js/common/lib/backend-impl.ts, js/web/lib/backend-onnxjs.ts,
 * onnxruntime/core/common/profiler.{h,cc}) and tried in a worker:
 * - session creation: for each requested execution provider whose backend failed to start it prints
 *   `removing requested execution provider "X" from session options because it is not available: <why>`
 *   (console.warn) and goes on with the rest of the list;
 * - its WebGL backend (onnxjs) starts lazily inside session creation; when it can't, its logger prints
 *   `Unable to initialize WebGLBackend. <why>` (console.log) and creation fails with "no available backend to use";
 * - a session created with `enableProfiling` writes, on endProfiling(), one JSON event per executed kernel whose
 *   args name the execution provider that ran it (the wasm build's profiler writes to stdout, i.e. console.log).
 * Pure parsing here; ort-session.ts runs the profiled session.
 */
import type { BackendId } from '../lib/schema.ts';

/** ORT's execution provider names (as the profile spells them) and the lab backend each one is. */
export const EP_BACKEND: Readonly<Record<string, BackendId>> = {
  CPUExecutionProvider: 'wasm',
  // The JSEP builds (default import, /all) run WebGPU through the JS execution provider.
  JsExecutionProvider: 'webgpu',
  // The /webgpu build's native WebGPU execution provider.
  WebGpuExecutionProvider: 'webgpu',
  WebNNExecutionProvider: 'webnn',
};

/** Kernels run per execution provider, counted from ORT's profile lines (other lines are skipped). */
export function kernelsPerProvider(lines: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const raw of lines) {
    const text = raw.trim().replace(/,$/, '');
    if (!text.startsWith('{')) continue;
    let event: { cat?: unknown; name?: unknown; args?: { provider?: unknown } };
    try {
      event = JSON.parse(text) as typeof event;
    } catch {
      continue;
    }
    // One `<node>_kernel_time` event per kernel run; session-level events have no provider.
    const provider = event.args?.provider;
    if (event.cat !== 'Node' || typeof provider !== 'string' || !String(event.name).endsWith('_kernel_time')) continue;
    counts[provider] = (counts[provider] ?? 0) + 1;
  }
  return counts;
}

/** `JsExecutionProvider:5, CPUExecutionProvider:2`, most kernels first. */
export function formatProviders(counts: Readonly<Record<string, number>>): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([ep, n]) => `${ep}:${n}`)
    .join(', ');
}

/** What the kernel counts say ran: the backend in use, and a warning when part of the model ran elsewhere. */
export interface ExecutedVerdict {
  /** The requested backend when its provider ran kernels; else the backend that ran most of them; null: none ran. */
  backendInUse: string | null;
  /** True when the requested backend's provider ran none of the kernels. */
  fellBack: boolean;
  warning: string | null;
}

export function verdictOf(counts: Readonly<Record<string, number>>, requested: BackendId): ExecutedVerdict {
  const entries = Object.entries(counts);
  const total = entries.reduce((s, [, n]) => s + n, 0);
  if (total === 0) return { backendInUse: null, fellBack: false, warning: "ORT's profile listed no executed kernels" };
  const mine = entries.filter(([ep]) => EP_BACKEND[ep] === requested).reduce((s, [, n]) => s + n, 0);
  if (mine === 0) {
    const [top] = entries.sort((a, b) => b[1] - a[1]);
    return { backendInUse: EP_BACKEND[top![0]] ?? top![0], fellBack: true, warning: null };
  }
  if (mine === total) return { backendInUse: requested, fellBack: false, warning: null };
  const others = formatProviders(Object.fromEntries(entries.filter(([ep]) => EP_BACKEND[ep] !== requested)));
  return {
    backendInUse: requested,
    fellBack: false,
    // ORT keeps some nodes (often shape arithmetic) on the CPU by design; a timing of "webgpu" includes them.
    warning: `${total - mine} of ${total} kernels ran outside ${requested} (${others}): ORT placed them there`,
  };
}

/** ORT's reason for dropping the requested provider at session creation, or null when it kept it. */
export function droppedProvider(lines: readonly string[], provider: string): string | null {
  for (const line of lines) {
    const m =
      /removing requested execution provider "([^"]+)" from session options because it is not available: ([\s\S]*)/.exec(
        line,
      );
    if (m && m[1] === provider) return m[2]!.trim();
  }
  return null;
}

/** Why ORT's WebGL backend did not start, as its own logger printed it (colour codes removed), or null. */
export function webGlInitFailure(lines: readonly string[]): string | null {
  for (const line of lines) {
    // eslint-disable-next-line no-control-regex
    const m = /Unable to initialize WebGLBackend\.\s*([\s\S]*)/.exec(line.replace(/\u001b\[[0-9;]*m/g, ''));
    if (m) return m[1]!.trim() || 'no reason given';
  }
  return null;
}

/** Which of ORT's JS backends holds a session: its WebAssembly backend (C++ providers) or onnxjs (WebGL). */
export type OrtBackendKind = 'wasm' | 'onnxjs' | null;

/**
 * Read from the session's handler, a private field (stable in 1.30: the wasm handler has a numeric `sessionId`, the
 * onnxjs one wraps an onnxjs `session`). Null when neither shape is there: the caller says it could not tell.
 */
export function backendKindOf(session: object): OrtBackendKind {
  const handler = (session as { handler?: { sessionId?: unknown; session?: unknown } }).handler;
  if (typeof handler?.sessionId === 'number') return 'wasm';
  if (handler?.session && typeof handler.session === 'object') return 'onnxjs';
  return null;
}
