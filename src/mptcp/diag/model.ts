// Domain layer: MPTCP connections, subflows and listeners as an administrator reads them (`ss -M`),
// built from decoded sock_diag sockets; subflows are joined to their connection by token.

import { MptcpInfoFlags, SubflowFlags, TcpState, type MptcpInfo, type TcpInfo } from '../../../generated/sock_diag.js';
import { decodeMptcpInfo, decodeTcpInfo, subflowAttrs, type DiagSocket } from '../../netlink/diag/reply.js';

export interface SocketAddress {
  address: string;
  /** Host order. */
  port: number;
}

/** Socket state name (TCP numbering, as `ss` prints it in camelCase), e.g. `established`, `listen`. */
export type SocketState = TcpState | 'unknown';

/** mptcp_info of a connection. Fields after `csumEnabled` exist only when the running kernel sends them. */
export interface MptcpConnectionInfo {
  /** The connection's local token again (mptcpi_token). */
  token?: number;
  /** Subflows beyond the initial one (kernel `subflows`, alias `extra_subflows`). */
  subflows: number;
  /** Limit of extra subflows (in-kernel PM only; 0 under the userspace PM). */
  subflowsMax: number;
  addAddrSignal: number;
  addAddrAccepted: number;
  addAddrSignalMax: number;
  addAddrAcceptedMax: number;
  /** Raw mptcpi_flags (MptcpInfoFlags bits). */
  flags: number;
  fallback: boolean;
  remoteKeyReceived: boolean;
  writeSeq: bigint;
  sndUna: bigint;
  rcvNxt: bigint;
  localAddrUsed?: number;
  localAddrMax?: number;
  csumEnabled?: boolean;
  retransmits?: number;
  bytesRetrans?: bigint;
  bytesSent?: bigint;
  bytesReceived?: bigint;
  bytesAcked?: bigint;
  /** All subflows including the initial one (6.8+). */
  subflowsTotal?: number;
  endpLaminarMax?: number;
  /** Milliseconds since the event (6.10+). */
  lastDataSent?: number;
  lastDataRecv?: number;
  lastAckRecv?: number;
}

/**
 * tcp_info of a subflow: every member the kernel sent (rtt, rttvar and rto in µs, sndCwnd, bytes*,
 * totalRetrans, …), with the packed bytes `wscale` and `bits` also split into fields.
 */
export type TcpSubflowInfo = Partial<TcpInfo> & {
  sndWscale?: number;
  rcvWscale?: number;
  deliveryRateAppLimited?: boolean;
  fastopenClientFail?: number;
};

/** Sequence details of a subflow's current mapping; sent only to CAP_NET_ADMIN. */
export interface SubflowMapping {
  relwriteSeq?: number;
  mapSeq?: bigint;
  mapSfseq?: number;
  ssnOffset?: number;
  mapDatalen?: number;
}

export interface MptcpSubflow {
  family: 4 | 6;
  local: SocketAddress;
  remote: SocketAddress;
  state: SocketState;
  /** Bound device (0 unless bound), and the interface name: of that device, else of the local address. */
  ifindex: number;
  ifname?: string;
  /** Address ids (0 = the initial subflow's). */
  localId: number;
  remoteId: number;
  /** Token of the owning connection, and the peer's (0 on MP_CAPABLE and passive join subflows). */
  token: number;
  remoteToken: number;
  backup: { local: boolean; remote: boolean };
  mpCapable: { local: boolean; remote: boolean };
  join: { local: boolean; remote: boolean };
  fullyEstablished: boolean;
  connected: boolean;
  mapValid: boolean;
  /** Raw FLAGS attribute (SubflowFlags bits). */
  flags: number;
  mapping?: SubflowMapping;
  tcp: TcpSubflowInfo;
  inode: number;
  cookie: bigint;
}

