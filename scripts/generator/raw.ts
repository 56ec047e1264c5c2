// netlink-raw specs (e.g. sock_diag): definitions with structs, and attribute sets. Renders struct-fu
// descriptions and types, constants, enums, attribute-set types and a descriptor the codec reads.

import { parse as parseYaml } from 'yaml';
import { SpecError } from './errors.js';
import { camel } from './names.js';
import { asList, asNode, optInt, readSpecTop, reqString } from './read.js';
import { readDefinitions } from './parse-definitions.js';
import { readAttributeSets } from './parse-attribute-sets.js';
import { readStruct, type StructModel } from './parse-structs.js';
import type { FamilyModel } from './model.js';
import { renderConsts, renderEnums } from './render-definitions.js';
import { renderFamily } from './render-family.js';
import { renderSetTypes } from './render-types.js';
import { docComment, joinDoc, quote } from './text.js';
import { rawMessages, readRawOperations, renderRawOperations, type RawOperations } from './raw-ops.js';

export interface RawModel extends FamilyModel {
  readonly protonum: number;
  readonly structs: readonly StructModel[];
  readonly raw: RawOperations;
}

const TOP_KEYS = ['name', 'protocol', 'protonum', 'definitions', 'attribute-sets', 'operations', 'mcast-groups'];
const TOP_IGNORED = ['doc', 'uapi-header'];

/** The `protocol` of a spec text, without checking the rest. */
export function specProtocol(text: string): string | undefined {
  try {
    const top = parseYaml(text) as Record<string, unknown> | null;
    return typeof top?.['protocol'] === 'string' ? top['protocol'] : undefined;
  } catch {
    return undefined;
  }
}

export function parseRawSpec(text: string): RawModel {
  const top = readSpecTop(text, TOP_KEYS, TOP_IGNORED);
  const name = reqString(top, 'name', 'spec');
  if (top['protocol'] !== 'netlink-raw') throw new SpecError('protocol', `expected 'netlink-raw', got '${String(top['protocol'])}'`);
  const protonum = optInt(top, 'protonum', 'spec');
  if (protonum === undefined || protonum < 0 || protonum > 31) throw new SpecError('protonum', 'a netlink-raw spec needs protonum 0..31');
  const family = name.replace(/_/g, '-');
  const items = top['definitions'] === undefined ? [] : asList(top['definitions'], 'definitions');
  const isStruct = (item: unknown): boolean => (item as { type?: unknown } | null)?.type === 'struct';
  const { consts, enums } = readDefinitions(items.filter((i) => !isStruct(i)), family);
  const structs: StructModel[] = [];
  const taken = new Set([...consts.map((c) => c.name), ...enums.map((e) => e.name)]);
  items.forEach((item, i) => {
    if (!isStruct(item)) return;
    const s = readStruct(asNode(item, `definitions[${i}]`), `definitions[${i}]`, structs, enums);
    if (taken.has(s.name)) throw new SpecError(`definitions[${i}]`, `definition name ${s.name} already used`);
    taken.add(s.name);
    structs.push(s);
  });
  const attrSets = top['attribute-sets'] === undefined ? [] : readAttributeSets(top['attribute-sets'], { family, consts, enums });
  const doc = top['doc'];
  const raw = readRawOperations(top['operations'], top['mcast-groups'], { family, sets: attrSets, structs });
  const model: RawModel = {
    name, version: 0, ident: `${camel(name, 'name')}Family`, ...(typeof doc === 'string' ? { doc } : {}),
    consts, enums, attrSets, cmdPrefix: '', placeholders: [], ops: [], events: [], mcastGroups: [], protonum, structs, raw,
  };
  checkRawIdentifiers(model);
  return model;
}

