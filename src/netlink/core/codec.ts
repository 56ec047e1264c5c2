// Table-driven encode/decode of one attribute set: interprets the descriptor tables of spec-types.ts
// (generated/*.ts) on top of the TLV primitives of attr.ts. Knows nothing of MPTCP.

import { DecodeError, ValidationError } from './errors.js';
import { AttrWriter, NLA_HDRLEN, NLA_TYPE_MASK, asBuffer, readScalar, walkAttrs } from './attr.js';
import type { AttrDesc, AttrSetDesc, FamilyDesc, UnknownAttr, WireKind } from './spec-types.js';

/** Key under which unknown attributes are kept in decoded objects and read back by encodeAttrs. */
const UNKNOWN = 'unknown';
/** Largest payload one attribute can carry (its 16-bit length includes the 4-byte header). */
const MAX_PAYLOAD = 0xffff - NLA_HDRLEN;

/** Payload size of the fixed-size kinds. */
const FIXED_SIZE: Partial<Record<WireKind, number>> = { u8: 1, s8: 1, u16: 2, s16: 2, u32: 4, s32: 4, u64: 8, s64: 8, flag: 0 };

/** Inclusive value range of the integer kinds. */
const INT_RANGE: Partial<Record<WireKind, readonly [number, number]>> = {
  u8: [0, 0xff], u16: [0, 0xffff], u32: [0, 0xffffffff],
  s8: [-0x80, 0x7f], s16: [-0x8000, 0x7fff], s32: [-0x80000000, 0x7fffffff],
};
const BIG_RANGE: Partial<Record<WireKind, readonly [bigint, bigint]>> = { u64: [0n, (1n << 64n) - 1n], s64: [-(1n << 63n), (1n << 63n) - 1n] };

/**
 * Lookup tables derived once per attribute set: `byType` is indexed by attribute number (pad/unused
 * included, so they are skipped rather than kept as unknown); `byField` and `ordered` (ascending
 * type) hold the encodable attributes.
 */
interface Plan {
  readonly set: AttrSetDesc;
  readonly byType: readonly (AttrDesc | undefined)[];
  readonly byField: ReadonlyMap<string, AttrDesc>;
  readonly ordered: readonly AttrDesc[];
}

const plans = new WeakMap<AttrSetDesc, Plan>();

function planOf(set: AttrSetDesc): Plan {
  let plan = plans.get(set);
  if (plan === undefined) {
    plan = buildPlan(set);
    plans.set(set, plan);
  }
  return plan;
}

/** Builds the lookup tables; a malformed table is a programming error and fails loudly. */
function buildPlan(set: AttrSetDesc): Plan {
  let max = -1;
  for (const a of set.attrs) {
    if (!Number.isInteger(a.type) || a.type < 0 || a.type > NLA_TYPE_MASK) {
      throw new Error(`attribute set ${set.name}: ${a.name} has invalid type ${a.type}`);
    }
    max = Math.max(max, a.type);
  }
  const byType: (AttrDesc | undefined)[] = new Array<AttrDesc | undefined>(max + 1).fill(undefined);
  const byField = new Map<string, AttrDesc>();
  for (const a of set.attrs) {
    const prev = byType[a.type];
    if (prev) throw new Error(`attribute set ${set.name}: type ${a.type} used by both ${prev.name} and ${a.name}`);
    byType[a.type] = a;
    if (a.kind === 'pad' || a.kind === 'unused') continue;
    if (a.kind === 'nest' && !a.nested) throw new Error(`attribute set ${set.name}: nest ${a.name} names no nested set`);
    if (a.field === UNKNOWN || byField.has(a.field)) throw new Error(`attribute set ${set.name}: field ${a.field} is reserved or used twice`);
    byField.set(a.field, a);
  }
  return { set, byType, byField, ordered: [...byField.values()].sort((x, y) => x.type - y.type) };
}

