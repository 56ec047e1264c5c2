// rtnetlink layer: links, addresses, routes and rules in string form (what `ip` prints), read and
// written through a RouteSocket with the generated rtnetlink codecs (messages.ts).

import { AF_INET, AF_INET6, bytesToIp, ipToBytes } from '../../os/address.js';
import {
  encode, FrAct, IfaFlags, IfinfoFlags, RT_TABLE_COMPAT, RT_TABLE_MAIN as TABLE_MAIN, RtmType,
  type AddressMessage, type LinkMessage, type RouteMessage, type RouteMsg, type RuleMessage,
} from './messages.js';
import { decoding, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, type RouteSocket } from './socket.js';

/** A network interface. */
export interface LinkInfo {
  index: number;
  name: string;
  /** Administratively up (IFF_UP). */
  up: boolean;
  /** Carrier present (IFF_RUNNING): packets can leave. */
  running: boolean;
  loopback: boolean;
}

/** An address configured on an interface. */
export interface IfAddress {
  ifindex: number;
  family: 'inet' | 'inet6';
  address: string;
  prefixlen: number;
  /** 0 global, 200 site, 253 link, 254 host. */
  scope: number;
  tentative: boolean;
  deprecated: boolean;
  dadfailed: boolean;
}

/** A route in any table. */
export interface RouteEntry {
  family: 'inet' | 'inet6';
  table: number;
  protocol: number;
  scope: number;
  /** RTN_* (1 unicast, 2 local, …). */
  type: number;
  dst?: string;
  dstLen: number;
  gateway?: string;
  oif?: number;
  priority?: number;
}

/** A routing-policy rule. */
export interface RuleEntry {
  family: 'inet' | 'inet6';
  priority: number;
  table: number;
  protocol: number;
  /** FR_ACT_* (1 lookup a table). */
  action: number;
  src?: string;
  srcLen: number;
  /** Other selectors present (destination, marks, interfaces, ports…): not a plain "from" rule. */
  selectors: boolean;
}

export const RTN_UNICAST = RtmType.unicast;
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;
export const RT_TABLE_MAIN = TABLE_MAIN;
export const FR_ACT_TO_TBL = FrAct.toTbl;

const fam = (n: number): 'inet' | 'inet6' => (n === AF_INET6 ? 'inet6' : 'inet');
const famNo = (f: 'inet' | 'inet6'): number => (f === 'inet6' ? AF_INET6 : AF_INET);

/** Each reply of `op` of the kind wanted, in string form; one that cannot be (an address of 5 bytes, …) is a DecodeError. */
function convert<K extends RouteMessage['kind'], T>(op: string, msgs: RouteMessage[], kind: K, fn: (m: Extract<RouteMessage, { kind: K }>) => T): T[] {
  return msgs.filter((m): m is Extract<RouteMessage, { kind: K }> => m.kind === kind).map((m) => decoding(`rtnetlink ${op} reply`, () => fn(m)));
}

/** RTM_GETLINK dump. */
export async function listLinks(sock: RouteSocket): Promise<LinkInfo[]> {
  const msgs = await sock.request(encode.getlinkDump({ header: {}, attrs: {} }), { op: 'getlink', dump: true });
  return convert('getlink', msgs, 'link', linkFrom);
}

export function linkFrom(m: LinkMessage): LinkInfo {
  const f = m.header.flags;
  return {
    index: m.header.index,
    name: m.attrs.ifname ?? '',
    up: (f & IfinfoFlags.up) !== 0,
    running: (f & IfinfoFlags.running) !== 0,
    loopback: (f & IfinfoFlags.loopback) !== 0,
  };
}

/** RTM_GETADDR dump (both families). */
export async function listAddresses(sock: RouteSocket): Promise<IfAddress[]> {
  const msgs = await sock.request(encode.getaddrDump({ header: {}, attrs: {} }), { op: 'getaddr', dump: true });
  return convert('getaddr', msgs, 'address', addressFrom).filter((a): a is IfAddress => a !== undefined);
}

export function addressFrom(m: AddressMessage): IfAddress | undefined {
  // IFA_LOCAL is the interface's own address (IFA_ADDRESS is the peer on point-to-point links).
  const raw = m.attrs.local ?? m.attrs.address;
  if (!raw) return undefined;
  // IFA_FLAGS, when sent, holds every flag; the header's byte only the low eight.
  const flags = m.attrs.flags ?? m.header.flags;
  return {
    ifindex: m.header.index,
    family: fam(m.header.family),
    address: bytesToIp(raw),
    prefixlen: m.header.prefixlen,
    scope: m.header.scope,
    tentative: (flags & IfaFlags.tentative) !== 0,
    deprecated: (flags & IfaFlags.deprecated) !== 0,
    dadfailed: (flags & IfaFlags.dadfailed) !== 0,
  };
}

/** RTM_GETROUTE dump of one family, every table. */
export async function listRoutes(sock: RouteSocket, family: 'inet' | 'inet6'): Promise<RouteEntry[]> {
  const msgs = await sock.request(encode.getrouteDump({ header: { family: famNo(family) }, attrs: {} }), { op: 'getroute', dump: true });
  return convert('getroute', msgs, 'route', routeFrom);
}

