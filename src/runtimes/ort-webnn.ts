/**
 * ORT on WebNN: what its execution provider needs from the lab, and what the proof reads about it. Measured on
 * @sparticuz/chromium 147 with --webnn (the one browser here whose WebNN gives contexts):
 *  - WebNN builds graphs of fixed shapes, and ORT's WebNN provider takes no node with a free dim: tiny-cnn's
 *    [batch, 32, 32, 3] left every kernel on CPUExecutionProvider. The cell's own sizes fix them
 *    (freeDimensionOverrides), so the graph WebNN gets is the one the cell times.
 *  - The provider reaches WebNN through Emscripten's embind, which builds functions from strings: the worker's
 *    Content-Security-Policy must allow 'unsafe-eval' (src/lib/csp.ts). What this worker was served is read back
 *    and recorded.
 *  - An MLContext says nothing about its device here, so the proof records what ORT asked navigator.ml for.
 */
import { resolveShape } from '../lib/models/inputs.ts';
import { batchDimsOf, type ModelInfo } from '../lib/models/manifest.ts';
import type { Cell, Proof } from '../lib/schema.ts';

/** Every symbolic input dim of the model, fixed at the cell's value (batch, overrides, the model's defaults). */
export function freeDimensionOverrides(model: ModelInfo, cell: Cell): Record<string, number> {
  const fixed: Record<string, number> = {};
  for (const spec of model.inputs) {
    const shape = resolveShape(spec, batchDimsOf(model), cell.batch, cell.inputOverrides[spec.name], model.dimDefaults);
    spec.shape.forEach((dim, axis) => {
      if (typeof dim === 'string') fixed[dim] = shape[axis]!;
    });
  }
  return fixed;
}

interface MlLike {
  createContext(options?: unknown): Promise<unknown>;
}

/** The options ORT passed to navigator.ml.createContext in this worker, in order (JSON). */
const asked: string[] = [];

/** Records what ORT asks navigator.ml for; once per worker, before ORT's first session. Calls go on unchanged. */
export function watchContextRequests(): void {
  const ml = (navigator as unknown as { ml?: MlLike }).ml;
  if (!ml || Object.prototype.hasOwnProperty.call(ml, 'createContext')) return;
  const original = ml.createContext.bind(ml);
  ml.createContext = (options?: unknown) => {
    asked.push(options === undefined ? 'no options (the browser picks the device)' : JSON.stringify(options));
    return original(options);
  };
}

/**
 * The Content-Security-Policy this worker's script is served with: a dedicated worker takes its policy from its own
 * script's response (not the page's), so that header is what governs eval here. A HEAD of the worker's own URL, made
 * at proof time (after sampling), so no cold-start stage or request count includes it.
 */
async function workerPolicy(): Promise<string> {
  try {
    const res = await fetch(self.location.href, { method: 'HEAD', cache: 'no-store' });
    return res.headers.get('Content-Security-Policy') ?? 'none sent';
  } catch (e) {
    return `not read (${e instanceof Error ? e.message : String(e)})`;
  }
}

/** The WebNN cell's proof details, and the warning that its worker's policy allowed eval (when it did). */
export async function webNnProof(): Promise<{ details: Proof['details']; warning: string | null }> {
  const policy = await workerPolicy();
  const details: Proof['details'] = {
    webnnContextOptions: asked.length ? asked.join('; ') : 'ORT asked navigator.ml for no context in this worker',
    webnnDevice:
      'not exposed: an MLContext does not say which device it runs on; webnnContextOptions is what ORT asked for',
    workerCsp: policy,
  };
  const warning = /'unsafe-eval'/.test(policy)
    ? "this cell's worker ran with 'unsafe-eval' allowed (served so for a --webnn run: ORT's WebNN execution provider builds functions from strings through Emscripten's embind); the page and every other file kept the strict policy"
    : null;
  return { details, warning };
}
