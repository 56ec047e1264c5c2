// Strict readers for the parsed YAML: every key must be known, every value of the expected type.

import { parse as parseYaml } from 'yaml';
import { SpecError } from './errors.js';

export type Node = Readonly<Record<string, unknown>>;

export function asNode(value: unknown, where: string): Node {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new SpecError(where, 'expected a mapping');
  }
  return value as Node;
}

export function asList(value: unknown, where: string): readonly unknown[] {
  if (!Array.isArray(value)) throw new SpecError(where, 'expected a list');
  return value;
}

/**
 * Rejects keys outside `used` and `ignored`. `ignored` keys are valid in the schema but only shape C
 * output or kernel behaviour (doc strings, header names, validation hints), so they change nothing here.
 */
export function checkKeys(node: Node, where: string, used: readonly string[], ignored: readonly string[] = []): void {
  for (const key of Object.keys(node)) {
    if (!used.includes(key) && !ignored.includes(key)) {
      throw new SpecError(where, `unsupported key '${key}'`);
    }
  }
}

export function optString(node: Node, key: string, where: string): string | undefined {
  const value = node[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new SpecError(`${where}.${key}`, 'expected a string');
  return value;
}

export function reqString(node: Node, key: string, where: string): string {
  const value = optString(node, key, where);
  if (value === undefined) throw new SpecError(where, `missing '${key}'`);
  return value;
}

export function optInt(node: Node, key: string, where: string): number | undefined {
  const value = node[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new SpecError(`${where}.${key}`, 'expected an integer');
  }
  return value;
}

export function optBool(node: Node, key: string, where: string): boolean | undefined {
  const value = node[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new SpecError(`${where}.${key}`, 'expected true or false');
  return value;
}

export function optStringList(node: Node, key: string, where: string): string[] | undefined {
  const value = node[key];
  if (value === undefined) return undefined;
  return asList(value, `${where}.${key}`).map((item, i) => {
    if (typeof item !== 'string') throw new SpecError(`${where}.${key}[${i}]`, 'expected a string');
    return item;
  });
}

/** Throws when `name` was seen before; used for names, field spellings and numeric values. */
export function unique<T>(seen: Map<T, string>, value: T, owner: string, where: string, what: string): void {
  const previous = seen.get(value);
  if (previous !== undefined) throw new SpecError(where, `${what} ${String(value)} already used by '${previous}'`);
  seen.set(value, owner);
}

/** Parses a spec's YAML (duplicate keys refused) and checks its top-level keys. */
export function readSpecTop(text: string, keys: readonly string[], ignored: readonly string[]): Node {
  let raw: unknown;
  try {
    raw = parseYaml(text, { uniqueKeys: true });
  } catch (err) {
    throw new SpecError('', `invalid YAML: ${(err as Error).message}`);
  }
  const top = asNode(raw, 'spec');
  checkKeys(top, 'spec', keys, ignored);
  return top;
}

/**
 * Calls `each` for every entry of an operations list, after checking that it is a mapping with a
 * name, only known keys, and a name no earlier entry has; `where` names the entry in errors.
 */
export function forEachOperation(list: unknown, used: readonly string[], ignored: readonly string[], each: (node: Node, name: string, where: string) => void): void {
  const names = new Map<string, string>();
  asList(list, 'operations.list').forEach((item, i) => {
    const node = asNode(item, `operations.list[${i}]`);
    const name = reqString(node, 'name', `operations.list[${i}]`);
    const where = `operations.list[${i}] (${name})`;
    checkKeys(node, where, used, ignored);
    unique(names, name, name, where, 'operation name');
    each(node, name, where);
  });
}