function setOf(family: FamilyDesc, name: string): AttrSetDesc {
  const set = Object.hasOwn(family.attributeSets, name) ? family.attributeSets[name] : undefined;
  if (set === undefined) throw new Error(`family ${family.name} has no attribute set ${name}`);
  return set;
}

/** The binary/string length rule `n` breaks, if any. */
function lengthRule(a: AttrDesc, n: number): string | undefined {
  if (a.exactLen !== undefined && n !== a.exactLen) return `expected ${a.exactLen} bytes, got ${n}`;
  if (a.minLen !== undefined && n < a.minLen) return `expected at least ${a.minLen} bytes, got ${n}`;
  if (a.maxLen !== undefined && n > a.maxLen) return `expected at most ${a.maxLen} bytes, got ${n}`;
  return undefined;
}

/** Error path of attribute `a` under `parent`; built only when needed. */
function pathOf(parent: string, a: AttrDesc): string {
  return `${parent}.${a.name}`;
}

function describe(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'bigint') return typeof v === 'bigint' ? `${v}n` : String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  return typeof v;
}

// ---------------------------------------------------------------------------------------------------
// Encoding

/**
 * Writes the attributes of `value` as attribute set `setName` of `family`, appending to `w`.
 *
 * Fields are the camelCase `field` names of the table; they are written in ascending attribute
 * type order whatever the key order of `value`. `undefined` fields are skipped. Integers are range
 * checked (`u64`/`s64` must be `bigint`), byte order comes from the table, `flag` fields must be
 * booleans and are written only when true, `binary` lengths follow `exactLen`/`minLen`/`maxLen`,
 * `nest` fields recurse into their nested set. `value.unknown` (as produced by {@link decodeAttrs})
 * is re-emitted verbatim after the known attributes, so decode → encode round-trips (an unknown
 * `type` may carry NLA_F_NESTED / NLA_F_NET_BYTEORDER bits; they are written as given).
 *
 * This is the last line of defence; the public API validates user input before it gets here.
 * If it throws, whatever was already appended to `w` is incomplete and `w` should be discarded.
 *
 * @throws ValidationError naming the path (`attr.addr.id`) and the rule, for an out-of-range or
 *   mistyped value, a wrong binary length, or a field the set does not have.
 * @throws Error if `setName` (or a nested set) is not in the family's tables.
 * @example encodeAttrs(mptcpPm, 'attr', { rcvAddAddrs: 4, subflows: 2 }).finish()
 */
export function encodeAttrs(family: FamilyDesc, setName: string, value: Record<string, unknown>, w = new AttrWriter()): AttrWriter {
  encodeSet(family, planOf(setOf(family, setName)), value, w, setName);
  return w;
}

function encodeSet(family: FamilyDesc, plan: Plan, value: unknown, w: AttrWriter, path: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new ValidationError(path, `expected an object of ${plan.set.name} attributes, got ${describe(value)}`);
  }
  const obj = value as Record<string, unknown>;
  for (const key in obj) {
    if (key !== UNKNOWN && !plan.byField.has(key)) {
      throw new ValidationError(`${path}.${key}`, `not an attribute of set ${plan.set.name} (fields: ${[...plan.byField.keys()].join(', ')})`);
    }
  }
  for (const a of plan.ordered) {
    const v = obj[a.field];
    if (v !== undefined) encodeOne(family, a, v, w, path);
  }
  const unknown = obj[UNKNOWN];
  if (unknown !== undefined) encodeUnknown(plan, unknown, w, path);
}

