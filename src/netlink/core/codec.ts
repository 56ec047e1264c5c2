// Table-driven encode/decode of one attribute set: interprets the descriptor tables of spec-types.ts
// (generated/*.ts) on top of the TLV primitives of attr.ts. Knows nothing of MPTCP.

import { DecodeError, ValidationError } from './errors.js';
import { AttrWriter, NLA_TYPE_MASK, asBuffer, readScalar, walkAttrs } from './attr.js';
import type { AttrDesc, FamilyDesc, UnknownAttr } from './spec-types.js';
import { BIG_RANGE, describe, FIXED_SIZE, INT_RANGE, lengthRule, MAX_PAYLOAD, pathOf, planOf, setOf, UNKNOWN, type Plan } from './codec-plan.js';

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
    case 'indexed-array': {
      // Entries numbered from 1, as the kernel numbers the ones it sends.
      if (!Array.isArray(v)) throw new ValidationError(pathOf(parent, a), `expected an array, got ${describe(v)}`);
      const plan = planOf(setOf(family, a.nested as string));
      w.nest(a.type, (outer) => v.forEach((item, i) => outer.nest(i + 1, (inner) => encodeSet(family, plan, item, inner, `${pathOf(parent, a)}[${i}]`))));
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

/** A copy with its own ArrayBuffer of exactly `size` bytes (copying a view: ArrayBuffer.slice costs several times more). */
function copyOut(b: Buffer, at: number, size: number): Uint8Array {
  return new Uint8Array(b.subarray(at, at + size));
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
    case 'indexed-array': {
      const plan = planOf(setOf(family, a.nested as string));
      const out: Record<string, unknown>[] = [];
      walkAttrs(b, p, p + size, pathOf(parent, a), (_index, q, r) => {
        out.push(decodeRange(family, plan, b, q, r, `${pathOf(parent, a)}[${out.length}]`));
      });
      return out;
    }
    case 'nest-type-value':
      return decodeById(family, planOf(setOf(family, a.nested as string)), b, p, p + size, a.typeValue?.length ?? 1, pathOf(parent, a));
    default:
      throw new Error(`attribute ${pathOf(parent, a)}: cannot decode kind ${a.kind}`);
  }
}

/** A nest-type-value: `depth` levels of attributes whose types are ids, then the nested set. */
function decodeById(family: FamilyDesc, plan: Plan, b: Buffer, start: number, end: number, depth: number, path: string): Record<number, unknown> {
  const out: Record<number, unknown> = {};
  walkAttrs(b, start, end, path, (rawType, q, r) => {
    const id = rawType & NLA_TYPE_MASK;
    out[id] = depth > 1 ? decodeById(family, plan, b, q, r, depth - 1, `${path}.${id}`) : decodeRange(family, plan, b, q, r, `${path}.${id}`);
  });
  return out;
}
