// Reads `definitions` entries of `type: struct` (netlink-raw schema): members laid out in order with
// C's natural alignment checked, so the description equals the C layout without implicit padding.

import { SpecError } from './errors.js';
import { camel, pascal } from './names.js';
import { asList, asNode, checkKeys, optBool, optInt, optString, reqString, unique, type Node } from './read.js';
import type { EnumModel } from './model.js';

export type StructMemberKind = 'u8' | 'u16' | 'u32' | 'u64' | 's8' | 's16' | 's32' | 's64' | 'binary' | 'pad';

export interface StructMemberModel {
  readonly name: string;
  /** camelCase field of the decoded object. */
  readonly field: string;
  readonly kind: StructMemberKind | 'struct';
  readonly offset: number;
  readonly size: number;
  readonly bigEndian: boolean;
  /** For an embedded struct: its spec name. */
  readonly struct?: string;
  readonly enumName?: string;
  readonly doc?: string;
}

export interface StructModel {
  readonly name: string;
  /** PascalCase type name. */
  readonly ident: string;
  /** camelCase name of the description constant. */
  readonly descIdent: string;
  /** C name, e.g. `inet_diag_msg`. */
  readonly cName: string;
  readonly size: number;
  readonly align: number;
  readonly members: readonly StructMemberModel[];
  readonly doc?: string;
}

const SCALAR_SIZE: Record<string, number> = { u8: 1, s8: 1, u16: 2, s16: 2, u32: 4, s32: 4, u64: 8, s64: 8 };
const MEMBER_KEYS = ['name', 'type', 'byte-order', 'len', 'struct', 'enum', 'enum-as-flags'];
const MEMBER_IGNORED = ['doc', 'display-hint'];

export function readStruct(node: Node, where: string, earlier: readonly StructModel[], enums: readonly EnumModel[]): StructModel {
  checkKeys(node, where, ['name', 'type', 'members'], ['doc', 'header']);
  const name = reqString(node, 'name', where);
  const fields = new Map<string, string>();
  const members: StructMemberModel[] = [];
  let offset = 0;
  let align = 1;
  asList(node['members'], `${where}.members`).forEach((item, i) => {
    const m = readMember(asNode(item, `${where}.members[${i}]`), `${where}.members[${i}]`, offset, earlier, enums);
    const a = m.kind === 'struct' ? (earlier.find((s) => s.name === m.struct) as StructModel).align : m.kind in SCALAR_SIZE ? m.size : 1;
    if (offset % a !== 0) {
      throw new SpecError(`${where}.members[${i}] (${m.name})`, `offset ${offset} is not aligned to ${a}: C would insert padding, write a pad member`);
    }
    align = Math.max(align, a);
    unique(fields, m.field, m.name, `${where}.members[${i}]`, 'field');
    members.push(m);
    offset += m.size;
  });
  if (members.length === 0) throw new SpecError(where, 'a struct needs members');
  if (offset % align !== 0) throw new SpecError(where, `size ${offset} is not a multiple of its alignment ${align}: C would pad the end`);
  return {
    name,
    ident: pascal(name, where),
    descIdent: camel(name, where),
    cName: name.replace(/-/g, '_'),
    size: offset,
    align,
    members,
    doc: optString(node, 'doc', where),
  };
}

function readMember(node: Node, where: string, offset: number, earlier: readonly StructModel[], enums: readonly EnumModel[]): StructMemberModel {
  const name = reqString(node, 'name', where);
  const at = `${where} (${name})`;
  checkKeys(node, at, MEMBER_KEYS, MEMBER_IGNORED);
  const type = reqString(node, 'type', at);
  const order = optString(node, 'byte-order', at);
  if (order !== undefined && (order !== 'big-endian' || !(type in SCALAR_SIZE) || SCALAR_SIZE[type] === 1)) {
    throw new SpecError(`${at}.byte-order`, `unsupported byte-order '${order}' on a ${type} member (only big-endian, on integers wider than a byte)`);
  }
  const enumName = optString(node, 'enum', at);
  optBool(node, 'enum-as-flags', at);
  if (enumName !== undefined && !enums.some((e) => e.name === enumName)) throw new SpecError(`${at}.enum`, `unknown enum '${enumName}'`);
  const base = { name, field: camel(name, at), offset, bigEndian: order !== undefined, doc: optString(node, 'doc', at), ...(enumName ? { enumName } : {}) };
  const len = optInt(node, 'len', at);
  const ref = optString(node, 'struct', at);
  if (type in SCALAR_SIZE) {
    if (len !== undefined || ref !== undefined) throw new SpecError(at, `'len' and 'struct' do not apply to ${type}`);
    return { ...base, kind: type as StructMemberKind, size: SCALAR_SIZE[type] };
  }
  if (type === 'binary' && ref !== undefined) {
    if (len !== undefined) throw new SpecError(at, "give either 'len' or 'struct', not both");
    const inner = earlier.find((s) => s.name === ref);
    if (inner === undefined) throw new SpecError(`${at}.struct`, `'${ref}' is not a struct defined before this one`);
    return { ...base, kind: 'struct', struct: ref, size: inner.size };
  }
  if (type === 'binary' || type === 'pad') {
    if (len === undefined || len <= 0) throw new SpecError(at, `a ${type} member needs a positive 'len'`);
    return { ...base, kind: type, size: len };
  }
  throw new SpecError(`${at}.type`, `unsupported struct member type '${type}'`);
}
