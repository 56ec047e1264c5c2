// Netlink core: fixed-layout C structures (inet_diag_msg, mptcp_info, tcp_info, …) described once with
// struct-fu, little-endian unless a member says otherwise. Knows no protocol; generated/*.ts hold the layouts.

import fu from 'struct-fu';
import { readScalar } from './attr.js';
import { DecodeError } from './errors.js';

export type ScalarKind = 'u8' | 'u16' | 'u32' | 'u64' | 's8' | 's16' | 's32' | 's64';
export type MemberKind = ScalarKind | 'binary' | 'struct';

/**
 * The part of a struct-fu field this module uses, written out here so that the published
 * declarations do not name struct-fu (which ships no types of its own).
 */
export interface FuField {
  readonly name: string | null;
  readonly size: number;
  readonly offset?: number | { bytes: number; bits?: number };
  readonly fields?: Record<string, FuField>;
  valueFromBytes(buf: Buffer, off?: { bytes: number; bits?: number }): unknown;
  bytesFromValue(value: unknown, buf?: Buffer, off?: { bytes: number; bits?: number }): Buffer;
}

/** One entry of a struct's member list, as the generated descriptions write it. */
export interface MemberSpec {
  readonly name: string | undefined;
  readonly kind: MemberKind | 'pad';
  readonly bigEndian: boolean;
  readonly struct?: StructDesc<unknown>;
  /** What struct-fu gets: a field, or a padTo marker for padding. */
  readonly fu: unknown;
}

/** A named member with its place, taken from struct-fu's layout. */
export interface MemberInfo {
  readonly name: string;
  readonly kind: MemberKind;
  readonly bigEndian: boolean;
  readonly offset: number;
  readonly size: number;
  readonly struct?: StructDesc<unknown>;
}

/** A C struct: struct-fu's description plus the member table derived from it once. */
export interface StructDesc<T> {
  readonly name: string;
  readonly size: number;
  readonly members: readonly MemberInfo[];
  /** struct-fu's description; `fu.fields[name].offset` is where each member lives. */
  readonly fu: FuField;
  /** Never set: carries the decoded type. */
  readonly __type?: T;
}

const INT: Record<Exclude<ScalarKind, 'u64' | 's64'>, readonly [number, (name: string) => unknown, (name: string) => unknown]> = {
  u8: [1, fu.uint8, fu.uint8],
  s8: [1, fu.int8, fu.int8],
  u16: [2, fu.uint16le, fu.uint16],
  s16: [2, fu.int16le, fu.int16],
  u32: [4, fu.uint32le, fu.uint32],
  s32: [4, fu.int32le, fu.int32],
};

function int64(name: string, signed: boolean, be: boolean): FuField {
  const pack = (v: bigint | undefined): Buffer => {
    const b = Buffer.alloc(8);
    const x = signed ? BigInt.asIntN(64, v ?? 0n) : BigInt.asUintN(64, v ?? 0n);
    if (signed) be ? b.writeBigInt64BE(x) : b.writeBigInt64LE(x);
    else be ? b.writeBigUInt64BE(x) : b.writeBigUInt64LE(x);
    return b;
  };
  const unpack = (b: Buffer): bigint =>
    signed ? (be ? b.readBigInt64BE(0) : b.readBigInt64LE(0)) : be ? b.readBigUInt64BE(0) : b.readBigUInt64LE(0);
  return fu.derive(fu.byte(8), pack, unpack)(name);
}

function bytes(name: string, len: number): FuField {
  const pack = (v: Uint8Array | undefined): Buffer | undefined =>
    v === undefined ? undefined : Buffer.from(v.buffer, v.byteOffset, Math.min(v.byteLength, len));
  const unpack = (b: Buffer): Uint8Array => new Uint8Array(b);
  return fu.derive(fu.byte(len), pack, unpack)(name);
}

/** Member constructors used by the generated descriptions. */
export const member = {
  int(name: string, kind: ScalarKind, bigEndian = false): MemberSpec {
    if (kind === 'u64' || kind === 's64') return { name, kind, bigEndian, fu: int64(name, kind === 's64', bigEndian) };
    const [, le, be] = INT[kind];
    return { name, kind, bigEndian, fu: (bigEndian ? be : le)(name) };
  },
  binary(name: string, len: number): MemberSpec {
    return { name, kind: 'binary', bigEndian: false, fu: bytes(name, len) };
  },
  /** Padding up to absolute offset `end` of the enclosing struct. */
  padTo(end: number): MemberSpec {
    return { name: undefined, kind: 'pad', bigEndian: false, fu: fu.padTo(end) };
  },
  struct(name: string, desc: StructDesc<unknown>): MemberSpec {
    const named = Object.assign(Object.create(desc.fu) as FuField, { name });
    return { name, kind: 'struct', bigEndian: false, struct: desc, fu: named };
  },
};

function sizeOf(m: MemberSpec, f: FuField): number {
  if (m.kind === 'struct') return (m.struct as StructDesc<unknown>).size;
  if (m.kind in INT) return INT[m.kind as keyof typeof INT][0];
  return f.size;
}

/**
 * Builds a description and checks struct-fu's total size against the C `sizeof` given by the spec.
 * A mismatch is a bug in the generator or the spec, so it fails when the module loads.
 */