export interface MptcpConnection {
  /** Local token (mptcpi_token). */
  token: number;
  family: 4 | 6;
  state: SocketState;
  local: SocketAddress;
  remote: SocketAddress;
  ifindex: number;
  ifname?: string;
  /** The connection fell back to plain TCP (mptcp_info flag). */
  fallback: boolean;
  info: MptcpConnectionInfo;
  /** Its subflows, joined by token (TIME_WAIT subflows carry no token and are left out). */
  subflows: MptcpSubflow[];
  /** Receive / send memory in bytes (idiag_rqueue / idiag_wqueue). */
  rqueue: number;
  wqueue: number;
  uid: number;
  inode: number;
  cookie: bigint;
}

export interface MptcpListener {
  family: 4 | 6;
  local: SocketAddress;
  ifindex: number;
  ifname?: string;
  /** Connections waiting in the accept queue, and the backlog given to listen(). */
  acceptQueue: number;
  backlog: number;
  /** IPV6_V6ONLY, for AF_INET6 listeners that report it. */
  v6only?: boolean;
  uid: number;
  inode: number;
  cookie: bigint;
}

/** Maps a bound device index or a local address to an interface name. */
export type IfnameResolver = (ifindex: number, address: string) => string | undefined;

const STATE_NAMES: readonly (TcpState | undefined)[] = (() => {
  const names: (TcpState | undefined)[] = [];
  for (const [name, value] of Object.entries(TcpState)) names[value] = name as TcpState;
  return names;
})();

export function stateName(n: number): SocketState {
  return STATE_NAMES[n] ?? 'unknown';
}

function fam(s: DiagSocket): 4 | 6 {
  return s.family === 10 ? 6 : 4;
}

export function connectionInfo(raw: Partial<MptcpInfo> & Pick<MptcpInfo, 'flags'>): MptcpConnectionInfo {
  // Completed in place (no spread copies: this runs once per connection of a dump).
  const info = raw as unknown as MptcpConnectionInfo;
  info.subflows ??= 0;
  info.subflowsMax ??= 0;
  info.addAddrSignal ??= 0;
  info.addAddrAccepted ??= 0;
  info.addAddrSignalMax ??= 0;
  info.addAddrAcceptedMax ??= 0;
  info.writeSeq ??= 0n;
  info.sndUna ??= 0n;
  info.rcvNxt ??= 0n;
  info.fallback = (raw.flags & MptcpInfoFlags.fallback) !== 0;
  info.remoteKeyReceived = (raw.flags & MptcpInfoFlags.remoteKeyReceived) !== 0;
  const csum = info.csumEnabled as unknown;
  if (csum !== undefined) info.csumEnabled = csum !== 0 && csum !== false;
  return info;
}

/** An MPTCP socket of a protocol-262 dump: a connection, or a listener when its state is LISTEN. */
export function mptcpSocket(s: DiagSocket, ifname: IfnameResolver): MptcpConnection | MptcpListener {
  const base = { family: fam(s), ifindex: s.ifindex, uid: s.uid, inode: s.inode, cookie: s.cookie };
  const name = ifname(s.ifindex, s.localAddress);
  const local = { address: s.localAddress, port: s.localPort };
  if (s.state === TcpState.listen) {
    const l: MptcpListener = { ...base, local, acceptQueue: s.rqueue, backlog: s.wqueue };
    if (name !== undefined) l.ifname = name;
    if (s.attrs.skv6only !== undefined) l.v6only = s.attrs.skv6only !== 0;
    return l;
  }
  const raw = s.attrs.info === undefined ? { flags: 0, token: 0 } : decodeMptcpInfo(s.attrs.info);
  const info = connectionInfo(raw);
  const c: MptcpConnection = {
    token: raw.token, ...base, state: stateName(s.state), local, remote: { address: s.remoteAddress, port: s.remotePort },
    fallback: info.fallback, info, subflows: [], rqueue: s.rqueue, wqueue: s.wqueue,
  };
  if (name !== undefined) c.ifname = name;
  return c;
}

export function isListener(x: MptcpConnection | MptcpListener): x is MptcpListener {
  return !('token' in x);
}

