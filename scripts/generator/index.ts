// Generator entry points: render spec text to the TypeScript module, or generate a file from a spec path.

import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SpecError } from './errors.js';
import type { FamilyModel } from './model.js';
import { parseSpec } from './parse.js';
import { groupKey, renderConsts, renderEnums, renderGroups, renderHeader, renderOpTable } from './render-definitions.js';
import { renderFamily } from './render-family.js';
import { messageTypes, renderEventTypes, renderMessageTypes, renderSetTypes } from './render-types.js';
import { parseRawSpec, renderRaw, specProtocol } from './raw.js';

export { SpecError } from './errors.js';
export { parseSpec } from './parse.js';

/** Repository root (this file lives in scripts/generator/). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_SPEC = resolve(REPO_ROOT, 'scripts/spec/mptcp_pm.yaml');
export const DEFAULT_OUT = resolve(REPO_ROOT, 'generated/mptcp_pm.ts');

/** Every exported identifier of the output must be distinct; a spec can make two coincide. */
function checkIdentifiers(model: FamilyModel): void {
  const seen = new Map<string, string>();
  const add = (ident: string, what: string): void => {
    const previous = seen.get(ident);
    if (previous !== undefined) throw new SpecError('', `generated name '${ident}' is used by both ${previous} and ${what}`);
    seen.set(ident, what);
  };
  for (const fixed of ['FamilyDesc', 'UnknownAttr', 'FAMILY_NAME', 'FAMILY_VERSION', 'Op', 'family']) add(fixed, 'the generator');
  add(model.ident, 'the family descriptor');
  if (model.events.length > 0) add('EventMap', 'the event map');
  if (model.mcastGroups.length > 0) add('McastGroup', 'the multicast group names');
  const keys = new Map<string, string>();
  for (const g of model.mcastGroups) {
    const key = groupKey(model.name, g);
    const other = keys.get(key);
    if (other !== undefined) throw new SpecError('mcast-groups', `groups '${other}' and '${g}' give the same key '${key}'`);
    keys.set(key, g);
  }
  for (const c of model.consts) add(c.ident, `constant '${c.name}'`);
  for (const e of model.enums) add(e.ident, `${e.kind} '${e.name}'`);
  for (const s of model.attrSets) add(s.ident, `attribute set '${s.name}'`);
  for (const m of messageTypes(model)) add(m.ident, `the ${m.mode} ${m.part} of '${m.op}'`);
  for (const ev of model.events) add(`${ev.ident}Event`, `event '${ev.name}'`);
}

/** Renders spec bytes; `source` is the spec path shown in the header. */
export function renderSpec(spec: Uint8Array | string, source: string): string {
  const bytes = typeof spec === 'string' ? Buffer.from(spec, 'utf8') : spec;
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const text = Buffer.from(bytes).toString('utf8');
  if (specProtocol(text) === 'netlink-raw') return `${renderRaw(parseRawSpec(text), source, sha256).join('\n')}\n`;
  const model = parseSpec(text);
  checkIdentifiers(model);
  const lines = [
    ...renderHeader(model, source, sha256),
    ...renderConsts(model),
    ...renderEnums(model),
    ...renderOpTable(model),
    ...renderGroups(model),
    ...renderSetTypes(model),
    ...renderMessageTypes(model),
    ...renderEventTypes(model),
    ...renderFamily(model),
  ];
  return `${lines.join('\n')}\n`;
}

/** Every spec under scripts/spec/ with the generated module it renders to (generated/<name>.ts). */
export function allSpecs(): { spec: string; out: string }[] {
  const dir = resolve(REPO_ROOT, 'scripts/spec');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({ spec: resolve(dir, f), out: resolve(REPO_ROOT, 'generated', f.replace(/\.yaml$/, '.ts')) }));
}

/** Path of `file` relative to the repository root, with forward slashes. */
export function sourceName(file: string): string {
  return relative(REPO_ROOT, resolve(file)).split(sep).join('/');
}

/** Reads `specPath`, renders it and writes `outPath`; returns the rendered text. */
export function generate(specPath: string = DEFAULT_SPEC, outPath: string = DEFAULT_OUT): string {
  const text = renderSpec(readFileSync(specPath), sourceName(specPath));
  mkdirSync(dirname(resolve(outPath)), { recursive: true });
  writeFileSync(outPath, text);
  return text;
}