export function struct<T>(name: string, size: number, specs: readonly MemberSpec[]): StructDesc<T> {
  const desc = fu.struct(name, specs.map((s) => s.fu));
  if (desc.size !== size) throw new Error(`struct ${name}: struct-fu lays out ${desc.size} bytes, the spec says ${size}`);
  const members: MemberInfo[] = [];
  for (const s of specs) {
    if (s.name === undefined || s.kind === 'pad') continue;
    const f = desc.fields?.[s.name];
    if (f === undefined || typeof f.offset !== 'number') throw new Error(`struct ${name}: member ${s.name} has no byte offset`);
    members.push({ name: s.name, kind: s.kind, bigEndian: s.bigEndian, offset: f.offset, size: sizeOf(s, f), ...(s.struct ? { struct: s.struct } : {}) });
  }
  return { name, size, members, fu: desc };
}

/** Byte offset of a member, for hand-tuned reads; throws for a name the struct does not have. */
export function offsetOf(desc: StructDesc<unknown>, name: string): number {
  const m = desc.members.find((x) => x.name === name);
  if (m === undefined) throw new Error(`struct ${desc.name} has no member ${name}`);
  return m.offset;
}

function readMember(m: MemberInfo, b: Buffer, p: number): unknown {
  switch (m.kind) {
    case 'u8': case 's8': case 'u16': case 's16': case 'u32': case 's32': case 'u64': case 's64':
      return readScalar(m.kind, b, p, m.bigEndian === true);
    case 'binary': return new Uint8Array(b.subarray(p, p + m.size));
    case 'struct': return readFields(m.struct as StructDesc<unknown>, b, p, m.size);
  }
}

/** Expression reading member `m` at `at + off` (source for the compiled whole-struct reader). */
function readExpr(m: MemberInfo, off: number, nested: StructDesc<unknown>[]): string {
  const p = `at + ${off}`;
  const e = m.bigEndian ? 'BE' : 'LE';
  switch (m.kind) {
    case 'u8': return `b[${p}]`;
    case 's8': return `b.readInt8(${p})`;
    case 'u16': return `b.readUInt16${e}(${p})`;
    case 's16': return `b.readInt16${e}(${p})`;
    case 'u32': return `b.readUInt32${e}(${p})`;
    case 's32': return `b.readInt32${e}(${p})`;
    case 'u64': return `b.readBigUInt64${e}(${p})`;
    case 's64': return `b.readBigInt64${e}(${p})`;
    case 'binary': return `new Uint8Array(b.subarray(${p}, ${p} + ${m.size}))`;
    case 'struct':
      nested.push(m.struct as StructDesc<unknown>);
      return `whole[${nested.length - 1}](b, ${p})`;
  }
}

type WholeReader = (b: Buffer, at: number) => Record<string, unknown>;
const wholeReaders = new WeakMap<StructDesc<unknown>, WholeReader>();

/**
 * A reader of the whole struct built once from the member table (offsets from struct-fu): one
 * object literal, so every decoded object has the same shape from the start.
 */
function wholeReader(desc: StructDesc<unknown>): WholeReader {
  let r = wholeReaders.get(desc);
  if (r === undefined) {
    const nested: StructDesc<unknown>[] = [];
    const body = desc.members.map((m) => `${JSON.stringify(m.name)}: ${readExpr(m, m.offset, nested)}`).join(', ');
    const make = new Function('whole', `return function read(b, at) { return { ${body} }; };`) as (w: WholeReader[]) => WholeReader;
    r = make(nested.map((d) => (b: Buffer, at: number) => wholeReader(d)(b, at)));
    wholeReaders.set(desc, r);
  }
  return r;
}

function readFields(desc: StructDesc<unknown>, b: Buffer, at: number, len: number): Record<string, unknown> {
  if (len >= desc.size) return wholeReader(desc)(b, at);
  const out: Record<string, unknown> = {};
  for (const m of desc.members) {
    if (m.offset + m.size > len) break;
    out[m.name] = readMember(m, b, at + m.offset);
  }
  return out;
}

function view(buf: Uint8Array): Buffer {
  return Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Decodes a whole struct at `at`. Bytes past its size are left alone (a newer kernel's longer header).
 * @throws DecodeError naming `path` when fewer than `desc.size` bytes are there.
 */
export function decodeStruct<T>(desc: StructDesc<T>, buf: Uint8Array, path: string, at = 0): T {
  const b = view(buf);
  const len = b.length - at;
  if (len < desc.size) throw new DecodeError(path, `expected at least ${desc.size} bytes for struct ${desc.name}, got ${Math.max(len, 0)}`);
  return readFields(desc as StructDesc<unknown>, b, at, desc.size) as T;
}

/**
 * Decodes the members that lie wholly inside `len` bytes at `at`: an older kernel's shorter struct
 * gives the leading members only, a newer kernel's longer one gives all members and ignores the rest.
 */
export function decodePartial<T>(desc: StructDesc<T>, buf: Uint8Array, at = 0, len = buf.length - at): Partial<T> {
  return readFields(desc as StructDesc<unknown>, view(buf), at, Math.min(len, desc.size)) as Partial<T>;
}

/** A struct value for encoding: every member optional, embedded structs too. */
export type StructInput<T> = { [K in keyof T]?: T[K] extends number | bigint | Uint8Array ? T[K] : StructInput<T[K]> };

/** Encodes `value` with struct-fu into `buf` at `at` (a new zeroed buffer by default); absent members are 0. */
export function encodeStruct<T>(desc: StructDesc<T>, value: StructInput<T>, buf: Buffer = Buffer.alloc(desc.size), at = 0): Buffer {
  if (buf.length - at < desc.size) throw new RangeError(`struct ${desc.name}: ${desc.size} bytes do not fit at offset ${at}`);
  desc.fu.bytesFromValue(value, buf, { bytes: at, bits: 0 });
  return buf;
}