export function tcpSubflowInfo(raw: Partial<TcpInfo>): TcpSubflowInfo {
  // Extended in place: copying ~70 members with a rest pattern costs more than the whole decode.
  const out: TcpSubflowInfo = raw;
  const { wscale, bits } = raw;
  if (wscale !== undefined) {
    out.sndWscale = wscale & 0xf;
    out.rcvWscale = wscale >> 4;
  }
  if (bits !== undefined) {
    out.deliveryRateAppLimited = (bits & 1) !== 0;
    out.fastopenClientFail = (bits >> 1) & 3;
  }
  return out;
}

/** A TCP socket of a protocol-6 dump that is an MPTCP subflow (ULP `mptcp` with subflow attributes). */
export function subflowSocket(s: DiagSocket, ifname: IfnameResolver): MptcpSubflow | undefined {
  const a = subflowAttrs(s.attrs);
  if (a === undefined || a.tokenLoc === undefined) return undefined;
  const f = a.flags ?? 0;
  const bit = (b: number): boolean => (f & b) !== 0;
  const sub: MptcpSubflow = {
    family: fam(s),
    local: { address: s.localAddress, port: s.localPort },
    remote: { address: s.remoteAddress, port: s.remotePort },
    state: stateName(s.state),
    ifindex: s.ifindex,
    localId: a.idLoc ?? 0,
    remoteId: a.idRem ?? 0,
    token: a.tokenLoc,
    remoteToken: a.tokenRem ?? 0,
    backup: { local: bit(SubflowFlags.bkupLoc), remote: bit(SubflowFlags.bkupRem) },
    mpCapable: { local: bit(SubflowFlags.mcapLoc), remote: bit(SubflowFlags.mcapRem) },
    join: { local: bit(SubflowFlags.joinLoc), remote: bit(SubflowFlags.joinRem) },
    fullyEstablished: bit(SubflowFlags.fullyEstablished),
    connected: bit(SubflowFlags.connected),
    mapValid: bit(SubflowFlags.mapvalid),
    flags: f,
    tcp: s.attrs.info === undefined ? {} : tcpSubflowInfo(decodeTcpInfo(s.attrs.info)),
    inode: s.inode,
    cookie: s.cookie,
  };
  const name = ifname(s.ifindex, s.localAddress);
  if (name !== undefined) sub.ifname = name;
  if (a.relwriteSeq !== undefined || a.mapSeq !== undefined) {
    sub.mapping = { relwriteSeq: a.relwriteSeq, mapSeq: a.mapSeq, mapSfseq: a.mapSfseq, ssnOffset: a.ssnOffset, mapDatalen: a.mapDatalen };
  }
  return sub;
}

/** Letters `ss` prints for the subflow flags, in its order (M m J j B b e c v). */
export function subflowFlagLetters(flags: number): string {
  const letters: [number, string][] = [
    [SubflowFlags.mcapRem, 'M'], [SubflowFlags.mcapLoc, 'm'], [SubflowFlags.joinRem, 'J'], [SubflowFlags.joinLoc, 'j'],
    [SubflowFlags.bkupRem, 'B'], [SubflowFlags.bkupLoc, 'b'], [SubflowFlags.fullyEstablished, 'e'],
    [SubflowFlags.connected, 'c'], [SubflowFlags.mapvalid, 'v'],
  ];
  return letters.filter(([b]) => (flags & b) !== 0).map(([, l]) => l).join('');
}

/**
 * Puts each subflow under the connection whose token it carries, deduplicating by cookie (a dump
 * is not a snapshot and a socket can be seen twice). Subflows sort by local id, then local port.
 */
export function joinSubflows(conns: readonly MptcpConnection[], subflows: readonly MptcpSubflow[]): void {
  const byToken = new Map<number, MptcpConnection>();
  for (const c of conns) if (c.token !== 0) byToken.set(c.token, c);
  const seen = new Set<bigint>();
  for (const s of subflows) {
    if (seen.has(s.cookie)) continue;
    seen.add(s.cookie);
    byToken.get(s.token)?.subflows.push(s);
  }
  for (const c of conns) c.subflows.sort((a, b) => a.localId - b.localId || a.local.port - b.local.port);
}
