/**
 * A .tflite model's inputs and outputs, read from the file without a runtime: a small FlatBuffers reader for just
 * the fields needed (TFLite schema.fbs, version 3). The names come from the first SignatureDef when the file has
 * one (what LiteRT's signature API shows), else from subgraph 0's input and output tensors. Pure (bytes in).
 *
 * Every read is bounds-checked, so a truncated or foreign file ends in a ModelFileError that says so, never in an
 * out-of-range read.
 */
import type { Dim, Dtype, TensorSpec } from '../schema.ts';
import { ModelFileError, type Signature } from './model-file.ts';

// Browsers and Node both have TextDecoder; the pure-core tsconfig has no DOM or Node types to declare it.
declare const TextDecoder: new () => { decode(bytes: Uint8Array): string };

/** TFLite TensorType -> the lab's dtypes (the ones it can make values for). */
export const TFLITE_DTYPES: Record<number, Dtype> = {
  0: 'float32',
  1: 'float16',
  2: 'int32',
  3: 'uint8',
  4: 'int64',
  6: 'bool',
  9: 'int8',
};
const TFLITE_TYPE_NAMES: Record<number, string> = {
  5: 'string',
  7: 'int16',
  8: 'complex64',
  10: 'float64',
  11: 'complex128',
  12: 'uint64',
  13: 'resource',
  14: 'variant',
  15: 'uint32',
  16: 'uint16',
  17: 'int4',
  18: 'bfloat16',
};

const SCHEMA_VERSION = 3;

/** Bounds-checked little-endian reads over the file, and the FlatBuffers table/vector/string layout on top. */
class Reader {
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private check(pos: number, size: number, what: string): void {
    if (pos < 0 || pos + size > this.bytes.length)
      throw new ModelFileError(
        `truncated or damaged .tflite file: ${what} at byte ${pos} lies past the end (${this.bytes.length} bytes)`,
      );
  }

  u8(pos: number, what: string): number {
    this.check(pos, 1, what);
    return this.view.getUint8(pos);
  }
  i8(pos: number, what: string): number {
    this.check(pos, 1, what);
    return this.view.getInt8(pos);
  }
  u16(pos: number, what: string): number {
    this.check(pos, 2, what);
    return this.view.getUint16(pos, true);
  }
  u32(pos: number, what: string): number {
    this.check(pos, 4, what);
    return this.view.getUint32(pos, true);
  }
  i32(pos: number, what: string): number {
    this.check(pos, 4, what);
    return this.view.getInt32(pos, true);
  }

  /** Where field `id` of the table at `table` lies, or null when the table leaves it out (its default). */
  field(table: number, id: number, what: string): number | null {
    const vtable = table - this.i32(table, `${what}'s vtable offset`);
    const size = this.u16(vtable, `${what}'s vtable`);
    if (4 + 2 * id >= size) return null;
    const off = this.u16(vtable + 4 + 2 * id, `${what}'s vtable`);
    return off === 0 ? null : table + off;
  }

  /** Follows the uoffset stored at `pos` (to a table, vector or string). */
  deref(pos: number, what: string): number {
    return pos + this.u32(pos, what);
  }

  /** The table, vector or string that field `id` points to, or null when absent. */
  child(table: number, id: number, what: string): number | null {
    const at = this.field(table, id, what);
    return at === null ? null : this.deref(at, what);
  }

  /** A vector's element positions (elements of `size` bytes), checked to lie inside the file. */
  vector(pos: number, size: number, what: string): number[] {
    const n = this.u32(pos, `${what}'s length`);
    this.check(pos + 4, n * size, what);
    return Array.from({ length: n }, (_, i) => pos + 4 + i * size);
  }

  /** The tables a vector of tables points to. */
  tables(pos: number | null, what: string): number[] {
    return pos === null ? [] : this.vector(pos, 4, what).map((at) => this.deref(at, what));
  }

  ints(pos: number | null, what: string): number[] {
    return pos === null ? [] : this.vector(pos, 4, what).map((at) => this.i32(at, what));
  }

  string(pos: number | null, what: string): string {
    if (pos === null) return '';
    const n = this.u32(pos, `${what}'s length`);
    this.check(pos + 4, n + 1, what); // with its NUL terminator
    return new TextDecoder().decode(this.bytes.subarray(pos + 4, pos + 4 + n));
  }
}

/** The model's root table, after the checks that tell a .tflite file from anything else. */
function modelRoot(r: Reader, bytes: Uint8Array): number {
  if (bytes.length < 8)
    throw new ModelFileError(`not a .tflite model: ${bytes.length} bytes is too short for a FlatBuffers file`);
  const ident = String.fromCharCode(...bytes.subarray(4, 8));
  if (ident !== 'TFL3') {
    const shown = /^[\x20-\x7e]{4}$/.test(ident) ? `'${ident}'` : `bytes ${[...bytes.subarray(4, 8)].join(' ')}`;
    throw new ModelFileError(`not a .tflite model: its FlatBuffers file identifier is ${shown}, not 'TFL3'`);
  }
  const root = r.u32(0, 'the root table offset');
  if (root < 8 || root >= bytes.length)
    throw new ModelFileError(
      `truncated or damaged .tflite file: the root table offset (${root}) lies outside the file (${bytes.length} bytes)`,
    );
  const version = r.field(root, 0, 'the model') === null ? 0 : r.u32(r.field(root, 0, 'the model')!, 'the version');
  if (version !== SCHEMA_VERSION)
    throw new ModelFileError(
      `a .tflite file of schema version ${version}; the lab reads version ${SCHEMA_VERSION} (any current converter writes it)`,
    );
  return root;
}

