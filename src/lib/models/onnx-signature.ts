/**
 * An ONNX graph's inputs and outputs, read from the file without a runtime: a small protobuf reader for just the
 * fields needed. Pure (bytes in).
 */
import type { Dim, Dtype, TensorSpec } from '../schema.ts';
import { ModelFileError, type Signature } from './model-file.ts';

// Browsers and Node both have TextDecoder; the pure-core tsconfig has no DOM or Node types to declare it.
declare const TextDecoder: new () => { decode(bytes: Uint8Array): string };

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
export const ONNX_DTYPES: Record<number, Dtype> = {
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
