// Attribute-set plans of the spec-driven codec: lookup tables derived once per attribute set from the
// descriptor tables of spec-types.ts, and the checks and error texts encoding and decoding share.

import { NLA_HDRLEN, NLA_TYPE_MASK } from './attr.js';
import type { AttrDesc, AttrSetDesc, FamilyDesc, WireKind } from './spec-types.js';

/** Key under which unknown attributes are kept in decoded objects and read back by encodeAttrs. */
export const UNKNOWN = 'unknown';
/** Largest payload one attribute can carry (its 16-bit length includes the 4-byte header). */
export const MAX_PAYLOAD = 0xffff - NLA_HDRLEN;

/** Payload size of the fixed-size kinds. */
export const FIXED_SIZE: Partial<Record<WireKind, number>> = { u8: 1, s8: 1, u16: 2, s16: 2, u32: 4, s32: 4, u64: 8, s64: 8, flag: 0 };

/** Inclusive value range of the integer kinds. */
export const INT_RANGE: Partial<Record<WireKind, readonly [number, number]>> = {
  u8: [0, 0xff], u16: [0, 0xffff], u32: [0, 0xffffffff],
  s8: [-0x80, 0x7f], s16: [-0x8000, 0x7fff], s32: [-0x80000000, 0x7fffffff],
};
export const BIG_RANGE: Partial<Record<WireKind, readonly [bigint, bigint]>> = { u64: [0n, (1n << 64n) - 1n], s64: [-(1n << 63n), (1n << 63n) - 1n] };

/**
 * Lookup tables derived once per attribute set: `byType` is indexed by attribute number (pad/unused
 * included, so they are skipped rather than kept as unknown); `byField` and `ordered` (ascending
 * type) hold the encodable attributes.
 */
export interface Plan {
  readonly set: AttrSetDesc;
  readonly byType: readonly (AttrDesc | undefined)[];
  readonly byField: ReadonlyMap<string, AttrDesc>;
  readonly ordered: readonly AttrDesc[];
}

const plans = new WeakMap<AttrSetDesc, Plan>();

export function planOf(set: AttrSetDesc): Plan {
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
    if ((a.kind === 'nest' || a.kind === 'indexed-array' || a.kind === 'nest-type-value') && !a.nested) {
      throw new Error(`attribute set ${set.name}: ${a.kind} ${a.name} names no nested set`);
    }
    if (a.field === UNKNOWN || byField.has(a.field)) throw new Error(`attribute set ${set.name}: field ${a.field} is reserved or used twice`);
    byField.set(a.field, a);
  }
  return { set, byType, byField, ordered: [...byField.values()].sort((x, y) => x.type - y.type) };
}

export function setOf(family: FamilyDesc, name: string): AttrSetDesc {
  const set = Object.hasOwn(family.attributeSets, name) ? family.attributeSets[name] : undefined;
  if (set === undefined) throw new Error(`family ${family.name} has no attribute set ${name}`);
  return set;
}

/** The binary/string length rule `n` breaks, if any. */
export function lengthRule(a: AttrDesc, n: number): string | undefined {
  if (a.exactLen !== undefined && n !== a.exactLen) return `expected ${a.exactLen} bytes, got ${n}`;
  if (a.minLen !== undefined && n < a.minLen) return `expected at least ${a.minLen} bytes, got ${n}`;
  if (a.maxLen !== undefined && n > a.maxLen) return `expected at most ${a.maxLen} bytes, got ${n}`;
  return undefined;
}

/** Error path of attribute `a` under `parent`; built only when needed. */
export function pathOf(parent: string, a: AttrDesc): string {
  return `${parent}.${a.name}`;
}

export function describe(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'bigint') return typeof v === 'bigint' ? `${v}n` : String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  return typeof v;
}
