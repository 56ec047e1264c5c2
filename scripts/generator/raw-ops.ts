// netlink-raw `operations` (enum-model directional: each request and reply names its own message
// type, nlmsg_type, and carries a fixed header struct before its attributes) and `mcast-groups` with
// explicit group numbers. Renders a table of operations and group numbers plus per-message types.

import { SpecError } from './errors.js';
import { camel, cName, pascal } from './names.js';
import { asList, asNode, checkKeys, forEachOperation, optInt, optString, optStringList, reqString, unique, type Node } from './read.js';
import type { AttrSetModel } from './model.js';
import type { StructModel } from './parse-structs.js';
import { docComment, joinDoc, quote } from './text.js';

export interface RawMessageModel {
  /** nlmsg_type of the message. */
  readonly value: number;
  /** Attribute names it may carry (fixed-header member names are allowed and typed through the header). */
  readonly attributes: readonly string[];
}

export interface RawOpModel {
  readonly name: string;
  readonly field: string;
  /** PascalCase stem of its message type names. */
  readonly ident: string;
  readonly attributeSet: string;
  /** Spec name of the fixed-header struct. */
  readonly fixedHeader: string;
  readonly do?: { readonly request?: RawMessageModel; readonly reply?: RawMessageModel };
  readonly dump?: { readonly request?: RawMessageModel; readonly reply?: RawMessageModel };
  readonly doc?: string;
}

export interface RawGroupModel {
  readonly name: string;
  readonly key: string;
  readonly value: number;
  readonly doc?: string;
}

export interface RawOperations {
  readonly msgPrefix: string;
  readonly rawOps: readonly RawOpModel[];
  readonly groups: readonly RawGroupModel[];
}

interface Context {
  readonly family: string;
  readonly sets: readonly AttrSetModel[];
  readonly structs: readonly StructModel[];
}

const TOP_KEYS = ['list', 'fixed-header', 'enum-model', 'name-prefix'];
const OP_KEYS = ['name', 'attribute-set', 'fixed-header', 'do', 'dump'];
const OP_IGNORED = ['doc', 'flags'];

function readFixedHeader(node: Node, where: string, ctx: Context, fallback: string | undefined): string {
  const name = optString(node, 'fixed-header', where) ?? fallback;
  if (name === undefined) throw new SpecError(where, "a netlink-raw operation needs a 'fixed-header' (here or on 'operations')");
  if (!ctx.structs.some((s) => s.name === name)) throw new SpecError(`${where}.fixed-header`, `'${name}' is not a struct of definitions`);
  return name;
}

function readMessage(raw: unknown, where: string, set: AttrSetModel, header: StructModel): RawMessageModel {
  const node = asNode(raw, where);
  checkKeys(node, where, ['value', 'attributes']);
  const value = optInt(node, 'value', where);
  if (value === undefined || value < 16 || value > 0xffff) throw new SpecError(`${where}.value`, 'a message type 16..65535 is needed (below 16 is netlink control)');
  const attributes = optStringList(node, 'attributes', where) ?? [];
  for (const a of attributes) {
    if (!set.attrs.some((x) => x.name === a) && !header.members.some((m) => m.name === a)) {
      throw new SpecError(`${where}.attributes`, `'${a}' is neither an attribute of ${set.name} nor a member of ${header.name}`);
    }
  }
  return { value, attributes };
}

function readMode(raw: unknown, where: string, set: AttrSetModel, header: StructModel): RawOpModel['do'] {
  const node = asNode(raw, where);
  checkKeys(node, where, ['request', 'reply']);
  const out: { request?: RawMessageModel; reply?: RawMessageModel } = {};
  if (node['request'] !== undefined) out.request = readMessage(node['request'], `${where}.request`, set, header);
  if (node['reply'] !== undefined) out.reply = readMessage(node['reply'], `${where}.reply`, set, header);
  if (out.request === undefined && out.reply === undefined) throw new SpecError(where, "needs a 'request' or a 'reply'");
  return out;
}

export function readRawOperations(ops: unknown, groups: unknown, ctx: Context): RawOperations {
  const rawOps: RawOpModel[] = [];
  let msgPrefix = 'msg-';
  if (ops !== undefined) {
    const top = asNode(ops, 'operations');
    checkKeys(top, 'operations', TOP_KEYS);
    const model = optString(top, 'enum-model', 'operations');
    if (model !== 'directional') throw new SpecError('operations.enum-model', "a netlink-raw spec needs enum-model 'directional'");
    msgPrefix = optString(top, 'name-prefix', 'operations') ?? msgPrefix;
    const fallback = optString(top, 'fixed-header', 'operations');
    forEachOperation(top['list'], OP_KEYS, OP_IGNORED, (node, name, where) => {
      const setName = reqString(node, 'attribute-set', where);
      const set = ctx.sets.find((s) => s.name === setName);
      if (set === undefined) throw new SpecError(`${where}.attribute-set`, `unknown set '${setName}'`);
      const fixedHeader = readFixedHeader(node, where, ctx, fallback);
      const header = ctx.structs.find((s) => s.name === fixedHeader) as StructModel;
      if (node['do'] === undefined && node['dump'] === undefined) throw new SpecError(where, "needs 'do' or 'dump'");
      rawOps.push({
        name, field: camel(name, where), ident: pascal(name, where), attributeSet: setName, fixedHeader,
        ...(node['do'] !== undefined ? { do: readMode(node['do'], `${where}.do`, set, header) } : {}),
        ...(node['dump'] !== undefined ? { dump: readMode(node['dump'], `${where}.dump`, set, header) } : {}),
        ...(typeof node['doc'] === 'string' ? { doc: node['doc'] } : {}),
      });
    });
  }
  return { msgPrefix, rawOps, groups: groups === undefined ? [] : readGroups(groups) };
}

