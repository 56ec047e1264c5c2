// Reads `attribute-sets`: numbering (explicit and implicit), wire kinds, byte order, length checks,
// nests, enum links and `subset-of`. References to other sets and enums are checked at the end.

import type { WireKind } from '../../src/netlink/core/spec-types.js';
import { SpecError } from './errors.js';
import { camel, cName, pascal } from './names.js';
import { asList, asNode, checkKeys, optBool, optInt, optString, optStringList, reqString, unique, type Node } from './read.js';
import type { AttrModel, AttrSetModel, ConstModel, EnumModel } from './model.js';

const INTEGER_KINDS: readonly WireKind[] = ['u8', 'u16', 'u32', 'u64', 's8', 's16', 's32', 's64'];
const ALL_KINDS: readonly WireKind[] = [...INTEGER_KINDS, 'binary', 'string', 'flag', 'nest', 'pad', 'unused', 'indexed-array', 'nest-type-value'];
const BASE_KEYS = ['name', 'type', 'value'];
const ATTR_IGNORED = ['doc', 'display-hint'];
const EXTRA_KEYS: Partial<Record<WireKind, readonly string[]>> = {
  binary: ['checks'],
  string: ['checks'],
  nest: ['nested-attributes'],
  'indexed-array': ['sub-type', 'nested-attributes'],
  'nest-type-value': ['type-value', 'nested-attributes'],
};
const INTEGER_EXTRA = ['byte-order', 'enum', 'enum-as-flags'];
// `ts-name` is ours, not the kernel's: the TypeScript name of the set's type, for a set whose own
// name is taken by a domain type (the `endpoint` set's type would shadow the Endpoint the library returns).
const SET_KEYS = ['name', 'attributes', 'name-prefix', 'subset-of', 'ts-name'];
const SET_IGNORED = ['doc', 'enum-name', 'attr-cnt-name', 'attr-max-name'];

interface Context {
  readonly family: string;
  readonly consts: readonly ConstModel[];
  readonly enums: readonly EnumModel[];
}

export function readAttributeSets(raw: unknown, ctx: Context): AttrSetModel[] {
  const nodes = asList(raw, 'attribute-sets').map((item, i) => asNode(item, `attribute-sets[${i}]`));
  const names = new Map<string, string>();
  nodes.forEach((node, i) => {
    const where = `attribute-sets[${i}]`;
    unique(names, reqString(node, 'name', where), 'another set', where, 'set name');
  });
  const full = new Map<string, AttrSetModel>();
  nodes.forEach((node, i) => {
    if (node['subset-of'] === undefined) {
      const set = readFullSet(node, `attribute-sets[${i}]`, ctx);
      full.set(set.name, set);
    }
  });
  const sets = nodes.map((node, i) => {
    const name = node['name'] as string;
    return full.get(name) ?? readSubset(node, `attribute-sets[${i}]`, full);
  });
  const byName = new Set(sets.map((s) => s.name));
  for (const set of sets) {
    for (const attr of set.attrs) {
      if (attr.nested !== undefined && !byName.has(attr.nested)) {
        throw new SpecError(`attribute-sets (${set.name}).${attr.name}`, `nested-attributes names unknown set '${attr.nested}'`);
      }
    }
  }
  return sets;
}

function readFullSet(node: Node, where: string, ctx: Context): AttrSetModel {
  const name = node['name'] as string;
  const at = `${where} (${name})`;
  checkKeys(node, at, SET_KEYS, SET_IGNORED);
  const cPrefix = cName(optString(node, 'name-prefix', at) ?? `${ctx.family}-a-${name}-`);
  const fields = new Map<string, string>();
  const types = new Map<number, string>();
  let next = 1;
  const attrs = asList(node['attributes'], `${at}.attributes`).map((item, i) => {
    const attr = readAttr(asNode(item, `${at}.attributes[${i}]`), `${at}.attributes[${i}]`, next, cPrefix, ctx);
    next = attr.type + 1;
    unique(fields, attr.field, attr.name, `${at}.attributes[${i}]`, 'field');
    unique(types, attr.type, attr.name, `${at}.attributes[${i}]`, 'attribute type');
    return attr;
  });
  const tsName = optString(node, 'ts-name', at);
  return { name, ident: pascal(tsName ?? name, at), cPrefix, attrs, doc: optString(node, 'doc', at) };
}

function readAttr(node: Node, where: string, next: number, cPrefix: string, ctx: Context): AttrModel {
  const name = reqString(node, 'name', where);
  const at = `${where} (${name})`;
  const kind = reqString(node, 'type', at) as WireKind;
  if (!ALL_KINDS.includes(kind)) throw new SpecError(`${at}.type`, `unsupported attribute type '${kind}'`);
  const integer = INTEGER_KINDS.includes(kind);
  checkKeys(node, `${at} [${kind}]`, [...BASE_KEYS, ...(integer ? INTEGER_EXTRA : EXTRA_KEYS[kind] ?? [])], ATTR_IGNORED);
  const field = camel(name, at);
  if (field === 'unknown') throw new SpecError(at, "an attribute may not be named 'unknown': that field holds unknown attributes");
  const type = optInt(node, 'value', at) ?? next;
  if (type < 0 || type > 0x3fff) throw new SpecError(`${at}.value`, `attribute type ${type} is outside 0..16383`);
  const attr: AttrModel = { name, field, type, kind, cName: cName(cPrefix + name), doc: optString(node, 'doc', at) };
  return { ...attr, ...readByteOrder(node, at), ...readChecks(node, at, ctx), ...readNested(node, at), ...readEnumLink(node, at, ctx) };
}