interface Named {
  name: string;
  tensor: number;
}

function tensorSpec(r: Reader, tensors: number[], entry: Named, role: 'input' | 'output'): TensorSpec {
  const t = tensors[entry.tensor];
  if (t === undefined)
    throw new ModelFileError(`${role} '${entry.name}' names tensor ${entry.tensor}, which the subgraph lacks`);
  const what = `${role} '${entry.name}'`;
  const typeAt = r.field(t, 1, what);
  const type = typeAt === null ? 0 : r.i8(typeAt, `${what}'s type`);
  const dtype = TFLITE_DTYPES[type];
  if (!dtype) {
    const name = TFLITE_TYPE_NAMES[type] ?? `type ${type}`;
    throw new ModelFileError(
      `${what} is ${name}; the lab handles tensors of ${Object.values(TFLITE_DTYPES).join(', ')}`,
    );
  }
  const shape = r.ints(r.child(t, 0, what), `${what}'s shape`);
  const signature = r.ints(r.child(t, 7, what), `${what}'s shape_signature`);
  // shape_signature has -1 where a size is free; shape then holds 1 there. A free first axis is the batch.
  const dims = signature.length === shape.length ? signature : shape;
  const out: Dim[] = dims.map((d, i) => (d >= 0 ? d : i === 0 ? 'batch' : `${entry.name}_d${i}`));
  return { name: entry.name, dtype, shape: out };
}

/** The first SignatureDef's named inputs and outputs, or null when the file has none. */
function fromSignatureDef(r: Reader, root: number): { subgraph: number; inputs: Named[]; outputs: Named[] } | null {
  const defs = r.tables(r.child(root, 7, 'the model'), 'signature_defs');
  const def = defs[0];
  if (def === undefined) return null;
  const maps = (id: number, what: string): Named[] =>
    r.tables(r.child(def, id, 'the signature'), what).map((m) => ({
      name: r.string(r.child(m, 0, what), `${what} name`),
      tensor: r.field(m, 1, what) === null ? 0 : r.u32(r.field(m, 1, what)!, `${what} tensor index`),
    }));
  // Read though unused: every part of the file that is read is bounds-checked, so a cut shows wherever it falls.
  r.string(r.child(def, 2, 'the signature'), 'the signature key');
  const subgraphAt = r.field(def, 4, 'the signature');
  return {
    subgraph: subgraphAt === null ? 0 : r.u32(subgraphAt, 'the signature subgraph index'),
    inputs: maps(0, 'signature inputs'),
    outputs: maps(1, 'signature outputs'),
  };
}

/** The weights lie at the end of a file: a cut-off download shows as a buffer that runs past the end. */
function checkBuffers(r: Reader, root: number): void {
  for (const b of r.tables(r.child(root, 4, 'the model'), 'buffers')) {
    const data = r.child(b, 0, 'a buffer');
    if (data !== null) r.vector(data, 1, 'a weight buffer');
  }
}

export function readTfliteSignature(bytes: Uint8Array): Signature {
  const r = new Reader(bytes);
  const root = modelRoot(r, bytes);
  const subgraphs = r.tables(r.child(root, 2, 'the model'), 'subgraphs');
  const def = fromSignatureDef(r, root);
  const subgraph = subgraphs[def?.subgraph ?? 0];
  if (subgraph === undefined) throw new ModelFileError('the .tflite model has no subgraph to run');
  const tensors = r.tables(r.child(subgraph, 0, 'the subgraph'), 'tensors');
  const byIndex = (id: number, what: string): Named[] =>
    r.ints(r.child(subgraph, id, 'the subgraph'), what).map((tensor) => ({
      tensor,
      name: (tensors[tensor] && r.string(r.child(tensors[tensor]!, 3, what), what)) || `tensor_${tensor}`,
    }));
  checkBuffers(r, root);
  const inputs = def?.inputs ?? byIndex(1, 'subgraph inputs');
  const outputs = def?.outputs ?? byIndex(2, 'subgraph outputs');
  if (inputs.length === 0) throw new ModelFileError('the .tflite model has no inputs to feed');
  if (outputs.length === 0) throw new ModelFileError('the .tflite model has no outputs');
  return {
    inputs: inputs.map((i) => tensorSpec(r, tensors, i, 'input')),
    outputs: outputs.map((o) => tensorSpec(r, tensors, o, 'output')),
  };
}