function encodeOne(family: FamilyDesc, a: AttrDesc, v: unknown, w: AttrWriter, parent: string): void {
  const be = a.byteOrder === 'big-endian';
  const range = INT_RANGE[a.kind];
  if (range !== undefined) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < range[0] || v > range[1]) {
      throw new ValidationError(pathOf(parent, a), `expected an integer in ${range[0]}..${range[1]}, got ${describe(v)}`);
    }
  }
  const big = BIG_RANGE[a.kind];
  if (big !== undefined && (typeof v !== 'bigint' || v < big[0] || v > big[1])) {
    throw new ValidationError(pathOf(parent, a), `expected a bigint in ${big[0]}..${big[1]}, got ${describe(v)}`);
  }
  switch (a.kind) {
    case 'u8': w.u8(a.type, v as number); return;
    case 's8': w.s8(a.type, v as number); return;
    case 'u16': w.u16(a.type, v as number, be); return;
    case 's16': w.s16(a.type, v as number, be); return;
    case 'u32': w.u32(a.type, v as number, be); return;
    case 's32': w.s32(a.type, v as number, be); return;
    case 'u64': w.u64(a.type, v as bigint, be); return;
    case 's64': w.s64(a.type, v as bigint, be); return;
    case 'flag':
      if (typeof v !== 'boolean') throw new ValidationError(pathOf(parent, a), `expected a boolean, got ${describe(v)}`);
      if (v) w.flag(a.type);
      return;
    case 'binary': {
      if (!(v instanceof Uint8Array)) throw new ValidationError(pathOf(parent, a), `expected a Uint8Array, got ${describe(v)}`);
      const rule = lengthRule(a, v.length) ?? (v.length > MAX_PAYLOAD ? `at most ${MAX_PAYLOAD} bytes fit, got ${v.length}` : undefined);
      if (rule !== undefined) throw new ValidationError(pathOf(parent, a), rule);
      w.binary(a.type, v);
      return;
    }
    case 'string': {
      if (typeof v !== 'string') throw new ValidationError(pathOf(parent, a), `expected a string, got ${describe(v)}`);
      if (v.includes('\0')) throw new ValidationError(pathOf(parent, a), 'a string attribute cannot contain NUL');
      const n = Buffer.byteLength(v, 'utf8');
      const rule = lengthRule(a, n) ?? (n + 1 > MAX_PAYLOAD ? `at most ${MAX_PAYLOAD - 1} bytes fit, got ${n}` : undefined);
      if (rule !== undefined) throw new ValidationError(pathOf(parent, a), rule);
      w.string(a.type, v);
      return;
    }
    case 'nest': {
      const plan = planOf(setOf(family, a.nested as string));
      w.nest(a.type, (inner) => encodeSet(family, plan, v, inner, pathOf(parent, a)));
      return;
    }
    default:
      throw new Error(`attribute ${pathOf(parent, a)}: cannot encode kind ${a.kind}`);
  }
}

function encodeUnknown(plan: Plan, list: unknown, w: AttrWriter, parent: string): void {
  if (!Array.isArray(list)) throw new ValidationError(`${parent}.${UNKNOWN}`, `expected an array, got ${describe(list)}`);
  for (let i = 0; i < list.length; i++) {
    const bad = (rule: string): ValidationError => new ValidationError(`${parent}.${UNKNOWN}[${i}]`, rule);
    const u = list[i] as Partial<UnknownAttr> | null;
    if (typeof u !== 'object' || u === null || !(u.data instanceof Uint8Array)) throw bad('expected { type, data: Uint8Array }');
    const { type, data } = u;
    if (typeof type !== 'number' || !Number.isInteger(type) || type < 0 || type > 0xffff) {
      throw bad(`type must be an integer in 0..65535, got ${describe(type)}`);
    }
    const known = plan.byType[type & NLA_TYPE_MASK];
    if (known !== undefined) throw bad(`type ${type & NLA_TYPE_MASK} is ${known.name} in set ${plan.set.name}; set that field instead`);
    if (data.length > MAX_PAYLOAD) throw bad(`at most ${MAX_PAYLOAD} bytes fit, got ${data.length}`);
    w.binary(type, data);
  }
}

// ---------------------------------------------------------------------------------------------------
// Decoding