export function routeFrom(m: RouteMsg): RouteEntry {
  const h = m.header;
  return {
    family: fam(h.family),
    table: m.attrs.table ?? h.table,
    protocol: h.protocol,
    scope: h.scope,
    type: h.type,
    ...(m.attrs.dst ? { dst: bytesToIp(m.attrs.dst) } : {}),
    dstLen: h.dstLen,
    ...(m.attrs.gateway ? { gateway: bytesToIp(m.attrs.gateway) } : {}),
    ...(m.attrs.oif !== undefined ? { oif: m.attrs.oif } : {}),
    ...(m.attrs.priority !== undefined ? { priority: m.attrs.priority } : {}),
  };
}

/** What addRoute/deleteRoute take: a unicast route, `dst` absent for the default route. */
export interface RouteSpec {
  family: 'inet' | 'inet6';
  table: number;
  protocol: number;
  scope: number;
  dst?: string;
  dstLen: number;
  gateway?: string;
  oif: number;
}

function routeMessage(r: RouteSpec): Parameters<typeof encode.newroute>[0] {
  return {
    // A table id above 255 goes in RTA_TABLE, with RT_TABLE_COMPAT in the header.
    header: { family: famNo(r.family), dstLen: r.dstLen, table: r.table < 256 ? r.table : RT_TABLE_COMPAT, protocol: r.protocol, scope: r.scope, type: RTN_UNICAST },
    attrs: { table: r.table, oif: r.oif, ...(r.dst ? { dst: ipToBytes(r.dst) } : {}), ...(r.gateway ? { gateway: ipToBytes(r.gateway) } : {}) },
  };
}

/** RTM_NEWROUTE; `replace` swaps a route with the same key instead of failing with EEXIST. CAP_NET_ADMIN. */
export async function addRoute(sock: RouteSocket, r: RouteSpec, replace = false): Promise<void> {
  await sock.request(encode.newroute(routeMessage(r)), { op: 'newroute', flags: NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL) });
}

/** RTM_DELROUTE. CAP_NET_ADMIN. @throws NetlinkError ESRCH when no such route. */
export async function deleteRoute(sock: RouteSocket, r: RouteSpec): Promise<void> {
  await sock.request(encode.delroute(routeMessage(r)), { op: 'delroute' });
}

/** RTM_GETRULE dump of one family. */
export async function listRules(sock: RouteSocket, family: 'inet' | 'inet6'): Promise<RuleEntry[]> {
  const msgs = await sock.request(encode.getruleDump({ header: { family: famNo(family) }, attrs: {} }), { op: 'getrule', dump: true });
  return convert('getrule', msgs, 'rule', ruleFrom);
}

export function ruleFrom(m: RuleMessage): RuleEntry {
  const a = m.attrs;
  const selectors = !!(a.dst || a.iifname || a.oifname || a.fwmark || a.fwmask || a.uidRange || a.ipProto || a.sportRange || a.dportRange || m.header.tos);
  return {
    family: fam(m.header.family),
    priority: a.priority ?? 0,
    table: a.table ?? m.header.table,
    protocol: a.protocol ?? 0,
    action: m.header.action,
    ...(a.src ? { src: bytesToIp(a.src) } : {}),
    srcLen: m.header.srcLen,
    selectors,
  };
}

/** A "from ADDRESS/LEN lookup TABLE" rule. */
export interface RuleSpec {
  family: 'inet' | 'inet6';
  priority: number;
  table: number;
  protocol: number;
  src: string;
  srcLen: number;
}

function ruleMessage(r: RuleSpec): Parameters<typeof encode.newrule>[0] {
  return {
    header: { family: famNo(r.family), srcLen: r.srcLen, table: r.table < 256 ? r.table : 0, action: FR_ACT_TO_TBL },
    attrs: { src: ipToBytes(r.src), priority: r.priority, table: r.table, protocol: r.protocol },
  };
}

/** RTM_NEWRULE (exclusive). CAP_NET_ADMIN. @throws NetlinkError EEXIST for an identical rule. */
export async function addRule(sock: RouteSocket, r: RuleSpec): Promise<void> {
  await sock.request(encode.newrule(ruleMessage(r)), { op: 'newrule', flags: NLM_F_CREATE | NLM_F_EXCL });
}

/** RTM_DELRULE. CAP_NET_ADMIN. @throws NetlinkError ENOENT when no such rule. */
export async function deleteRule(sock: RouteSocket, r: RuleSpec): Promise<void> {
  await sock.request(encode.delrule(ruleMessage(r)), { op: 'delrule' });
}

/**
 * RTM_GETROUTE for one destination (what `ip route get DST from SRC [oif DEV]` prints): the route
 * the kernel would pick, rules included. Resolves undefined when there is none (ENETUNREACH).
 */
export async function lookupRoute(sock: RouteSocket, q: { dst: string; src?: string; oif?: number }): Promise<RouteEntry | undefined> {
  const bytes = ipToBytes(q.dst);
  const full = bytes.length * 8;
  const req = encode.getroute({
    header: { family: bytes.length === 4 ? AF_INET : AF_INET6, dstLen: full, srcLen: q.src ? full : 0 },
    attrs: { dst: bytes, ...(q.src ? { src: ipToBytes(q.src) } : {}), ...(q.oif ? { oif: q.oif } : {}) },
  });
  try {
    const msgs = await sock.request(req, { op: 'getroute' });
    return convert('getroute', msgs, 'route', routeFrom)[0];
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENETUNREACH' || code === 'EHOSTUNREACH' || code === 'ENODEV') return undefined;
    throw e;
  }
}
