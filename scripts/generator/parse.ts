// Turns spec text (the kernel's genetlink YAML schema) into the checked model the renderers use.

import { SpecError } from './errors.js';
import { camel } from './names.js';
import { asList, asNode, checkKeys, optInt, readSpecTop, reqString } from './read.js';
import { readDefinitions } from './parse-definitions.js';
import { readAttributeSets } from './parse-attribute-sets.js';
import { readOperations } from './parse-operations.js';
import type { FamilyModel } from './model.js';

const PROTOCOLS = ['genetlink', 'genetlink-c', 'genetlink-legacy'];
const TOP_KEYS = ['name', 'protocol', 'version', 'definitions', 'attribute-sets', 'operations', 'mcast-groups'];
/** Top-level keys that only steer the C headers or the kernel's policy layout. */
const TOP_IGNORED = [
  'doc', 'uapi-header', 'c-family-name', 'c-version-name', 'max-by-define', 'kernel-policy',
  'cmd-max-name', 'cmd-cnt-name',
];

export function parseSpec(text: string): FamilyModel {
  const top = readSpecTop(text, TOP_KEYS, TOP_IGNORED);
  const name = reqString(top, 'name', 'spec');
  const protocol = top['protocol'] ?? 'genetlink';
  if (typeof protocol !== 'string' || !PROTOCOLS.includes(protocol)) {
    throw new SpecError('protocol', `unsupported protocol '${String(protocol)}'`);
  }
  const version = optInt(top, 'version', 'spec') ?? 1;
  const family = name.replace(/_/g, '-');
  const { consts, enums } = readDefinitions(top['definitions'], family);
  const attrSets = readAttributeSets(top['attribute-sets'], { family, consts, enums });
  const mcastGroups = readMcastGroups(top['mcast-groups']);
  const ops = readOperations(top['operations'], { family, sets: attrSets, enums, mcastGroups });
  const doc = top['doc'];
  return {
    name,
    version,
    ident: `${camel(name, 'name')}Family`,
    ...(typeof doc === 'string' ? { doc } : {}),
    consts,
    enums,
    attrSets,
    mcastGroups,
    ...ops,
  };
}

function readMcastGroups(raw: unknown): string[] {
  if (raw === undefined) return [];
  const node = asNode(raw, 'mcast-groups');
  checkKeys(node, 'mcast-groups', ['list']);
  const names: string[] = [];
  asList(node['list'], 'mcast-groups.list').forEach((item, i) => {
    const where = `mcast-groups.list[${i}]`;
    const group = asNode(item, where);
    checkKeys(group, where, ['name'], ['c-define-name']);
    const name = reqString(group, 'name', where);
    if (names.includes(name)) throw new SpecError(where, `group '${name}' listed twice`);
    names.push(name);
  });
  return names;
}
