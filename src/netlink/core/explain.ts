// Extended-ACK translation: the kernel points at a request attribute by byte offset, or names a
// missing one by type number; these turn both into attribute names from a family's tables.

import { NLA_TYPE_MASK, walkAttrs } from './attr.js';
import type { AttrSetDesc, FamilyDesc } from './spec-types.js';
import type { ExtAck } from './errors.js';

/** Size of `struct nlmsghdr`: extack offsets count from the start of the request message. */
const NLMSG_HDRLEN = 16;

function byType(set: AttrSetDesc | undefined, type: number): { name: string; nested?: string } | undefined {
  return set?.attrs.find((a) => a.type === type);
}

/**
 * Names the attribute that starts at (or contains) byte `offset` of `request` (a whole message),
 * whose attributes start after `headLen` bytes of fixed header and follow attribute set `setName`.
 * Nested attributes are named with dots (`addr.id`); unknown types as `type N`.
 */
export function attributeAt(family: FamilyDesc, setName: string, request: Buffer, headLen: number, offset: number): string | undefined {
  const path: string[] = [];
  let set: AttrSetDesc | undefined = family.attributeSets[setName];
  let start = NLMSG_HDRLEN + headLen;
  let end = request.length;
  for (let depth = 0; depth < 8; depth++) {
    let hit: { type: number; at: number; p: number; q: number } | undefined;
    try {
      walkAttrs(request, start, end, 'request', (rawType, p, q, at) => {
        if (offset >= at && offset < q) hit = { type: rawType & NLA_TYPE_MASK, at, p, q };
      });
    } catch {
      return undefined;
    }
    if (!hit) return path.length ? path.join('.') : undefined;
    const a = byType(set, hit.type);
    path.push(a?.name ?? `type ${hit.type}`);
    if (offset === hit.at || !a?.nested) return path.join('.');
    set = family.attributeSets[a.nested];
    start = hit.p;
    end = hit.q;
  }
  return path.join('.');
}

/**
 * Names what an extended ACK points at: the attribute at its offset, or the missing attribute
 * (`missingNest` names the nest it was missing from). Undefined when the ACK names nothing.
 */
export function explainExtAck(family: FamilyDesc, setName: string, request: Buffer, headLen: number, extack: ExtAck): string | undefined {
  if (extack.missingType !== undefined) {
    let set = family.attributeSets[setName];
    let prefix = '';
    if (extack.missingNest !== undefined) {
      const nest = attributeAt(family, setName, request, headLen, extack.missingNest);
      if (nest !== undefined) {
        prefix = `${nest}.`;
        let s: AttrSetDesc | undefined = family.attributeSets[setName];
        for (const part of nest.split('.')) s = family.attributeSets[s?.attrs.find((a) => a.name === part)?.nested ?? ''];
        if (s) set = s;
      }
    }
    return `${prefix}${byType(set, extack.missingType)?.name ?? `type ${extack.missingType}`}`;
  }
  if (extack.offset !== undefined) return attributeAt(family, setName, request, headLen, extack.offset);
  return undefined;
}
