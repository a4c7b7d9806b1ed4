/**
 * Whether this worker can get a WebGL2 context, and if not, the browser's own reason. Runtimes ask for contexts
 * with different attributes: tfjs asks with `failIfMajorPerformanceCaveat: true` (unless its SOFTWARE_WEBGL_ENABLED
 * flag is set), which a browser refuses where WebGL would run on a software or blocklisted renderer; ORT's WebGL
 * backend does not ask for it. The browser states why a context was refused in a `webglcontextcreationerror` event
 * on the canvas (its statusMessage), which is the only place that reason is readable.
 */

export interface WebGlAttempt {
  ok: boolean;
  /** The browser's reason for refusing the context (statusMessage), or null when it gave none. */
  refusal: string | null;
}

export interface WebGlProbe {
  /** A context as tfjs asks for it by default: refused where the renderer has a major performance caveat. */
  withCaveat: WebGlAttempt;
  /** A context with no caveat asked: what ORT's WebGL backend (and tfjs with SOFTWARE_WEBGL_ENABLED) gets. */
  withoutCaveat: WebGlAttempt;
}

function attempt(failIfMajorPerformanceCaveat: boolean): WebGlAttempt {
  if (typeof OffscreenCanvas === 'undefined') return { ok: false, refusal: 'this worker has no OffscreenCanvas' };
  const canvas = new OffscreenCanvas(1, 1);
  let refusal: string | null = null;
  // The event fires synchronously inside getContext(), so the reason is known when getContext returns.
  canvas.addEventListener('webglcontextcreationerror', (e) => {
    refusal = (e as WebGLContextEvent).statusMessage || null;
  });
  const gl = canvas.getContext('webgl2', { failIfMajorPerformanceCaveat }) as WebGL2RenderingContext | null;
  // Give the context back now: browsers cap live contexts, and the runtime is about to make its own.
  gl?.getExtension('WEBGL_lose_context')?.loseContext();
  return { ok: gl !== null, refusal };
}

export function probeWebGl(): WebGlProbe {
  return { withCaveat: attempt(true), withoutCaveat: attempt(false) };
}

/** One line for a cell's reason: what the browser said, or that it said nothing. */
export function refusalText(a: WebGlAttempt): string {
  return a.refusal
    ? `the browser refused a WebGL2 context: ${a.refusal}`
    : 'the browser gave no WebGL2 context and no reason';
}
