// Reads the `definitions` section: constants, enums (sparse values allowed) and flag sets.

import { SpecError } from './errors.js';
import { camel, cName, pascal, screaming } from './names.js';
import { asList, asNode, checkKeys, optInt, optString, reqString, unique, type Node } from './read.js';
import type { ConstModel, EnumEntryModel, EnumModel } from './model.js';

export interface Definitions {
  readonly consts: ConstModel[];
  readonly enums: EnumModel[];
}

const COMMON = ['name', 'type'];
const COMMON_IGNORED = ['doc', 'header'];
const ENUM_KEYS = [...COMMON, 'entries', 'value-start', 'name-prefix', 'enum-name'];
const ENUM_IGNORED = [...COMMON_IGNORED, 'render-max', 'enum-cnt-name'];
/** Largest flag bit: masks must stay exact 32-bit numbers. */
const MAX_FLAG_BIT = 31;

export function readDefinitions(raw: unknown, family: string): Definitions {
  const out: Definitions = { consts: [], enums: [] };
  if (raw === undefined) return out;
  const names = new Map<string, string>();
  asList(raw, 'definitions').forEach((item, i) => {
    const where = `definitions[${i}]`;
    const node = asNode(item, where);
    const name = reqString(node, 'name', where);
    unique(names, name, name, where, 'definition name');
    const type = reqString(node, 'type', where);
    if (type === 'const') out.consts.push(readConst(node, name, `${where} (${name})`));
    else if (type === 'enum' || type === 'flags') out.enums.push(readEnum(node, name, type, family, `${where} (${name})`));
    else throw new SpecError(`${where}.type`, `unsupported definition type '${type}'`);
  });
  return out;
}

function readConst(node: Node, name: string, where: string): ConstModel {
  checkKeys(node, where, [...COMMON, 'value'], COMMON_IGNORED);
  const value = node['value'];
  if (typeof value === 'string' || (typeof value === 'number' && Number.isSafeInteger(value))) {
    return { name, ident: screaming(name, where), value, doc: optString(node, 'doc', where) };
  }
  throw new SpecError(`${where}.value`, 'expected an integer or a string');
}

function readEnum(node: Node, name: string, kind: 'enum' | 'flags', family: string, where: string): EnumModel {
  checkKeys(node, where, ENUM_KEYS, ENUM_IGNORED);
  const start = optInt(node, 'value-start', where) ?? 0;
  const enumName = node['enum-name'];
  if (enumName !== undefined && enumName !== null && typeof enumName !== 'string') {
    throw new SpecError(`${where}.enum-name`, 'expected a string or null');
  }
  const prefix = optString(node, 'name-prefix', where) ?? `${family}-${name}-`;
  const keys = new Map<string, string>();
  const values = new Map<number, string>();
  const entries: EnumEntryModel[] = [];
  let next = start;
  asList(node['entries'] ?? [], `${where}.entries`).forEach((item, i) => {
    const at = `${where}.entries[${i}]`;
    const entry = readEntry(item, at);
    const raw = entry.value ?? next;
    next = raw + 1;
    if (kind === 'flags' && (raw < 0 || raw > MAX_FLAG_BIT)) {
      throw new SpecError(at, `flag bit ${raw} is outside 0..${MAX_FLAG_BIT}`);
    }
    const value = kind === 'flags' ? 2 ** raw : raw;
    const key = camel(entry.name, at);
    unique(keys, key, entry.name, at, 'key');
    unique(values, value, entry.name, at, 'value');
    entries.push({ name: entry.name, key, value, ...(entry.doc === undefined ? {} : { doc: entry.doc }) });
  });
  return {
    name,
    kind,
    ident: pascal(name, where),
    ...(typeof enumName === 'string' ? { cEnumName: enumName } : {}),
    cPrefix: cName(prefix),
    entries,
    doc: optString(node, 'doc', where),
  };
}

function readEntry(item: unknown, where: string): { name: string; value?: number; doc?: string } {
  if (typeof item === 'string') return { name: item };
  const node = asNode(item, where);
  checkKeys(node, where, ['name', 'value', 'doc']);
  const value = optInt(node, 'value', where);
  const doc = optString(node, 'doc', where);
  return { name: reqString(node, 'name', where), ...(value === undefined ? {} : { value }), ...(doc === undefined ? {} : { doc }) };
}
