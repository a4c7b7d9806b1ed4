/**
 * A generic protobuf codec that keeps every field it doesn't know: a message is its list of fields in file order,
 * each with its raw payload, so rewriting an ONNX file touches only the fields a converter changes (a generated
 * schema such as onnx-proto's drops fields newer than itself, e.g. a newer ONNX's additions). Pure (bytes in/out).
 */

// Browsers and Node both have these; the pure-core tsconfig has no DOM or Node types to declare them.
declare const TextDecoder: new () => { decode(bytes: Uint8Array): string };
declare const TextEncoder: new () => { encode(s: string): Uint8Array };

/** One field: varints (wire 0) as bigint; fixed64/fixed32 (wire 1/5) and length-delimited (wire 2) as bytes. */
export type Field = { no: number; wire: 0; int: bigint } | { no: number; wire: 1 | 2 | 5; bytes: Uint8Array };
export type Message = Field[];

export class ProtoError extends Error {}

export function decode(buf: Uint8Array): Message {
  const out: Message = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new ProtoError('protobuf data ends inside a number');
      const b = buf[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
      if (shift > 70n) throw new ProtoError('malformed protobuf number');
    }
  };
  const take = (len: number): Uint8Array => {
    if (pos + len > buf.length) throw new ProtoError('a protobuf field runs past the end (truncated file?)');
    const b = buf.subarray(pos, pos + len);
    pos += len;
    return b;
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    if (no === 0) throw new ProtoError('protobuf field number 0');
    if (wire === 0) out.push({ no, wire, int: varint() });
    else if (wire === 2) out.push({ no, wire, bytes: take(Number(varint())) });
    else if (wire === 1) out.push({ no, wire, bytes: take(8) });
    else if (wire === 5) out.push({ no, wire, bytes: take(4) });
    else throw new ProtoError(`protobuf wire type ${wire} (groups are not supported)`);
  }
  return out;
}

function varintBytes(v: bigint): number[] {
  // Negative int32/int64 values are written as their 64-bit two's complement (ten bytes).
  let x = v < 0n ? v + (1n << 64n) : v;
  const out: number[] = [];
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
}

export function encode(msg: Message): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  const push = (b: Uint8Array) => {
    parts.push(b);
    size += b.length;
  };
  for (const f of msg) {
    push(Uint8Array.from(varintBytes(BigInt((f.no << 3) | f.wire))));
    if (f.wire === 0) push(Uint8Array.from(varintBytes(f.int)));
    else {
      if (f.wire === 2) push(Uint8Array.from(varintBytes(BigInt(f.bytes.length))));
      push(f.bytes);
    }
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/* ---------- reading and writing typed values ---------- */

export const text = (b: Uint8Array): string => new TextDecoder().decode(b);
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export function str(msg: Message, no: number): string {
  const f = msg.find((x) => x.no === no && x.wire === 2);
  return f && f.wire === 2 ? text(f.bytes) : '';
}

export function strs(msg: Message, no: number): string[] {
  return msg.flatMap((x) => (x.no === no && x.wire === 2 ? [text(x.bytes)] : []));
}

export function int(msg: Message, no: number): bigint | null {
  const f = msg.find((x) => x.no === no && x.wire === 0);
  return f && f.wire === 0 ? f.int : null;
}

/** Repeated int64 fields, packed (wire 2) or not. */
export function ints(msg: Message, no: number): bigint[] {
  const out: bigint[] = [];
  for (const f of msg) {
    if (f.no !== no) continue;
    if (f.wire === 0) out.push(f.int);
    else if (f.wire === 2) for (const g of decodePackedVarints(f.bytes)) out.push(g);
  }
  return out;
}

function decodePackedVarints(b: Uint8Array): bigint[] {
  const out: bigint[] = [];
  let pos = 0;
  while (pos < b.length) {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const c = b[pos++]!;
      result |= BigInt(c & 0x7f) << shift;
      if (!(c & 0x80)) break;
      shift += 7n;
    }
    // int64 fields hold two's complement: values at or above 2^63 are negative.
    out.push(result >= 1n << 63n ? result - (1n << 64n) : result);
  }
  return out;
}

export function msgs(msg: Message, no: number): Message[] {
  return msg.flatMap((x) => (x.no === no && x.wire === 2 ? [decode(x.bytes)] : []));
}

export const strField = (no: number, s: string): Field => ({ no, wire: 2, bytes: utf8(s) });
export const intField = (no: number, v: number | bigint): Field => ({ no, wire: 0, int: BigInt(v) });
export const msgField = (no: number, m: Message): Field => ({ no, wire: 2, bytes: encode(m) });
export const bytesField = (no: number, b: Uint8Array): Field => ({ no, wire: 2, bytes: b });
export const packedInts = (no: number, values: readonly (number | bigint)[]): Field => ({
  no,
  wire: 2,
  bytes: Uint8Array.from(values.flatMap((v) => varintBytes(BigInt(v)))),
});
export const floatField = (no: number, v: number): Field => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, v, true);
  return { no, wire: 5, bytes: b };
};

/** The message without fields numbered `nos`, then `add` appended (field order doesn't matter to readers). */
export function replace(msg: Message, nos: readonly number[], add: readonly Field[]): Message {
  return [...msg.filter((f) => !nos.includes(f.no)), ...add];
}
