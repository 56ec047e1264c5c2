// Renders the FamilyDesc constant: attribute-set tables, enums, operations, events and groups.

import type { OpModeDesc } from '../../src/netlink/core/spec-types.js';
import type { AttrModel, EventModel, FamilyModel, OpModel } from './model.js';
import { docComment, joinDoc, listLines, MAX_WIDTH, propKey, quote, stringArray } from './text.js';

function attrRow(attr: AttrModel): string {
  const parts = [`name: ${quote(attr.name)}`, `field: ${quote(attr.field)}`, `type: ${attr.type}`, `kind: ${quote(attr.kind)}`];
  if (attr.byteOrder !== undefined) parts.push(`byteOrder: ${quote(attr.byteOrder)}`);
  if (attr.exactLen !== undefined) parts.push(`exactLen: ${attr.exactLen}`);
  if (attr.minLen !== undefined) parts.push(`minLen: ${attr.minLen}`);
  if (attr.maxLen !== undefined) parts.push(`maxLen: ${attr.maxLen}`);
  if (attr.nested !== undefined) parts.push(`nested: ${quote(attr.nested)}`);
  if (attr.typeValue !== undefined) parts.push(`typeValue: ${stringArray(attr.typeValue)}`);
  if (attr.enumName !== undefined) parts.push(`enumName: ${quote(attr.enumName)}`);
  if (attr.asFlags === true) parts.push('asFlags: true');
  return `{ ${parts.join(', ')} }`;
}

function setLines(model: FamilyModel): string[] {
  if (model.attrSets.length === 0) return ['  attributeSets: {},'];
  const lines = ['  attributeSets: {'];
  for (const set of model.attrSets) {
    lines.push(`    ${propKey(set.name)}: {`, `      name: ${quote(set.name)},`);
    if (set.subsetOf !== undefined) lines.push(`      subsetOf: ${quote(set.subsetOf)},`);
    lines.push('      attrs: [', ...set.attrs.map((a) => `        ${attrRow(a)},`), '      ],', '    },');
  }
  lines.push('  },');
  return lines;
}

function enumLines(model: FamilyModel): string[] {
  if (model.enums.length === 0) return ['  enums: {},'];
  const lines = ['  enums: {'];
  for (const e of model.enums) {
    lines.push(`    ${propKey(e.name)}: {`, `      name: ${quote(e.name)},`, `      kind: ${quote(e.kind)},`, '      entries: [');
    for (const entry of e.entries) lines.push(`        { name: ${quote(entry.name)}, value: ${entry.value} },`);
    lines.push('      ],', '    },');
  }
  lines.push('  },');
  return lines;
}

function modeLines(mode: 'do' | 'dump', desc: OpModeDesc): string[] {
  const parts = (['request', 'reply'] as const).filter((p) => desc[p] !== undefined);
  const value = (p: 'request' | 'reply'): string => (desc[p]?.value === undefined ? '' : `value: ${desc[p]?.value}, `);
  const inline = parts.map((p) => `${p}: { ${value(p)}attributes: ${stringArray(desc[p]?.attributes ?? [])} }`);
  const one = `      ${mode}: {${inline.length === 0 ? '' : ` ${inline.join(', ')} `}},`;
  if (one.length <= MAX_WIDTH) return [one];
  const lines = [`      ${mode}: {`];
  for (const p of parts) lines.push(...listLines(`        ${p}: { ${value(p)}attributes: `, desc[p]?.attributes ?? [], ' },'));
  lines.push('      },');
  return lines;
}

function opLines(op: OpModel): string[] {
  const lines = [
    '    {',
    `      name: ${quote(op.name)},`,
    `      field: ${quote(op.field)},`,
    `      value: ${op.value},`,
    `      attributeSet: ${quote(op.attributeSet)},`,
    ...listLines('      flags: ', op.flags, ','),
  ];
  if (op.do !== undefined) lines.push(...modeLines('do', op.do));
  if (op.dump !== undefined) lines.push(...modeLines('dump', op.dump));
  lines.push('    },');
  return lines;
}

function eventLines(ev: EventModel): string[] {
  return [
    '    {',
    `      name: ${quote(ev.name)},`,
    `      field: ${quote(ev.field)},`,
    `      value: ${ev.value},`,
    `      attributeSet: ${quote(ev.attributeSet)},`,
    ...listLines('      attributes: ', ev.attributes, ','),
    `      mcastGroup: ${quote(ev.mcastGroup)},`,
    '    },',
  ];
}

function listOf<T>(key: string, items: readonly T[], render: (item: T) => string[]): string[] {
  if (items.length === 0) return [`  ${key}: [],`];
  return [`  ${key}: [`, ...items.flatMap(render), '  ],'];
}

export function renderFamily(model: FamilyModel): string[] {
  return [
    '',
    ...docComment('', joinDoc(`Descriptor of the \`${model.name}\` family, interpreted by the runtime.`, model.doc)),
    `export const ${model.ident}: FamilyDesc = {`,
    `  name: ${quote(model.name)},`,
    `  version: ${model.version},`,
    ...setLines(model),
    ...enumLines(model),
    ...listOf('operations', model.ops, opLines),
    ...listOf('events', model.events, eventLines),
    ...listLines('  mcastGroups: ', model.mcastGroups, ','),
    '};',
    '',
    '/** The same descriptor under a family-neutral name. */',
    `export const family: FamilyDesc = ${model.ident};`,
  ];
}