/**
 * Decodes `buf` (a sequence of attributes, e.g. the payload after the genetlink header) as
 * attribute set `setName` of `family`, into an object keyed by camelCase `field`.
 *
 * Strict: framing follows the rules of readAttrs (header, length ≥ 4, length within the buffer,
 * trailing bytes shorter than a header must be zero), scalars must have their exact size, binary
 * and string lengths follow the table, strings must be NUL-terminated, flags must be empty. `u64`/
 * `s64` decode to `bigint`, flags to `true`, binaries to fresh `Uint8Array` copies, nests to
 * objects of their nested set. Attributes the table does not know are kept in
 * `unknown: [{ type, data }]` in wire order (`type` without the NESTED/BYTEORDER bits, `data` copied);
 * `pad` and `unused` attributes are skipped. When a known attribute appears more than once, the
 * last one wins.
 *
 * @param path prefix for error paths; defaults to the set name.
 * @throws DecodeError whose `path` names the attribute, e.g. `event-attr.sport: expected 2 bytes,
 *   got 4`, or for a nest `attr.addr.family: …`.
 * @throws Error if `setName` (or a nested set) is not in the family's tables.
 */
export function decodeAttrs<T = Record<string, unknown>>(family: FamilyDesc, setName: string, buf: Uint8Array, path = setName, opts?: DecodeOptions): T {
  const b = asBuffer(buf);
  return decodeRange(family, planOf(setOf(family, setName)), b, 0, b.length, path, opts?.views === true) as T;
}

/** Options of {@link decodeAttrs}. */
export interface DecodeOptions {
  /**
   * Binaries as views into `buf` rather than copies: for a caller that reads them before `buf`
   * is reused (or copies what it keeps), so a large reply costs no allocation per attribute.
   */
  views?: boolean;
}

function decodeRange(family: FamilyDesc, plan: Plan, b: Buffer, start: number, end: number, path: string, views = false): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let unknown: UnknownAttr[] | undefined;
  walkAttrs(b, start, end, path, (rawType, p, q) => {
    const type = rawType & NLA_TYPE_MASK;
    const a = type < plan.byType.length ? plan.byType[type] : undefined;
    if (a === undefined) {
      (unknown ??= []).push({ type, data: copyOut(b, p, q - p) });
    } else if (a.kind !== 'pad' && a.kind !== 'unused') {
      out[a.field] = decodeOne(family, a, b, p, q - p, path, views);
    }
  });
  if (unknown !== undefined) out[UNKNOWN] = unknown;
  return out;
}

function copyOut(b: Buffer, at: number, size: number): Uint8Array {
  return new Uint8Array(b.buffer.slice(b.byteOffset + at, b.byteOffset + at + size));
}

function decodeOne(family: FamilyDesc, a: AttrDesc, b: Buffer, p: number, size: number, parent: string, views: boolean): unknown {
  const fixed = FIXED_SIZE[a.kind];
  if (fixed !== undefined && size !== fixed) {
    throw new DecodeError(pathOf(parent, a), `expected ${fixed} bytes, got ${size}`);
  }
  switch (a.kind) {
    case 'u8': case 's8': case 'u16': case 's16': case 'u32': case 's32': case 'u64': case 's64':
      return readScalar(a.kind, b, p, a.byteOrder === 'big-endian');
    case 'flag': return true;
    case 'binary': {
      const rule = lengthRule(a, size);
      if (rule !== undefined) throw new DecodeError(pathOf(parent, a), rule);
      return views ? b.subarray(p, p + size) : copyOut(b, p, size);
    }
    case 'string': {
      let nul = p;
      while (nul < p + size && b[nul] !== 0) nul++;
      if (nul === p + size) throw new DecodeError(pathOf(parent, a), 'string is not NUL-terminated');
      const rule = lengthRule(a, nul - p);
      if (rule !== undefined) throw new DecodeError(pathOf(parent, a), rule);
      return b.toString('utf8', p, nul);
    }
    case 'nest': {
      const plan = planOf(setOf(family, a.nested as string));
      return decodeRange(family, plan, b, p, p + size, pathOf(parent, a), views);
    }
    default:
      throw new Error(`attribute ${pathOf(parent, a)}: cannot decode kind ${a.kind}`);
  }
}
