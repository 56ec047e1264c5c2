// rtnetlink layer: links, addresses, routes and rules in string form (what `ip` prints), read and
// written through a RouteSocket with the `netlink` package's message codecs.

import { AttrStream, rt } from 'netlink';
import { AF_INET, AF_INET6, bytesToIp, ipToBytes } from '../../os/address.js';
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

export const RTN_UNICAST = 1;
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;
export const RT_TABLE_MAIN = 254;
export const FR_ACT_TO_TBL = 1;

const fam = (n: number | undefined): 'inet' | 'inet6' => (n === AF_INET6 ? 'inet6' : 'inet');
const famNo = (f: 'inet' | 'inet6'): number => (f === 'inet6' ? AF_INET6 : AF_INET);
const enumNo = (e: Record<string, string | number>, v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' ? Number(e[v] ?? 0) : 0);

/** Each reply of `op` in string form; one that cannot be (an address of 5 bytes, …) is a DecodeError. */
function convert<M, T>(op: string, msgs: M[], fn: (m: M) => T): T[] {
  return msgs.map((m) => decoding(`rtnetlink ${op} reply`, () => fn(m)));
}

function encode(fn: (out: AttrStream) => void): Uint8Array[] {
  const out = new AttrStream();
  fn(out);
  return out.bufs;
}

/** RTM_GETLINK dump. */
export async function listLinks(sock: RouteSocket): Promise<LinkInfo[]> {
  const msgs = await sock.request(rt.MessageType.GETLINK, encode((o) => rt.formatLinkMessage({ kind: 'link', data: {}, attrs: {} }, o)), { op: 'getlink', dump: true });
  return convert('getlink', msgs.filter((m): m is rt.LinkMessage => m.kind === 'link'), linkFrom);
}

export function linkFrom(m: rt.LinkMessage): LinkInfo {
  const f = m.data.flags ?? {};
  return { index: m.data.index ?? 0, name: m.attrs.ifname ?? '', up: !!f.up, running: !!f.running, loopback: !!f.loopback };
}

/** RTM_GETADDR dump (both families). */
export async function listAddresses(sock: RouteSocket): Promise<IfAddress[]> {
  const msgs = await sock.request(rt.MessageType.GETADDR, encode((o) => rt.formatAddressMessage({ kind: 'address', data: {}, attrs: {} }, o)), { op: 'getaddr', dump: true });
  return convert('getaddr', msgs.filter((m): m is rt.AddressMessage => m.kind === 'address'), addressFrom).filter((a): a is IfAddress => a !== undefined);
}

export function addressFrom(m: rt.AddressMessage): IfAddress | undefined {
  // IFA_LOCAL is the interface's own address (IFA_ADDRESS is the peer on point-to-point links).
  const raw = m.attrs.local ?? m.attrs.address;
  if (!raw) return undefined;
  const flags = { ...m.data.flags, ...m.attrs.flags };
  return {
    ifindex: m.data.index ?? 0,
    family: fam(m.data.family),
    address: bytesToIp(raw),
    prefixlen: m.data.prefixlen ?? 0,
    scope: m.data.scope ?? 0,
    tentative: !!flags.tentative,
    deprecated: !!flags.deprecated,
    dadfailed: !!flags.dadfailed,
  };
}

/** RTM_GETROUTE dump of one family, every table. */
export async function listRoutes(sock: RouteSocket, family: 'inet' | 'inet6'): Promise<RouteEntry[]> {
  const msgs = await sock.request(rt.MessageType.GETROUTE, encode((o) => rt.formatRouteMessage({ kind: 'route', data: { family: famNo(family) }, attrs: {} }, o)), { op: 'getroute', dump: true });
  return convert('getroute', msgs.filter((m): m is rt.RouteMessage => m.kind === 'route'), routeFrom);
}

export function routeFrom(m: rt.RouteMessage): RouteEntry {
  const d = m.data;
  return {
    family: fam(d.family),
    table: m.attrs.table ?? d.table ?? 0,
    protocol: enumNo(rt.RouteProtocol as never, d.protocol),
    scope: enumNo(rt.RouteScope as never, d.scope),
    type: enumNo(rt.RouteType as never, d.type),
    ...(m.attrs.dst ? { dst: bytesToIp(m.attrs.dst) } : {}),
    dstLen: d.dstLen ?? 0,
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

function routeMessage(r: RouteSpec): Uint8Array[] {
  const table = r.table < 256 ? r.table : 252; // RT_TABLE_COMPAT in the header, the real id in RTA_TABLE
  return encode((o) => rt.formatRouteMessage({
    kind: 'route',
    data: { family: famNo(r.family), dstLen: r.dstLen, table, protocol: r.protocol as never, scope: r.scope as never, type: 'UNICAST' },
    attrs: {
      table: r.table,
      oif: r.oif,
      ...(r.dst ? { dst: ipToBytes(r.dst) } : {}),
      ...(r.gateway ? { gateway: ipToBytes(r.gateway) } : {}),
    },
  }, o));
}

/** RTM_NEWROUTE; `replace` swaps a route with the same key instead of failing with EEXIST. CAP_NET_ADMIN. */
export async function addRoute(sock: RouteSocket, r: RouteSpec, replace = false): Promise<void> {
  await sock.request(rt.MessageType.NEWROUTE, routeMessage(r), { op: 'newroute', flags: NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL) });
}

/** RTM_DELROUTE. CAP_NET_ADMIN. @throws NetlinkError ESRCH when no such route. */
export async function deleteRoute(sock: RouteSocket, r: RouteSpec): Promise<void> {
  await sock.request(rt.MessageType.DELROUTE, routeMessage(r), { op: 'delroute' });
}

/** RTM_GETRULE dump of one family. */
export async function listRules(sock: RouteSocket, family: 'inet' | 'inet6'): Promise<RuleEntry[]> {
  const msgs = await sock.request(rt.MessageType.GETRULE, encode((o) => rt.formatRuleMessage({ kind: 'rule', data: { family: famNo(family) }, attrs: {} }, o)), { op: 'getrule', dump: true });
  return convert('getrule', msgs.filter((m): m is rt.RuleMessage => m.kind === 'rule'), ruleFrom);
}

export function ruleFrom(m: rt.RuleMessage): RuleEntry {
  const a = m.attrs;
  const selectors = !!(a.dst || a.iifname || a.oifname || a.fwmark || a.fwmask || a.uidRange || a.ipProto || a.sportRange || a.dportRange || m.data.tos);
  return {
    family: fam(m.data.family),
    priority: a.priority ?? 0,
    table: a.table ?? m.data.table ?? 0,
    protocol: a.protocol ?? 0,
    action: enumNo(rt.RuleAction as never, m.data.action),
    ...(a.src ? { src: bytesToIp(a.src) } : {}),
    srcLen: m.data.srcLen ?? 0,
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

function ruleMessage(r: RuleSpec): Uint8Array[] {
  return encode((o) => rt.formatRuleMessage({
    kind: 'rule',
    data: { family: famNo(r.family), srcLen: r.srcLen, table: r.table < 256 ? r.table : 0, action: 'toTbl' },
    attrs: { src: ipToBytes(r.src), priority: r.priority, table: r.table, protocol: r.protocol },
  }, o));
}

/** RTM_NEWRULE (exclusive). CAP_NET_ADMIN. @throws NetlinkError EEXIST for an identical rule. */
export async function addRule(sock: RouteSocket, r: RuleSpec): Promise<void> {
  await sock.request(rt.MessageType.NEWRULE, ruleMessage(r), { op: 'newrule', flags: NLM_F_CREATE | NLM_F_EXCL });
}

/** RTM_DELRULE. CAP_NET_ADMIN. @throws NetlinkError ENOENT when no such rule. */
export async function deleteRule(sock: RouteSocket, r: RuleSpec): Promise<void> {
  await sock.request(rt.MessageType.DELRULE, ruleMessage(r), { op: 'delrule' });
}

/**
 * RTM_GETROUTE for one destination (what `ip route get DST from SRC [oif DEV]` prints): the route
 * the kernel would pick, rules included. Resolves undefined when there is none (ENETUNREACH).
 */
export async function lookupRoute(sock: RouteSocket, q: { dst: string; src?: string; oif?: number }): Promise<RouteEntry | undefined> {
  const bytes = ipToBytes(q.dst);
  const full = bytes.length * 8;
  const payload = encode((o) => rt.formatRouteMessage({
    kind: 'route',
    data: { family: bytes.length === 4 ? AF_INET : AF_INET6, dstLen: full, srcLen: q.src ? full : 0 },
    attrs: { dst: bytes, ...(q.src ? { src: ipToBytes(q.src) } : {}), ...(q.oif ? { oif: q.oif } : {}) },
  }, o));
  try {
    const msgs = await sock.request(rt.MessageType.GETROUTE, payload, { op: 'getroute' });
    const m = msgs.find((x): x is rt.RouteMessage => x.kind === 'route');
    return m ? convert('getroute', [m], routeFrom)[0] : undefined;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENETUNREACH' || code === 'EHOSTUNREACH' || code === 'ENODEV') return undefined;
    throw e;
  }
}
