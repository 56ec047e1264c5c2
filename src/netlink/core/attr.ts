// Netlink attribute (TLV) writer and reader: lengths, 4-byte padding, nesting and byte order.
// Knows nothing of MPTCP; codec.ts drives it from the generated tables.

import { DecodeError } from './errors.js';

export const NLA_HDRLEN = 4;
export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

/** Rounds a length up to the 4-byte netlink alignment. The only place padding is computed. */
export function align4(n: number): number {
  return (n + 3) & ~3;
}

/** Appends attributes to a growing buffer. Nest lengths are patched when the nest closes. */
export class AttrWriter {
  private buf: Buffer;
  private len = 0;

  constructor(initialSize = 256) {
    // Pooled, uninitialised memory: every byte up to `len` is written (padding is zeroed in put).
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  get length(): number {
    return this.len;
  }

  /** The bytes written so far (a copy-free view). */
  finish(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** Writes one attribute whose payload is `size` bytes filled by `fill`, then pads. */
  private put(type: number, size: number, fill: (b: Buffer, at: number) => void): this {
    const total = align4(NLA_HDRLEN + size);
    this.reserve(total);
    const at = this.len;
    this.buf.writeUInt16LE(NLA_HDRLEN + size, at);
    this.buf.writeUInt16LE(type & 0xffff, at + 2);
    fill(this.buf, at + NLA_HDRLEN);
    this.buf.fill(0, at + NLA_HDRLEN + size, at + total);
    this.len += total;
    return this;
  }

  u8(type: number, v: number): this {
    return this.put(type, 1, (b, at) => b.writeUInt8(v, at));
  }
  s8(type: number, v: number): this {
    return this.put(type, 1, (b, at) => b.writeInt8(v, at));
  }
  u16(type: number, v: number, be = false): this {
    return this.put(type, 2, (b, at) => (be ? b.writeUInt16BE(v, at) : b.writeUInt16LE(v, at)));
  }
  s16(type: number, v: number, be = false): this {
    return this.put(type, 2, (b, at) => (be ? b.writeInt16BE(v, at) : b.writeInt16LE(v, at)));
  }
  u32(type: number, v: number, be = false): this {
    return this.put(type, 4, (b, at) => (be ? b.writeUInt32BE(v, at) : b.writeUInt32LE(v, at)));
  }
  s32(type: number, v: number, be = false): this {
    return this.put(type, 4, (b, at) => (be ? b.writeInt32BE(v, at) : b.writeInt32LE(v, at)));
  }
  u64(type: number, v: bigint, be = false): this {
    return this.put(type, 8, (b, at) => (be ? b.writeBigUInt64BE(v, at) : b.writeBigUInt64LE(v, at)));
  }
  s64(type: number, v: bigint, be = false): this {
    return this.put(type, 8, (b, at) => (be ? b.writeBigInt64BE(v, at) : b.writeBigInt64LE(v, at)));
  }
  binary(type: number, data: Uint8Array): this {
    return this.put(type, data.length, (b, at) => b.set(data, at));
  }
  /** A NUL-terminated string. */
  string(type: number, s: string): this {
    const bytes = Buffer.from(s, 'utf8');
    return this.put(type, bytes.length + 1, (b, at) => {
      b.set(bytes, at);
      b[at + bytes.length] = 0;
    });
  }
  /** A zero-length attribute; callers write it only when the flag is true. */
  flag(type: number): this {
    return this.put(type, 0, () => {});
  }

  /** Opens a nest (NLA_F_NESTED set), lets `body` write into it, then patches its length. */
  nest(type: number, body: (w: this) => void): this {
    this.reserve(NLA_HDRLEN);
    const at = this.len;
    this.len += NLA_HDRLEN;
    body(this);
    this.buf.writeUInt16LE(this.len - at, at);
    this.buf.writeUInt16LE((type | NLA_F_NESTED) & 0xffff, at + 2);
    return this;
  }
}

/** One attribute as found on the wire. `data` is a view into the source buffer. */
export interface RawAttr {
  /** Type without the NESTED / NET_BYTEORDER bits. */
  readonly type: number;
  readonly nested: boolean;
  readonly netByteOrder: boolean;
  readonly data: Buffer;
  /** Offset of the attribute header within the buffer that was parsed. */
  readonly offset: number;
}

/** Receives each attribute found by {@link walkAttrs}: its raw type (with flag bits) and payload range. */
export type AttrVisitor = (rawType: number, dataStart: number, dataEnd: number, headerAt: number) => void;

/**
 * The TLV walker: calls `visit` for every attribute in `b[start, end)`. Strict: a header shorter
 * than 4 bytes (unless it is zero padding), a length below 4 or a length past `end` raise a
 * DecodeError naming `path`, with offsets relative to `start`. Every attribute reader of the code
 * base goes through here.
 */
export function walkAttrs(b: Buffer, start: number, end: number, path: string, visit: AttrVisitor): void {
  let at = start;
  while (at < end) {
    const left = end - at;
    if (left < NLA_HDRLEN) {
      for (let i = at; i < end; i++) {
        if (b[i] !== 0) throw new DecodeError(path, `truncated attribute header at offset ${at - start} (${left} bytes left)`);
      }
      return;
    }
    const len = b.readUInt16LE(at);
    const rawType = b.readUInt16LE(at + 2);
    if (len < NLA_HDRLEN) throw new DecodeError(path, `attribute at offset ${at - start} has length ${len} < 4`);
    if (len > left) {
      throw new DecodeError(path, `attribute type ${rawType & NLA_TYPE_MASK} at offset ${at - start} has length ${len}, only ${left} bytes left`);
    }
    visit(rawType, at + NLA_HDRLEN, at + len, at);
    at += align4(len);
  }
}

/** A Buffer view of any Uint8Array, without copying. */
export function asBuffer(buf: Uint8Array): Buffer {
  return Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Splits a buffer into attributes (see {@link walkAttrs} for the rules). */
export function readAttrs(buf: Uint8Array, path: string): RawAttr[] {
  const b = asBuffer(buf);
  const out: RawAttr[] = [];
  walkAttrs(b, 0, b.length, path, (rawType, start, end, at) => {
    out.push({
      type: rawType & NLA_TYPE_MASK,
      nested: (rawType & NLA_F_NESTED) !== 0,
      netByteOrder: (rawType & NLA_F_NET_BYTEORDER) !== 0,
      data: b.subarray(start, end),
      offset: at,
    });
  });
  return out;
}

function need(a: RawAttr, size: number, path: string): void {
  if (a.data.length !== size) throw new DecodeError(path, `expected ${size} bytes, got ${a.data.length}`);
}

/** Scalar readers: exact size checked, byte order chosen by the caller's table. */
export const read = {
  u8(a: RawAttr, path: string): number {
    need(a, 1, path);
    return a.data.readUInt8(0);
  },
  s8(a: RawAttr, path: string): number {
    need(a, 1, path);
    return a.data.readInt8(0);
  },
  u16(a: RawAttr, path: string, be = false): number {
    need(a, 2, path);
    return be ? a.data.readUInt16BE(0) : a.data.readUInt16LE(0);
  },
  s16(a: RawAttr, path: string, be = false): number {
    need(a, 2, path);
    return be ? a.data.readInt16BE(0) : a.data.readInt16LE(0);
  },
  u32(a: RawAttr, path: string, be = false): number {
    need(a, 4, path);
    return be ? a.data.readUInt32BE(0) : a.data.readUInt32LE(0);
  },
  s32(a: RawAttr, path: string, be = false): number {
    need(a, 4, path);
    return be ? a.data.readInt32BE(0) : a.data.readInt32LE(0);
  },
  u64(a: RawAttr, path: string, be = false): bigint {
    need(a, 8, path);
    return be ? a.data.readBigUInt64BE(0) : a.data.readBigUInt64LE(0);
  },
  s64(a: RawAttr, path: string, be = false): bigint {
    need(a, 8, path);
    return be ? a.data.readBigInt64BE(0) : a.data.readBigInt64LE(0);
  },
  /** A NUL-terminated string; the terminator is required. */
  string(a: RawAttr, path: string): string {
    const nul = a.data.indexOf(0);
    if (nul < 0) throw new DecodeError(path, 'string is not NUL-terminated');
    return a.data.toString('utf8', 0, nul);
  },
};

/** Integer kinds with a fixed size, as the spec names them. */
export type ScalarKind = 'u8' | 's8' | 'u16' | 's16' | 'u32' | 's32' | 'u64' | 's64';

/** Reads an integer of `kind` at `p` (network byte order when `be`); 64-bit kinds as bigint. */
export function readScalar(kind: ScalarKind, b: Buffer, p: number, be: boolean): number | bigint {
  switch (kind) {
    case 'u8': return b[p];
    case 's8': return b.readInt8(p);
    case 'u16': return be ? b.readUInt16BE(p) : b.readUInt16LE(p);
    case 's16': return be ? b.readInt16BE(p) : b.readInt16LE(p);
    case 'u32': return be ? b.readUInt32BE(p) : b.readUInt32LE(p);
    case 's32': return be ? b.readInt32BE(p) : b.readInt32LE(p);
    case 'u64': return be ? b.readBigUInt64BE(p) : b.readBigUInt64LE(p);
    case 's64': return be ? b.readBigInt64BE(p) : b.readBigInt64LE(p);
  }
}