function readByteOrder(node: Node, where: string): Partial<AttrModel> {
  const order = optString(node, 'byte-order', where);
  if (order === undefined) return {};
  if (order === 'big-endian') return { byteOrder: 'big-endian' };
  throw new SpecError(`${where}.byte-order`, `unsupported byte-order '${order}' (only big-endian, or none for host order)`);
}

function readChecks(node: Node, where: string, ctx: Context): Partial<AttrModel> {
  if (node['checks'] === undefined) return {};
  const at = `${where}.checks`;
  const checks = asNode(node['checks'], at);
  checkKeys(checks, at, ['exact-len', 'min-len', 'max-len']);
  const len = (key: string): number | undefined => lengthValue(checks[key], `${at}.${key}`, ctx.consts);
  const out: { exactLen?: number; minLen?: number; maxLen?: number } = {};
  const exact = len('exact-len');
  const min = len('min-len');
  const max = len('max-len');
  if (exact !== undefined) out.exactLen = exact;
  if (min !== undefined) out.minLen = min;
  if (max !== undefined) out.maxLen = max;
  return out;
}

function lengthValue(value: unknown, where: string, consts: readonly ConstModel[]): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string') {
    const found = consts.find((c) => c.name === value);
    if (found !== undefined && typeof found.value === 'number') return found.value;
    throw new SpecError(where, `'${value}' is not the name of an integer constant`);
  }
  throw new SpecError(where, 'expected a length or the name of a constant');
}

function readNested(node: Node, where: string): Partial<AttrModel> {
  const kind = node['type'];
  if (kind === 'indexed-array') {
    const sub = reqString(node, 'sub-type', where);
    if (sub !== 'nest') throw new SpecError(`${where}.sub-type`, `unsupported sub-type '${sub}' (only nest)`);
  }
  if (kind === 'nest-type-value') {
    const levels = optStringList(node, 'type-value', where);
    if (levels === undefined || levels.length === 0) throw new SpecError(where, "a nest-type-value needs 'type-value', the names of its id levels");
    return { nested: reqString(node, 'nested-attributes', where), typeValue: levels };
  }
  if (kind !== 'nest' && kind !== 'indexed-array') return {};
  return { nested: reqString(node, 'nested-attributes', where) };
}

function readEnumLink(node: Node, where: string, ctx: Context): Partial<AttrModel> {
  const enumName = optString(node, 'enum', where);
  const asFlags = optBool(node, 'enum-as-flags', where);
  if (enumName === undefined) {
    if (asFlags !== undefined) throw new SpecError(where, "'enum-as-flags' needs 'enum'");
    return {};
  }
  const target = ctx.enums.find((e) => e.name === enumName);
  if (target === undefined) throw new SpecError(`${where}.enum`, `unknown enum '${enumName}'`);
  return target.kind === 'flags' || asFlags === true ? { enumName, asFlags: true } : { enumName };
}

function readSubset(node: Node, where: string, full: ReadonlyMap<string, AttrSetModel>): AttrSetModel {
  const name = node['name'] as string;
  const at = `${where} (${name})`;
  checkKeys(node, at, ['name', 'attributes', 'subset-of'], SET_IGNORED);
  const parentName = reqString(node, 'subset-of', at);
  const parent = full.get(parentName);
  if (parent === undefined) throw new SpecError(`${at}.subset-of`, `'${parentName}' is not a set defined in full`);
  const seen = new Map<string, string>();
  const attrs = asList(node['attributes'], `${at}.attributes`).map((item, i) => {
    const where2 = `${at}.attributes[${i}]`;
    const sub = asNode(item, where2);
    checkKeys(sub, where2, ['name', 'type', 'nested-attributes'], ['doc']);
    const attrName = reqString(sub, 'name', where2);
    unique(seen, attrName, attrName, where2, 'attribute');
    const base = parent.attrs.find((a) => a.name === attrName);
    if (base === undefined) throw new SpecError(where2, `'${attrName}' is not an attribute of '${parentName}'`);
    const type = optString(sub, 'type', where2);
    if (type !== undefined && type !== base.kind) {
      throw new SpecError(`${where2}.type`, `'${type}' differs from '${base.kind}' in '${parentName}'`);
    }
    const nested = optString(sub, 'nested-attributes', where2);
    if (nested !== undefined && base.nested === undefined) {
      throw new SpecError(where2, "'nested-attributes' on an attribute that is not a nest");
    }
    const doc = optString(sub, 'doc', where2) ?? base.doc;
    return { ...base, ...(nested === undefined ? {} : { nested }), doc };
  });
  return { name, ident: pascal(name, at), subsetOf: parentName, cPrefix: parent.cPrefix, attrs, doc: optString(node, 'doc', at) };
}
