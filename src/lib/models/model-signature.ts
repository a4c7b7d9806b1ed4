/**
 * What a person's own model takes and gives, read from its files without a runtime (the ONNX reader is
 * onnx-signature.ts, the TF.js one tfjs-signature.ts, the TFLite one tflite-signature.ts), and the ModelInfo made from it: id, batch dim, the dims that
 * follow the batch. Pure (bytes and JSON in), so the CLI and the page share it.
 */
import type { ModelFormatEntry, ModelInfo } from './manifest.ts';
import type { Signature } from './model-file.ts';
import type { TensorSpec } from '../schema.ts';

// Browsers and Node both have TextDecoder; the pure-core tsconfig has no DOM or Node types to declare it.
declare const TextDecoder: new () => { decode(bytes: Uint8Array): string };

/* ---------- a ModelInfo for a person's own model ---------- */

/** A model id from a file name: lower-case letters, digits and dashes ('My_Model.onnx' -> 'my-model'). */
export function modelIdFrom(fileName: string, taken: ReadonlySet<string> = new Set()): string {
  const stem = fileName.replace(/\.(onnx|json|tflite)$/i, '').replace(/^model$/i, 'model');
  let id =
    stem
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'model';
  if (!/^[a-z0-9]/.test(id)) id = `m-${id}`;
  let unique = id;
  for (let i = 2; taken.has(unique); i++) unique = `${id}-${i}`;
  return unique;
}

/** The symbolic dim to fill with the batch size: the first input's first dim, when it is symbolic. */
export function guessBatchDim(inputs: readonly TensorSpec[]): string | null {
  const first = inputs[0]?.shape[0];
  return typeof first === 'string' ? first : null;
}

/**
 * What a file plainly is when it is not a model, named for the person: empty, an HTML page (a download that saved
 * an error or sign-in page), JSON where ONNX was expected. Null when nothing rules it out.
 */
export function notAModel(name: string, bytes: Uint8Array, expect: 'onnx' | 'json' | 'tflite'): string | null {
  if (bytes.byteLength === 0) return `${name} is empty (0 bytes)`;
  const head = new TextDecoder().decode(bytes.subarray(0, 256)).trimStart().toLowerCase();
  if (head.startsWith('<!doctype html') || head.startsWith('<html') || head.startsWith('<head'))
    return `${name} is an HTML page, not a model (a download that saved an error or sign-in page?)`;
  if (expect === 'onnx' && (head.startsWith('{') || head.startsWith('[')))
    return `${name} is JSON, not an ONNX model (a TF.js model.json goes with its .bin shards)`;
  if (expect === 'tflite' && (head.startsWith('{') || head.startsWith('[')))
    return `${name} is JSON, not a .tflite model (a TF.js model.json goes with its .bin shards)`;
  return null;
}

/**
 * Symbols besides the batch dim that should take the batch size: names that say batch (`batch_size`, `N`, `bs`),
 * and, when the batch dim is an unnamed first axis (`input_d0`), every other input's unnamed first axis.
 */
export function guessBatchFollowers(inputs: readonly TensorSpec[], batchDim: string | null): string[] {
  if (batchDim === null) return [];
  const out = new Set<string>();
  for (const input of inputs) {
    input.shape.forEach((d, axis) => {
      if (typeof d !== 'string' || d === batchDim) return;
      if (/batch|^(n|b|bs|N|B)$/i.test(d) || (/_d0$/.test(batchDim) && axis === 0 && d === `${input.name}_d0`))
        out.add(d);
    });
  }
  return [...out];
}

export function ownModelInfo(
  id: string,
  title: string,
  signature: Signature,
  format: ModelFormatEntry,
  source: string,
): ModelInfo {
  return {
    id,
    title,
    task: 'other',
    description: `${source} (your own model)`,
    inputs: signature.inputs,
    outputs: signature.outputs,
    batchDim: guessBatchDim(signature.inputs),
    batchFollowers: guessBatchFollowers(signature.inputs, guessBatchDim(signature.inputs)),
    dimDefaults: {},
    valueDefaults: {},
    formats: [format],
    provenance: {
      package: 'local file',
      version: '',
      license: 'unknown',
      files: [source],
      notes: 'provided by the user; never leaves the device',
    },
  };
}
