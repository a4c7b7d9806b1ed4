/**
 * A small FlatBuffers encoder, written for the zoo's .tflite files (no flatbuffers package in the project's own
 * dependencies). The caller describes the object tree (tables with fields by id, strings, vectors); `encode` lays it
 * out front to back: a table's vtable, then the table, then its children, each reference patched to a forward
 * uoffset once its target is placed. Scalars are aligned to their size from the start of the buffer, and byte
 * vectors can ask for more (TFLite wants weight buffers 16-byte aligned).
 *
 * Wire format facts used (flatbuffers.dev, "internals"): a buffer starts with a uoffset to the root table, then an
 * optional 4-byte file identifier; a table starts with an soffset to its vtable (vtable = table - soffset); a vtable
 * holds its own size, the table's inline size and one u16 offset per field id (0 = absent); vectors and strings
 * are a u32 length then the elements (strings NUL-terminated); a union is two fields, its type (u8) then its value.
 */

export type FbScalar = 'bool' | 'i8' | 'u8' | 'i16' | 'u16' | 'i32' | 'u32' | 'f32' | 'i64' | 'u64';

export interface FbTable {
  t: 'table';
  /** Index = field id (union types take the id before their value); undefined = absent (the reader's default). */
  fields: (FbField | undefined)[];
}
export interface FbString {
  t: 'string';
  value: string;
}
export interface FbScalarVector {
  t: 'vector';
  elem: FbScalar;
  values: ArrayLike<number>;
  /** Alignment of the first element, when more than the element size is wanted. */
  align?: number;
}
export interface FbRefVector {
  t: 'refs';
  items: FbRef[];
}
export type FbRef = FbTable | FbString | FbScalarVector | FbRefVector;
export type FbField = { kind: FbScalar; value: number } | { kind: 'ref'; value: FbRef };

const SIZE: Record<FbScalar, number> = {
  bool: 1,
  i8: 1,
  u8: 1,
  i16: 2,
  u16: 2,
  i32: 4,
  u32: 4,
  f32: 4,
  i64: 8,
  u64: 8,
};

/* ---------- helpers that keep the caller's tree short ---------- */

export const table = (fields: (FbField | undefined)[]): FbTable => ({ t: 'table', fields });
export const str = (value: string): FbString => ({ t: 'string', value });
export const vec = (elem: FbScalar, values: ArrayLike<number>, align?: number): FbScalarVector => ({
  t: 'vector',
  elem,
  values,
  ...(align ? { align } : {}),
});
export const refs = (items: FbRef[]): FbRefVector => ({ t: 'refs', items });
export const ref = (value: FbRef): FbField => ({ kind: 'ref', value });
export const scalar = (kind: FbScalar, value: number): FbField => ({ kind, value });

