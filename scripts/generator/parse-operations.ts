// Reads `operations`: commands (do/dump with request/reply attribute lists, privilege flags) and
// notifications (`event` with its own attribute list, or `notify` sharing a command's reply).

import type { OpModeDesc } from '../../src/netlink/core/spec-types.js';
import { SpecError } from './errors.js';
import { camel, cName, pascal } from './names.js';
import { asNode, checkKeys, forEachOperation, optInt, optString, optStringList, reqString, unique, type Node } from './read.js';
import type { AttrSetModel, EnumModel, EventModel, FamilyModel, OpModel } from './model.js';

type Operations = Pick<FamilyModel, 'cmdPrefix' | 'placeholders' | 'ops' | 'events'>;

interface Context {
  readonly family: string;
  readonly sets: readonly AttrSetModel[];
  readonly enums: readonly EnumModel[];
  readonly mcastGroups: readonly string[];
}

const OP_KEYS = ['name', 'value', 'attribute-set', 'flags', 'do', 'dump', 'notify', 'event', 'mcgrp'];
const OP_IGNORED = ['doc', 'dont-validate', 'config-cond'];
const PERMISSIONS = ['admin-perm', 'uns-admin-perm'];

export function readOperations(raw: unknown, ctx: Context): Operations {
  const top = asNode(raw, 'operations');
  checkKeys(top, 'operations', ['list', 'name-prefix', 'async-prefix', 'async-enum', 'enum-model'], ['enum-name']);
  const model = optString(top, 'enum-model', 'operations');
  if (model !== undefined && model !== 'unified' && model !== 'directional') throw new SpecError('operations.enum-model', `unsupported enum-model '${model}'`);
  const directional = model === 'directional';
  const out = { placeholders: [] as Operations['placeholders'][number][], ops: [] as OpModel[], events: [] as EventModel[] };
  const notifies: { node: Node; where: string; value: number }[] = [];
  const cmdValues = new Map<number, string>();
  let next = 1;
  forEachOperation(top['list'], OP_KEYS, OP_IGNORED, (node, name, where) => {
    const value = directional ? requestValue(node, where) : optInt(node, 'value', where) ?? next;
    next = value + 1;
    if (node['event'] !== undefined || node['notify'] !== undefined) {
      if (node['notify'] !== undefined) notifies.push({ node, where, value });
      else out.events.push(readEvent(node, where, value, reqString(node, 'attribute-set', where), eventList(node, where), ctx));
      return;
    }
    if (node['mcgrp'] !== undefined) throw new SpecError(where, "'mcgrp' is only meaningful with 'event' or 'notify'");
    unique(cmdValues, value, name, where, 'command value');
    if (node['do'] === undefined && node['dump'] === undefined) {
      out.placeholders.push({ name, field: camel(name, where), value });
      return;
    }
    out.ops.push(readCommand(node, where, name, value, ctx, directional));
  });
  for (const n of notifies) out.events.push(readNotify(n.node, n.where, n.value, out.ops, ctx));
  checkUnique(out.ops, out.events, out.placeholders);
  checkEventValues(out.events, optString(top, 'async-enum', 'operations'), ctx.enums);
  return { cmdPrefix: cName(optString(top, 'name-prefix', 'operations') ?? `${ctx.family}-cmd-`), ...out };
}

/** enum-model directional: the command is the value of its requests (do's, else dump's); replies carry their own. */
function requestValue(node: Node, where: string): number {
  if (node['value'] !== undefined) throw new SpecError(`${where}.value`, "with enum-model directional the values go on 'request' and 'reply'");
  if (node['event'] !== undefined || node['notify'] !== undefined) throw new SpecError(where, 'notifications are not supported with enum-model directional');
  for (const mode of ['do', 'dump']) {
    const request = (node[mode] as Node | undefined)?.['request'] as Node | undefined;
    const value = request === undefined ? undefined : optInt(asNode(request, `${where}.${mode}.request`), 'value', `${where}.${mode}.request`);
    if (value !== undefined) return value;
  }
  throw new SpecError(where, 'with enum-model directional a request needs its value');
}

function readCommand(node: Node, where: string, name: string, value: number, ctx: Context, directional: boolean): OpModel {
  const attributeSet = reqString(node, 'attribute-set', where);
  const set = findSet(attributeSet, `${where}.attribute-set`, ctx);
  const flags = optStringList(node, 'flags', where) ?? [];
  for (const flag of flags) {
    if (!PERMISSIONS.includes(flag)) throw new SpecError(`${where}.flags`, `unsupported flag '${flag}'`);
  }
  const doc = optString(node, 'doc', where);
  const op: OpModel = { name, field: camel(name, where), ident: pascal(name, where), value, attributeSet, flags, doc };
  const modes: { do?: OpModeDesc; dump?: OpModeDesc } = {};
  for (const mode of ['do', 'dump'] as const) {
    if (node[mode] !== undefined) modes[mode] = readMode(node[mode], `${where}.${mode}`, set, directional);
  }
  return { ...op, ...modes };
}

