// rtnetlink layer: the message codec. Each rtnetlink message is a fixed header struct and an
// attribute set; both come from the generated rt_* modules (scripts/spec/rt_*.yaml) and are read and
// written by the netlink core's struct and attribute codecs.

import * as addr from '../../../generated/rt_addr.js';
import * as link from '../../../generated/rt_link.js';
import * as route from '../../../generated/rt_route.js';
import * as rule from '../../../generated/rt_rule.js';
import { decodeAttrs, encodeAttrs } from '../core/codec.js';
import type { FamilyDesc } from '../core/spec-types.js';
import { decodeStruct, encodeStruct, type StructDesc, type StructInput } from '../core/struct.js';

export type LinkMessage = { kind: 'link'; type: number; header: link.Ifinfomsg; attrs: link.LinkAttrs };
export type AddressMessage = { kind: 'address'; type: number; header: addr.Ifaddrmsg; attrs: addr.AddrAttrs };
export type RouteMsg = { kind: 'route'; type: number; header: route.Rtmsg; attrs: route.RouteAttrs };
export type RuleMessage = { kind: 'rule'; type: number; header: rule.FibRuleHdr; attrs: rule.RuleAttrs };

/** A decoded rtnetlink message; a type this layer does not read is `other`, its payload untouched. */
export type RouteMessage = LinkMessage | AddressMessage | RouteMsg | RuleMessage | { kind: 'other'; type: number };

interface Kind {
  readonly kind: 'link' | 'address' | 'route' | 'rule';
  readonly family: FamilyDesc;
  readonly header: StructDesc<unknown>;
  readonly set: string;
}

/** Each spec's operations name its message types (requests, replies, and so notifications). */
function kindOf(kind: Kind['kind'], family: FamilyDesc, ops: Record<string, { header: object; attributeSet: string; do?: object; dump?: object }>): [number, Kind][] {
  const out: [number, Kind][] = [];
  for (const op of Object.values(ops)) {
    for (const mode of [op.do, op.dump]) {
      for (const value of Object.values(mode ?? {}) as number[]) out.push([value, { kind, family, header: op.header as StructDesc<unknown>, set: op.attributeSet }]);
    }
  }
  return out;
}

const BY_TYPE: ReadonlyMap<number, Kind> = new Map([
  ...kindOf('link', link.family, link.ops),
  ...kindOf('address', addr.family, addr.ops),
  ...kindOf('route', route.family, route.ops),
  ...kindOf('rule', rule.family, rule.ops),
]);

/**
 * Decodes the payload (after the nlmsghdr) of a message of type `type`.
 * @throws DecodeError for a header shorter than its struct or a malformed attribute.
 */
export function decodeRouteMessage(type: number, payload: Uint8Array): RouteMessage {
  const k = BY_TYPE.get(type);
  if (k === undefined) return { kind: 'other', type };
  const header = decodeStruct(k.header, payload, k.header.name);
  const attrs = decodeAttrs(k.family, k.set, payload.subarray(k.header.size), k.header.name);
  return { kind: k.kind, type, header, attrs } as RouteMessage;
}

/** One request's message type and payload. */
export interface RouteRequest {
  readonly type: number;
  readonly payload: Buffer;
}

function request<H>(family: FamilyDesc, op: { header: StructDesc<H>; attributeSet: string }, type: number, msg: { header: StructInput<H>; attrs: object }): RouteRequest {
  const head = encodeStruct(op.header, msg.header);
  const attrs = encodeAttrs(family, op.attributeSet, msg.attrs as Record<string, unknown>).finish();
  return { type, payload: Buffer.concat([head, attrs]) };
}

/** The requests this library sends, typed by the generated per-operation request types. */
export const encode = {
  getlinkDump: (m: link.GetlinkDumpRequest): RouteRequest => request(link.family, link.ops.getlink, link.ops.getlink.dump.request, m),
  getaddrDump: (m: addr.GetaddrDumpRequest): RouteRequest => request(addr.family, addr.ops.getaddr, addr.ops.getaddr.dump.request, m),
  getrouteDump: (m: route.GetrouteDumpRequest): RouteRequest => request(route.family, route.ops.getroute, route.ops.getroute.dump.request, m),
  getroute: (m: route.GetrouteRequest): RouteRequest => request(route.family, route.ops.getroute, route.ops.getroute.do.request, m),
  newroute: (m: route.NewrouteRequest): RouteRequest => request(route.family, route.ops.newroute, route.ops.newroute.do.request, m),
  delroute: (m: route.DelrouteRequest): RouteRequest => request(route.family, route.ops.delroute, route.ops.delroute.do.request, m),
  getruleDump: (m: rule.GetruleDumpRequest): RouteRequest => request(rule.family, rule.ops.getrule, rule.ops.getrule.dump.request, m),
  newrule: (m: rule.NewruleRequest): RouteRequest => request(rule.family, rule.ops.newrule, rule.ops.newrule.do.request, m),
  delrule: (m: rule.DelruleRequest): RouteRequest => request(rule.family, rule.ops.delrule, rule.ops.delrule.do.request, m),
};

/** Multicast groups of rtnetlink notifications (RTNLGRP_*). */
export const RouteGroup = {
  link: link.McastGroup.rtnlgrpLink,
  ipv4Addr: addr.McastGroup.rtnlgrpIpv4Ifaddr,
  ipv6Addr: addr.McastGroup.rtnlgrpIpv6Ifaddr,
  ipv4Route: route.McastGroup.rtnlgrpIpv4Route,
  ipv6Route: route.McastGroup.rtnlgrpIpv6Route,
  ipv4Rule: rule.McastGroup.rtnlgrpIpv4Rule,
  ipv6Rule: rule.McastGroup.rtnlgrpIpv6Rule,
} as const;

export { IfinfoFlags } from '../../../generated/rt_link.js';
export { IfaFlags } from '../../../generated/rt_addr.js';
export { FrAct } from '../../../generated/rt_rule.js';
export { RtmType, RT_TABLE_COMPAT, RT_TABLE_MAIN } from '../../../generated/rt_route.js';
