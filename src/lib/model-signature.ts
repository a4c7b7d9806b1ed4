/**
 * What a person's own model takes and gives, read from its files without a runtime: the ONNX graph's inputs and
 * outputs (a small protobuf reader for just the fields needed), or a TF.js model.json's input layers or signature,
 * with its weight shards checked. Pure (bytes and JSON in), so the CLI and the page share it.
 */
import type { ModelFormatEntry, ModelInfo } from './manifest.ts';
import type { Dim, Dtype, TensorSpec } from './schema.ts';

// Browsers and Node both have TextDecoder; the pure-core tsconfig has no DOM or Node types to declare it.
declare const TextDecoder: new () => { decode(bytes: Uint8Array): string };

export class ModelFileError extends Error {
  override name = 'ModelFileError';
}

/* ---------- ONNX: protobuf wire format, read field by field ---------- */

interface Field {
  no: number;
  wire: number;
  /** varint value (wire 0) */
  int: bigint;
  /** payload (wire 2) */
  bytes: Uint8Array;
}

function* fields(buf: Uint8Array): Generator<Field> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new ModelFileError('not an ONNX file: the protobuf data ends inside a number');
      const b = buf[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
      if (shift > 70n) throw new ModelFileError('not an ONNX file: malformed protobuf number');
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    if (no === 0) throw new ModelFileError('not an ONNX file: protobuf field number 0');
    if (wire === 0) yield { no, wire, int: varint(), bytes: new Uint8Array(0) };
    else if (wire === 2) {
      const len = Number(varint());
      if (pos + len > buf.length)
        throw new ModelFileError('not an ONNX file (or a truncated one): a protobuf field runs past the end');
      yield { no, wire, int: 0n, bytes: buf.subarray(pos, pos + len) };
      pos += len;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw new ModelFileError(`not an ONNX file: protobuf wire type ${wire}`);
  }
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** ONNX TensorProto.DataType -> the lab's dtypes (the ones it can make values for). */
const ONNX_DTYPES: Record<number, Dtype> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  6: 'int32',
  7: 'int64',
  9: 'bool',
  10: 'float16',
};
const ONNX_TYPE_NAMES: Record<number, string> = {
  4: 'uint16',
  5: 'int16',
  8: 'string',
  11: 'double',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
};

interface RawValueInfo {
  name: string;
  elemType: number;
  dims: (number | string | null)[] | null;
}

function valueInfo(bytes: Uint8Array): RawValueInfo {
  let name = '';
  let elemType = 0;
  let dims: RawValueInfo['dims'] = null;
  for (const f of fields(bytes)) {
    if (f.no === 1 && f.wire === 2) name = text(f.bytes);
    if (f.no === 2 && f.wire === 2) {
      for (const t of fields(f.bytes)) {
        if (t.no !== 1 || t.wire !== 2) continue; // only tensor types
        for (const tt of fields(t.bytes)) {
          if (tt.no === 1 && tt.wire === 0) elemType = Number(tt.int);
          if (tt.no === 2 && tt.wire === 2) {
            dims = [];
            for (const d of fields(tt.bytes)) {
              if (d.no !== 1 || d.wire !== 2) continue;
              let dim: number | string | null = null;
              for (const x of fields(d.bytes)) {
                if (x.no === 1 && x.wire === 0) dim = Number(x.int);
                if (x.no === 2 && x.wire === 2) dim = text(x.bytes);
              }
              dims.push(dim);
            }
          }
        }
      }
    }
  }
  return { name, elemType, dims };
}

export interface Signature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

function toSpec(v: RawValueInfo, role: 'input' | 'output'): TensorSpec {
  const dtype = ONNX_DTYPES[v.elemType];
  if (!dtype && role === 'input') {
    const what =
      ONNX_TYPE_NAMES[v.elemType] ??
      (v.elemType === 0 ? 'not a tensor (sequence, map or unknown type)' : `type ${v.elemType}`);
    throw new ModelFileError(
      `input '${v.name}' is ${what}; the lab can make inputs of ${Object.values(ONNX_DTYPES).join(', ')}`,
    );
  }
  if (v.dims === null && role === 'input')
    throw new ModelFileError(`input '${v.name}' has no shape in the graph; the lab needs its rank`);
  // An unnamed unknown dim becomes a symbolic one, so a value can be given for it (--dim).
  const shape: Dim[] = (v.dims ?? []).map((d, i) =>
    typeof d === 'string' && d ? d : typeof d === 'number' && d > 0 ? d : `${v.name}_d${i}`,
  );
  return { name: v.name, dtype: dtype ?? 'float32', shape };
}

export function readOnnxSignature(bytes: Uint8Array): Signature {
  let graph: Uint8Array | null = null;
  let irVersion = 0;
  for (const f of fields(bytes)) {
    if (f.no === 1 && f.wire === 0) irVersion = Number(f.int);
    if (f.no === 7 && f.wire === 2) graph = f.bytes;
  }
  if (!graph || irVersion === 0) throw new ModelFileError('not an ONNX model: no ir_version and graph in the file');
  const inits = new Set<string>();
  const ins: RawValueInfo[] = [];
  const outs: RawValueInfo[] = [];
  for (const f of fields(graph)) {
    if (f.wire !== 2) continue;
    if (f.no === 5) for (const t of fields(f.bytes)) if (t.no === 8 && t.wire === 2) inits.add(text(t.bytes));
    if (f.no === 11) ins.push(valueInfo(f.bytes));
    if (f.no === 12) outs.push(valueInfo(f.bytes));
  }
  // Older exporters list initializers (weights) among the inputs: those are not fed.
  const inputs = ins.filter((i) => !inits.has(i.name)).map((v) => toSpec(v, 'input'));
  if (inputs.length === 0) throw new ModelFileError('the ONNX graph has no inputs to feed');
  if (outs.length === 0) throw new ModelFileError('the ONNX graph has no outputs');
  return { inputs, outputs: outs.map((v) => toSpec(v, 'output')) };
}

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
    throw new ModelFileError(`model.json is not JSON: ${e instanceof Error ? e.message : String(e)}`);
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

/* ---------- a ModelInfo for a person's own model ---------- */

/** A model id from a file name: lower-case letters, digits and dashes ('My_Model.onnx' -> 'my-model'). */
export function modelIdFrom(fileName: string, taken: ReadonlySet<string> = new Set()): string {
  const stem = fileName.replace(/\.(onnx|json)$/i, '').replace(/^model$/i, 'model');
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
export function notAModel(name: string, bytes: Uint8Array, expect: 'onnx' | 'json'): string | null {
  if (bytes.byteLength === 0) return `${name} is empty (0 bytes)`;
  const head = new TextDecoder().decode(bytes.subarray(0, 256)).trimStart().toLowerCase();
  if (head.startsWith('<!doctype html') || head.startsWith('<html') || head.startsWith('<head'))
    return `${name} is an HTML page, not a model (a download that saved an error or sign-in page?)`;
  if (expect === 'onnx' && (head.startsWith('{') || head.startsWith('[')))
    return `${name} is JSON, not an ONNX model (a TF.js model.json goes with its .bin shards)`;
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
