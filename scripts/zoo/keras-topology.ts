/**
 * What the zoo's Keras converters read from a TF.js layers model's topology: the functional model's layers and
 * its input and output layers, plus the small config parsers they share.
 */
import { ConverterError } from './keras-to-onnx.ts';

export { ConverterError };

export interface KerasLayer {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: [string, number, number, unknown][][];
}

export interface KerasModelConfig {
  layers: KerasLayer[];
  input_layers: [string, number, number][];
  output_layers: [string, number, number][];
}

export function kerasModel(modelTopology: unknown): KerasModelConfig {
  const topo = modelTopology as { model_config?: { class_name: string; config: KerasModelConfig } };
  const mc = topo.model_config;
  if (!mc || (mc.class_name !== 'Model' && mc.class_name !== 'Functional'))
    throw new ConverterError(`only functional Keras models are converted, got ${mc?.class_name ?? 'no model_config'}`);
  return mc.config;
}

export function pair(v: unknown, label: string): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number'))
    return [v[0] as number, v[1] as number];
  throw new ConverterError(`${label}: expected a number or a pair, got ${JSON.stringify(v)}`);
}

/** Output size along one axis for Keras 'same' (TF's rule: ceil(n / s)) or 'valid' padding. */
export function convOut(n: number | null, k: number, s: number, d: number, padding: string): number | null {
  if (n === null) return null;
  if (padding === 'same') return Math.ceil(n / s);
  return Math.floor((n - ((k - 1) * d + 1)) / s) + 1;
}