class Out {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  pos = 0;

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf);
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Zero bytes until (pos + ahead) is a multiple of `align`. */
  pad(align: number, ahead = 0): void {
    const n = (align - ((this.pos + ahead) % align)) % align;
    this.room(n);
    this.pos += n; // the buffer is zero-filled already
  }

  /** Appends a scalar, or overwrites one at `at` (a patched offset). */
  scalar(kind: FbScalar, value: number, at?: number): void {
    const append = at === undefined;
    if (append) this.room(SIZE[kind]);
    const v = this.view;
    at ??= this.pos;
    switch (kind) {
      case 'bool':
      case 'u8':
        v.setUint8(at, value);
        break;
      case 'i8':
        v.setInt8(at, value);
        break;
      case 'i16':
        v.setInt16(at, value, true);
        break;
      case 'u16':
        v.setUint16(at, value, true);
        break;
      case 'i32':
        v.setInt32(at, value, true);
        break;
      case 'u32':
        v.setUint32(at, value, true);
        break;
      case 'f32':
        v.setFloat32(at, value, true);
        break;
      case 'i64':
        v.setBigInt64(at, BigInt(value), true);
        break;
      case 'u64':
        v.setBigUint64(at, BigInt(value), true);
        break;
    }
    if (append) this.pos += SIZE[kind];
  }

  bytes(data: Uint8Array): void {
    this.room(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

type Pending = { at: number; target: FbRef };

/** Places a table: vtable first, then the inline fields (largest first, so each lands aligned). */
function placeTable(out: Out, t: FbTable, pending: Pending[]): number {
  const present = t.fields
    .map((f, id) => (f ? { id, f, size: f.kind === 'ref' ? 4 : SIZE[f.kind] } : null))
    .filter((x): x is { id: number; f: FbField; size: number } => x !== null)
    .sort((a, b) => b.size - a.size || a.id - b.id);
  const slots = t.fields.length;
  const vtableBytes = 4 + 2 * slots;
  const align = present.some((p) => p.size === 8) ? 8 : 4;
  const offsets = new Array<number>(slots).fill(0);
  let cursor = 4; // after the soffset
  for (const p of present) {
    cursor += (p.size - (cursor % p.size)) % p.size;
    offsets[p.id] = cursor;
    cursor += p.size;
  }
  const inlineSize = cursor;
  out.pad(align, vtableBytes);
  const vtableAt = out.pos;
  out.scalar('u16', vtableBytes);
  out.scalar('u16', inlineSize);
  for (const o of offsets) out.scalar('u16', o);
  const tableAt = out.pos;
  out.scalar('i32', tableAt - vtableAt);
  for (const p of present) {
    out.pad(p.size);
    if (out.pos - tableAt !== offsets[p.id]) throw new Error('flatbuffer layout: a field landed off its slot');
    if (p.f.kind === 'ref') {
      pending.push({ at: out.pos, target: p.f.value });
      out.scalar('u32', 0);
    } else out.scalar(p.f.kind, p.f.value);
  }
  return tableAt;
}

/** Places one object (its children are queued in `pending`) and returns where offsets to it point. */
function place(out: Out, r: FbRef, pending: Pending[]): number {
  switch (r.t) {
    case 'table':
      return placeTable(out, r, pending);
    case 'string': {
      const bytes = new TextEncoder().encode(r.value);
      out.pad(4);
      const at = out.pos;
      out.scalar('u32', bytes.length);
      out.bytes(bytes);
      out.scalar('u8', 0);
      return at;
    }
    case 'vector': {
      const size = SIZE[r.elem];
      out.pad(Math.max(size, r.align ?? 1, 4), 4);
      const at = out.pos;
      out.scalar('u32', r.values.length);
      if (r.elem === 'u8' && r.values instanceof Uint8Array) out.bytes(r.values);
      else for (let i = 0; i < r.values.length; i++) out.scalar(r.elem, r.values[i]!);
      return at;
    }
    case 'refs': {
      out.pad(4);
      const at = out.pos;
      out.scalar('u32', r.items.length);
      for (const item of r.items) {
        pending.push({ at: out.pos, target: item });
        out.scalar('u32', 0);
      }
      return at;
    }
  }
}

/**
 * Encodes a tree under `root`, with a 4-character file identifier. Children follow their parent (depth first), so
 * every uoffset points forward, as the format requires.
 */
export function encode(root: FbTable, identifier: string): Uint8Array {
  if (identifier.length !== 4) throw new Error(`a file identifier has 4 characters, not '${identifier}'`);
  const out = new Out();
  out.scalar('u32', 0);
  out.bytes(new TextEncoder().encode(identifier));
  const rootAt = drain(out, root);
  out.scalar('u32', rootAt, 0);
  return out.result();
}

function drain(out: Out, root: FbRef): number {
  const rootPending: Pending[] = [];
  const rootAt = place(out, root, rootPending);
  // Depth first: each object's children right after it, in field order.
  const stack: Pending[][] = [rootPending];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const next = top.shift();
    if (!next) {
      stack.pop();
      continue;
    }
    const children: Pending[] = [];
    const at = place(out, next.target, children);
    out.scalar('u32', at - next.at, next.at);
    stack.push(children);
  }
  return rootAt;
}
