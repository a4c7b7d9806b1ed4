/**
 * A TF.js model.json's inputs (its input layers or its graph signature), with its weight shards checked. Pure (JSON
 * in).
 */
import { errorMessage } from '../errors.ts';
import type { Dim, Dtype, TensorSpec } from '../schema.ts';
import { ModelFileError, type Signature } from './model-file.ts';

/* ---------- TF.js model.json ---------- */

interface WeightEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string };
}
interface ModelJson {
  format?: string;
  modelTopology?: unknown;
  weightsManifest?: { paths: string[]; weights: WeightEntry[] }[];
  signature?: {
    inputs?: Record<
      string,
      { name?: string; dtype?: string; tensorShape?: { dim?: { size?: string | number }[]; unknownRank?: boolean } }
    >;
    outputs?: Record<string, { name?: string; dtype?: string; tensorShape?: { dim?: { size?: string | number }[] } }>;
  };
}

const BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  float16: 2,
  complex64: 8,
};
const TF_DTYPES: Record<string, Dtype> = {
  DT_FLOAT: 'float32',
  DT_INT32: 'int32',
  DT_BOOL: 'bool',
  DT_UINT8: 'uint8',
  DT_INT8: 'int8',
  DT_INT64: 'int64',
  float32: 'float32',
  int32: 'int32',
  bool: 'bool',
};

/** Parses model.json text; names what is wrong when it is not a TF.js model. */
export function parseModelJson(textJson: string): ModelJson & { kind: 'tfjs-layers' | 'tfjs-graph' } {
  let json: ModelJson;
  try {
    json = JSON.parse(textJson) as ModelJson;
  } catch (e) {
    throw new ModelFileError(`model.json is not JSON: ${errorMessage(e)}`);
  }
  if (typeof json !== 'object' || json === null || !json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new ModelFileError('model.json has no modelTopology and weightsManifest: not a TF.js model');
  }
  const topo = json.modelTopology as { node?: unknown; class_name?: unknown; model_config?: unknown };
  const kind = json.format === 'graph-model' || Array.isArray(topo.node) ? 'tfjs-graph' : 'tfjs-layers';
  return { ...json, kind };
}

/** The weight shards model.json names, in order, with the bytes each must hold (from the weight specs). */
export function expectedShards(json: ModelJson): { path: string; group: number }[] {
  return (json.weightsManifest ?? []).flatMap((g, group) => g.paths.map((path) => ({ path, group })));
}

/** Bytes every weights group needs, from its specs (quantized weights count their stored dtype). */
export function groupBytes(json: ModelJson): number[] {
  return (json.weightsManifest ?? []).map((g) =>
    g.weights.reduce((sum, w) => {
      const dtype = w.quantization?.dtype ?? w.dtype;
      const size = BYTES[dtype];
      if (size === undefined)
        throw new ModelFileError(`weight '${w.name}' has dtype ${dtype}, which the lab can't size`);
      return sum + size * w.shape.reduce((a, b) => a * b, 1);
    }, 0),
  );
}

/**
 * Checks the shards a person gave against model.json: every named shard present, none extra, and each group's
 * shards adding up to what its weight specs need. `given` maps a shard's file name to its size.
 */
export function checkShards(json: ModelJson, given: ReadonlyMap<string, number>): void {
  const expected = expectedShards(json);
  const base = (p: string) => p.split('/').pop()!;
  const missing = expected.filter((s) => !given.has(base(s.path))).map((s) => s.path);
  if (missing.length)
    throw new ModelFileError(`model.json names weight shard(s) that were not given: ${missing.join(', ')}`);
  const names = new Set(expected.map((s) => base(s.path)));
  const extra = [...given.keys()].filter((n) => !names.has(n));
  if (extra.length)
    throw new ModelFileError(`file(s) given that model.json does not name as shards: ${extra.join(', ')}`);
  const need = groupBytes(json);
  need.forEach((bytes, group) => {
    const have = expected.filter((s) => s.group === group).reduce((a, s) => a + (given.get(base(s.path)) ?? 0), 0);
    if (have !== bytes)
      throw new ModelFileError(
        `weight shards of group ${group} hold ${have} bytes, model.json's specs need ${bytes}: a shard is truncated, padded or from another model`,
      );
  });
}