function checkRawIdentifiers(model: RawModel): void {
  const seen = new Map<string, string>();
  const add = (ident: string, what: string): void => {
    const previous = seen.get(ident);
    if (previous !== undefined) throw new SpecError('', `generated name '${ident}' is used by both ${previous} and ${what}`);
    seen.set(ident, what);
  };
  for (const fixed of ['FamilyDesc', 'UnknownAttr', 'StructDesc', 'StructInput', 'struct', 'member', 'PROTONUM', 'family']) add(fixed, 'the generator');
  if (model.raw.rawOps.length > 0) add('ops', 'the operation table');
  if (model.raw.groups.length > 0) add('McastGroup', 'the multicast group numbers');
  add(model.ident, 'the descriptor');
  for (const c of model.consts) add(c.ident, `constant '${c.name}'`);
  for (const e of model.enums) add(e.ident, `${e.kind} '${e.name}'`);
  for (const s of model.attrSets) add(s.ident, `attribute set '${s.name}'`);
  for (const s of model.structs) {
    add(s.ident, `the type of struct '${s.name}'`);
    add(s.descIdent, `the description of struct '${s.name}'`);
  }
  for (const m of rawMessages(model.raw.rawOps)) add(m.ident, `the ${m.mode} ${m.part} of '${m.op.name}'`);
}

const TS_TYPE: Record<string, string> = { u8: 'number', s8: 'number', u16: 'number', s16: 'number', u32: 'number', s32: 'number', u64: 'bigint', s64: 'bigint', binary: 'Uint8Array' };

function memberCall(model: RawModel, m: StructModel['members'][number]): string {
  if (m.kind === 'pad') return `member.padTo(${m.offset + m.size})`;
  if (m.kind === 'binary') return `member.binary(${quote(m.field)}, ${m.size})`;
  if (m.kind === 'struct') return `member.struct(${quote(m.field)}, ${model.structs.find((s) => s.name === m.struct)?.descIdent})`;
  return `member.int(${quote(m.field)}, ${quote(m.kind)}${m.bigEndian ? ', true' : ''})`;
}

function renderStruct(model: RawModel, s: StructModel): string[] {
  const fields: string[] = [];
  for (const m of s.members) {
    if (m.kind === 'pad') continue;
    const type = m.kind === 'struct' ? (model.structs.find((x) => x.name === m.struct) as StructModel).ident : TS_TYPE[m.kind];
    const wire = `${m.kind === 'struct' ? `struct ${m.struct?.replace(/-/g, '_')}` : m.kind}${m.bigEndian ? ' big-endian' : ''} at ${m.offset}${m.enumName ? `, ${m.enumName}` : ''}.`;
    fields.push(...docComment('  ', joinDoc(wire, m.doc)), `  ${m.field}: ${type};`);
  }
  const head = docComment('', joinDoc(`struct ${s.cName}, ${s.size} bytes.`, s.doc));
  return [
    '', ...head, `export interface ${s.ident} {`, ...fields, '}',
    `/** struct-fu description of struct ${s.cName}. */`,
    `export const ${s.descIdent}: StructDesc<${s.ident}> = struct(${quote(s.cName)}, ${s.size}, [`,
    ...s.members.map((m) => `  ${memberCall(model, m)},`),
    ']);',
  ];
}

/** Renders a parsed netlink-raw model; `source` and `sha256` name the spec in the header. */
export function renderRaw(model: RawModel, source: string, sha256: string): string[] {
  return [
    `// Code generated by scripts/generate.ts from ${source} (sha256 ${sha256}). DO NOT EDIT.`,
    `// Struct descriptions, tables and types of the netlink-raw protocol \`${model.name}\`, read by the runtime in src/netlink.`,
    '',
    "import type { FamilyDesc, UnknownAttr } from '../src/netlink/core/spec-types.js';",
    `import { member, struct, type StructDesc${model.raw.rawOps.length > 0 ? ', type StructInput' : ''} } from '../src/netlink/core/struct.js';`,
    '',
    '/** Netlink protocol number passed to socket(AF_NETLINK, SOCK_RAW, …). */',
    `export const PROTONUM = ${model.protonum};`,
    ...renderConsts(model),
    ...renderEnums(model),
    ...model.structs.flatMap((s) => renderStruct(model, s)),
    ...renderSetTypes(model),
    ...renderRawOperations(model.raw, model.attrSets, model.structs),
    ...renderFamily(model),
  ];
}
