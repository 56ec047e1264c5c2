// Renders the TypeScript interfaces: one per attribute set, one per request/reply message of each
// command, one per event, and the event payload map.

import { SpecError } from './errors.js';
import type { AttrModel, AttrSetModel, FamilyModel } from './model.js';
import { docComment, joinDoc } from './text.js';

const UNKNOWN_FIELD = '  unknown?: UnknownAttr[];';

/** A generated request/reply interface: its name, the command, and which message it types. */
export interface MessageType {
  readonly ident: string;
  readonly op: string;
  readonly mode: 'do' | 'dump';
  readonly part: 'request' | 'reply';
  readonly set: string;
  readonly attributes: readonly string[];
}

export function messageTypes(model: FamilyModel): MessageType[] {
  const out: MessageType[] = [];
  for (const op of model.ops) {
    for (const mode of ['do', 'dump'] as const) {
      for (const part of ['request', 'reply'] as const) {
        const msg = op[mode]?.[part];
        if (msg === undefined) continue;
        const suffix = `${mode === 'dump' ? 'Dump' : ''}${part === 'request' ? 'Request' : 'Reply'}`;
        out.push({ ident: `${op.ident}${suffix}`, op: op.name, mode, part, set: op.attributeSet, attributes: msg.attributes });
      }
    }
  }
  return out;
}

function setOf(model: FamilyModel, name: string): AttrSetModel {
  const set = model.attrSets.find((s) => s.name === name);
  if (set === undefined) throw new SpecError('attribute-sets', `unknown set '${name}'`);
  return set;
}

function tsType(model: FamilyModel, attr: AttrModel): string | undefined {
  switch (attr.kind) {
    case 'u8': case 'u16': case 'u32': case 's8': case 's16': case 's32':
      return 'number';
    case 'u64': case 's64':
      return 'bigint';
    case 'flag':
      return 'boolean';
    case 'binary':
      return 'Uint8Array';
    case 'string':
      return 'string';
    case 'nest':
      return setOf(model, attr.nested ?? '').ident;
    case 'indexed-array':
      return `${setOf(model, attr.nested ?? '').ident}[]`;
    case 'nest-type-value':
      return (attr.typeValue ?? []).reduce((inner) => `Record<number, ${inner}>`, setOf(model, attr.nested ?? '').ident);
    case 'pad': case 'unused':
      return undefined;
  }
}

function wireNote(model: FamilyModel, attr: AttrModel): string {
  const parts: string[] = [attr.byteOrder === 'big-endian' ? `${attr.kind} big-endian` : attr.kind];
  if (attr.kind === 'nest') parts[0] = `nest of ${setOf(model, attr.nested ?? '').ident}`;
  if (attr.kind === 'indexed-array') parts[0] = `indexed array of ${setOf(model, attr.nested ?? '').ident}`;
  if (attr.kind === 'nest-type-value') parts[0] = `${setOf(model, attr.nested ?? '').ident} by ${(attr.typeValue ?? []).join(', ')}`;
  if (attr.enumName !== undefined) {
    const ident = model.enums.find((e) => e.name === attr.enumName)?.ident ?? attr.enumName;
    parts.push(`${ident} ${attr.asFlags === true ? 'bits' : 'value'}`);
  }
  if (attr.exactLen !== undefined) parts.push(`${attr.exactLen} bytes`);
  if (attr.minLen !== undefined) parts.push(`at least ${attr.minLen} bytes`);
  if (attr.maxLen !== undefined) parts.push(`at most ${attr.maxLen} bytes`);
  return `${attr.cName}: ${parts.join(', ')}.`;
}

function iface(ident: string, doc: string | undefined, fields: string[]): string[] {
  const head = docComment('', doc);
  if (fields.length === 0) return ['', ...head, `export interface ${ident} {}`];
  return ['', ...head, `export interface ${ident} {`, ...fields, '}'];
}

export function renderSetTypes(model: FamilyModel): string[] {
  const lines: string[] = [];
  for (const set of model.attrSets) {
    const fields: string[] = [];
    for (const attr of set.attrs) {
      const type = tsType(model, attr);
      if (type === undefined) continue;
      fields.push(...docComment('  ', joinDoc(wireNote(model, attr), attr.doc)), `  ${attr.field}?: ${type};`);
    }
    fields.push('  /** Attributes the spec does not describe, kept as received. */', UNKNOWN_FIELD);
    const subset = set.subsetOf === undefined ? undefined : `Subset of ${setOf(model, set.subsetOf).ident}.`;
    lines.push(...iface(set.ident, joinDoc(set.doc, subset, `C: ${set.cPrefix}*.`), fields));
  }
  return lines;
}

function pickFields(model: FamilyModel, setName: string, names: readonly string[], withUnknown: boolean): string[] {
  const set = setOf(model, setName);
  const fields: string[] = [];
  for (const name of names) {
    const attr = set.attrs.find((a) => a.name === name);
    const type = attr === undefined ? undefined : tsType(model, attr);
    if (attr !== undefined && type !== undefined) fields.push(`  ${attr.field}?: ${type};`);
  }
  if (withUnknown) fields.push(UNKNOWN_FIELD);
  return fields;
}

export function renderMessageTypes(model: FamilyModel): string[] {
  const lines: string[] = [];
  for (const m of messageTypes(model)) {
    const doc = `${m.part === 'request' ? 'Request' : 'Reply'} of \`${m.op}\` (${m.mode}).`;
    lines.push(...iface(m.ident, doc, pickFields(model, m.set, m.attributes, m.part === 'reply')));
  }
  return lines;
}

export function renderEventTypes(model: FamilyModel): string[] {
  if (model.events.length === 0) return [];
  const lines: string[] = [];
  for (const ev of model.events) {
    const doc = joinDoc(`Event \`${ev.name}\` (cmd ${ev.value}, group ${ev.mcastGroup}).`, ev.doc);
    lines.push(...iface(`${ev.ident}Event`, doc, pickFields(model, ev.attributeSet, ev.attributes, true)));
  }
  lines.push('', '/** Payload type of each event, keyed by its camelCase name. */', 'export interface EventMap {');
  for (const ev of model.events) lines.push(`  ${ev.field}: ${ev.ident}Event;`);
  lines.push('}');
  return lines;
}