function layersInputs(topology: unknown): TensorSpec[] {
  const t = topology as { model_config?: unknown; class_name?: string; config?: unknown };
  const model = (t.model_config ?? t) as {
    class_name?: string;
    config?: { layers?: unknown[]; input_layers?: unknown[] } | unknown[];
  };
  const cfg = model.config;
  const layers = (Array.isArray(cfg) ? cfg : (cfg?.layers ?? [])) as {
    class_name?: string;
    name?: string;
    config?: { name?: string; batch_input_shape?: (number | null)[]; batch_shape?: (number | null)[]; dtype?: string };
  }[];
  const inputLayers = layers.filter((l) => l.class_name === 'InputLayer');
  const sources = inputLayers.length ? inputLayers : layers.slice(0, 1);
  const specs = sources.map((l) => {
    const c = l.config ?? {};
    const shape = c.batch_input_shape ?? c.batch_shape;
    if (!shape)
      throw new ModelFileError(
        `layer '${l.name ?? c.name ?? '?'}' of model.json gives no batch_input_shape: the lab can't tell the input's shape`,
      );
    const name = c.name ?? l.name ?? 'input';
    const dtype = TF_DTYPES[c.dtype ?? 'float32'];
    if (!dtype) throw new ModelFileError(`input '${name}' has dtype ${c.dtype}, which the lab can't make`);
    return {
      name,
      dtype,
      shape: shape.map((d, i): Dim => (d === null || d < 0 ? (i === 0 ? 'batch' : `${name}_d${i}`) : d)),
    };
  });
  if (!specs.length) throw new ModelFileError('model.json lists no layers');
  return specs;
}

function graphInputs(json: ModelJson): TensorSpec[] {
  const sig = json.signature?.inputs;
  if (sig && Object.keys(sig).length) {
    return Object.entries(sig).map(([key, v]) => {
      const name = (v.name ?? key).replace(/:0$/, '');
      const dtype = TF_DTYPES[v.dtype ?? 'DT_FLOAT'];
      if (!dtype) throw new ModelFileError(`input '${name}' has dtype ${v.dtype}, which the lab can't make`);
      const dims = v.tensorShape?.dim ?? [];
      return {
        name,
        dtype,
        shape: dims.map((d, i): Dim => (Number(d.size) > 0 ? Number(d.size) : i === 0 ? 'batch' : `${name}_d${i}`)),
      };
    });
  }
  const nodes = (
    (
      json.modelTopology as {
        node?: {
          name: string;
          op: string;
          attr?: { dtype?: { type?: string }; shape?: { shape?: { dim?: { size?: string }[] } } };
        }[];
      }
    ).node ?? []
  ).filter((n) => n.op === 'Placeholder');
  if (!nodes.length)
    throw new ModelFileError('the TF.js graph model has no signature and no Placeholder nodes: no inputs to feed');
  return nodes.map((n) => {
    const dtype = TF_DTYPES[n.attr?.dtype?.type ?? 'DT_FLOAT'];
    if (!dtype)
      throw new ModelFileError(`input '${n.name}' has dtype ${n.attr?.dtype?.type}, which the lab can't make`);
    const dims = n.attr?.shape?.shape?.dim ?? [];
    return {
      name: n.name,
      dtype,
      shape: dims.map((d, i): Dim => (Number(d.size) > 0 ? Number(d.size) : i === 0 ? 'batch' : `${n.name}_d${i}`)),
    };
  });
}

export function readTfjsSignature(json: ModelJson & { kind: 'tfjs-layers' | 'tfjs-graph' }): Signature {
  const inputs = json.kind === 'tfjs-layers' ? layersInputs(json.modelTopology) : graphInputs(json);
  // Outputs are named when the runtime reads them back; the manifest only needs a placeholder for each.
  const outs = json.signature?.outputs
    ? Object.entries(json.signature.outputs).map(([k, v]) => (v.name ?? k).replace(/:0$/, ''))
    : ['output'];
  return { inputs, outputs: outs.map((name) => ({ name, dtype: 'float32' as const, shape: [] })) };
}