function readGroups(raw: unknown): RawGroupModel[] {
  const top = asNode(raw, 'mcast-groups');
  checkKeys(top, 'mcast-groups', ['list']);
  const names = new Map<string, string>();
  const values = new Map<number, string>();
  return asList(top['list'], 'mcast-groups.list').map((item, i) => {
    const node = asNode(item, `mcast-groups.list[${i}]`);
    const name = reqString(node, 'name', `mcast-groups.list[${i}]`);
    const where = `mcast-groups.list[${i}] (${name})`;
    checkKeys(node, where, ['name', 'value'], ['doc']);
    const value = optInt(node, 'value', where);
    if (value === undefined || value < 1 || value > 0xffffffff) throw new SpecError(`${where}.value`, 'a netlink-raw group needs its number (1 or more)');
    const key = camel(name, where);
    unique(names, key, name, where, 'group key');
    unique(values, value, name, where, 'group number');
    return { name, key, value, ...(typeof node['doc'] === 'string' ? { doc: node['doc'] } : {}) };
  });
}

/** Every request and reply of the operations, with the type names the renderer gives them. */
export function rawMessages(ops: readonly RawOpModel[]): { ident: string; op: RawOpModel; mode: 'do' | 'dump'; part: 'request' | 'reply'; msg: RawMessageModel }[] {
  const out = [];
  for (const op of ops) {
    for (const mode of ['do', 'dump'] as const) {
      for (const part of ['request', 'reply'] as const) {
        const msg = op[mode]?.[part];
        if (msg !== undefined) out.push({ ident: `${op.ident}${mode === 'dump' ? 'Dump' : ''}${part === 'request' ? 'Request' : 'Reply'}`, op, mode, part, msg });
      }
    }
  }
  return out;
}

const TS_TYPE: Record<string, string> = { u8: 'number', s8: 'number', u16: 'number', s16: 'number', u32: 'number', s32: 'number', u64: 'bigint', s64: 'bigint', binary: 'Uint8Array', string: 'string', flag: 'boolean' };

function modeRow(mode: 'do' | 'dump', m: NonNullable<RawOpModel['do']>): string {
  const parts = (['request', 'reply'] as const).filter((p) => m[p] !== undefined).map((p) => `${p}: ${m[p]?.value}`);
  return `    ${mode}: { ${parts.join(', ')} },`;
}

/** Renders the operation table, the group numbers and one interface per request and reply. */
export function renderRawOperations(ops: RawOperations, sets: readonly AttrSetModel[], structs: readonly StructModel[]): string[] {
  const lines: string[] = [];
  if (ops.rawOps.length > 0) {
    lines.push('', '/** Operations: message types (nlmsg_type) of their requests and replies, fixed header and attribute set. */', 'export const ops = {');
    for (const op of ops.rawOps) {
      const header = structs.find((s) => s.name === op.fixedHeader) as StructModel;
      lines.push(...docComment('  ', joinDoc(op.doc, `C: ${cName(ops.msgPrefix + op.name)}.`)), `  ${op.field}: {`, `    name: ${quote(op.name)},`);
      lines.push(`    attributeSet: ${quote(op.attributeSet)},`, `    header: ${header.descIdent},`);
      if (op.do !== undefined) lines.push(modeRow('do', op.do));
      if (op.dump !== undefined) lines.push(modeRow('dump', op.dump));
      lines.push('  },');
    }
    lines.push('} as const;');
  }
  if (ops.groups.length > 0) {
    lines.push('', '/** Multicast group numbers (setsockopt NETLINK_ADD_MEMBERSHIP). */', 'export const McastGroup = {');
    for (const g of ops.groups) lines.push(...docComment('  ', joinDoc(g.doc, `C: ${cName(g.name)}.`)), `  ${g.key}: ${g.value},`);
    lines.push('} as const;', 'export type McastGroup = keyof typeof McastGroup;');
  }
  for (const m of rawMessages(ops.rawOps)) {
    const set = sets.find((s) => s.name === m.op.attributeSet) as AttrSetModel;
    const header = structs.find((s) => s.name === m.op.fixedHeader) as StructModel;
    const fields: string[] = [];
    for (const name of m.msg.attributes) {
      const attr = set.attrs.find((a) => a.name === name);
      if (attr === undefined) continue; // a header member
      const type = attr.kind === 'nest' ? sets.find((s) => s.name === attr.nested)?.ident : TS_TYPE[attr.kind];
      if (type !== undefined) fields.push(`    ${attr.field}?: ${type};`);
    }
    if (m.part === 'reply') fields.push('    unknown?: UnknownAttr[];');
    const what = `${m.part === 'request' ? 'Request' : 'Reply'} of \`${m.op.name}\` (${m.mode}), message type ${m.msg.value}: struct ${header.cName} then attributes of ${set.name}.`;
    const headerType = m.part === 'request' ? `StructInput<${header.ident}>` : header.ident;
    lines.push('', ...docComment('', what), `export interface ${m.ident} {`, `  header: ${headerType};`);
    lines.push(...(fields.length === 0 ? ['  attrs: {};'] : ['  attrs: {', ...fields, '  };']), '}');
  }
  return lines;
}