function readMode(raw: unknown, where: string, set: AttrSetModel, directional: boolean): OpModeDesc {
  const node = asNode(raw, where);
  checkKeys(node, where, ['request', 'reply'], ['pre', 'post']);
  const mode: { request?: { value?: number; attributes: string[] }; reply?: { value?: number; attributes: string[] } } = {};
  for (const part of ['request', 'reply'] as const) {
    if (node[part] === undefined) continue;
    const at = `${where}.${part}`;
    const msg = asNode(node[part], at);
    checkKeys(msg, at, directional ? ['value', 'attributes'] : ['attributes']);
    const value = optInt(msg, 'value', at);
    if (directional && value === undefined) throw new SpecError(at, 'with enum-model directional each request and reply needs its value');
    mode[part] = { ...(value === undefined ? {} : { value }), attributes: attrList(msg, at, set) };
  }
  return mode;
}

function attrList(node: Node, where: string, set: AttrSetModel): string[] {
  const list = optStringList(node, 'attributes', where) ?? [];
  const seen = new Map<string, string>();
  for (const name of list) {
    unique(seen, name, name, `${where}.attributes`, 'attribute');
    if (!set.attrs.some((a) => a.name === name)) {
      throw new SpecError(`${where}.attributes`, `'${name}' is not an attribute of set '${set.name}'`);
    }
  }
  return list;
}

function eventList(node: Node, where: string): Node {
  const event = asNode(node['event'], `${where}.event`);
  checkKeys(event, `${where}.event`, ['attributes']);
  return event;
}

function readEvent(node: Node, where: string, value: number, attributeSet: string, event: Node, ctx: Context): EventModel {
  if (node['do'] !== undefined || node['dump'] !== undefined) throw new SpecError(where, "a notification cannot also have 'do' or 'dump'");
  if (node['flags'] !== undefined) throw new SpecError(where, "'flags' is not supported on a notification");
  if (node['event'] !== undefined && node['notify'] !== undefined) throw new SpecError(where, "use either 'event' or 'notify', not both");
  const set = findSet(attributeSet, `${where}.attribute-set`, ctx);
  const mcastGroup = reqString(node, 'mcgrp', where);
  if (!ctx.mcastGroups.includes(mcastGroup)) throw new SpecError(`${where}.mcgrp`, `unknown multicast group '${mcastGroup}'`);
  const name = node['name'] as string;
  const attributes = attrList(event, `${where}.event`, set);
  const doc = optString(node, 'doc', where);
  return { name, field: camel(name, where), ident: pascal(name, where), value, attributeSet, attributes, mcastGroup, doc };
}

function readNotify(node: Node, where: string, value: number, ops: readonly OpModel[], ctx: Context): EventModel {
  const target = reqString(node, 'notify', where);
  const op = ops.find((o) => o.name === target);
  if (op === undefined) throw new SpecError(`${where}.notify`, `unknown command '${target}'`);
  const reply = op.do?.reply;
  if (reply === undefined) throw new SpecError(`${where}.notify`, `command '${target}' has no do reply to share`);
  const attributeSet = optString(node, 'attribute-set', where) ?? op.attributeSet;
  return readEvent(node, where, value, attributeSet, { attributes: reply.attributes }, ctx);
}

function findSet(name: string, where: string, ctx: Context): AttrSetModel {
  const set = ctx.sets.find((s) => s.name === name);
  if (set === undefined) throw new SpecError(where, `unknown attribute set '${name}'`);
  return set;
}

function checkUnique(ops: readonly OpModel[], events: readonly EventModel[], placeholders: Operations['placeholders']): void {
  const fields = new Map<string, string>();
  for (const op of [...placeholders, ...ops]) unique(fields, op.field, op.name, 'operations', 'command key');
  const eventFields = new Map<string, string>();
  const eventValues = new Map<number, string>();
  for (const ev of events) {
    unique(eventFields, ev.field, ev.name, 'operations', 'event key');
    unique(eventValues, ev.value, ev.name, 'operations', 'event value');
  }
}

/** When `async-enum` names an enum of the spec, each event must sit at that enum's value. */
function checkEventValues(events: readonly EventModel[], asyncEnum: string | undefined, enums: readonly EnumModel[]): void {
  const table = enums.find((e) => asyncEnum !== undefined && (e.cEnumName === asyncEnum || e.name === asyncEnum));
  if (table === undefined) return;
  for (const ev of events) {
    const entry = table.entries.find((e) => e.name === ev.name);
    if (entry === undefined) throw new SpecError(`operations (${ev.name})`, `event has no entry in enum '${table.name}'`);
    if (entry.value !== ev.value) {
      throw new SpecError(`operations (${ev.name})`, `event value ${ev.value} differs from ${entry.value} in enum '${table.name}'`);
    }
  }
}
