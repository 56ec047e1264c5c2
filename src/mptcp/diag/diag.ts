// Domain layer: MPTCP connections, their subflows and MPTCP listeners of a namespace, read through
// NETLINK_SOCK_DIAG as `ss -M` and `ss -ti` do, joined by token (the typed `ss -iaM`).

import { networkInterfaces } from 'node:os';
import { Ext, IPPROTO_MPTCP, IPPROTO_TCP, PROTONUM, SOCK_DIAG_BY_FAMILY, TcpState } from '../../../generated/sock_diag.js';
import { encodeDiagRequest, ALL_STATES } from '../../netlink/diag/request.js';
import { decodeDiagMsg } from '../../netlink/diag/reply.js';
import { scanMptcp, scanSubflow } from '../../netlink/diag/scan.js';
import { ClosedError, ValidationError } from '../../netlink/core/errors.js';
import { NetlinkSocket, type NetlinkSocketOptions } from '../../netlink/core/socket.js';
import { Netns } from '../../os/netns.js';
import { MptcpInfoFlags } from '../../../generated/sock_diag.js';
import { checkOptions, OPTION } from '../input/validate.js';
import {
  isListener, joinSubflows, mptcpSocket, stateName, subflowSocket,
  type IfnameResolver, type MptcpConnection, type MptcpListener, type MptcpSubflow,
} from './model.js';
import { unmapV4 } from '../../os/address.js';

/** Counts by state name (`established`, `synSent`, …), see {@link MptcpDiag.counts}. */
export interface DiagCounts {
  connections: Map<string, number>;
  fallback: number;
  subflows: Map<string, number>;
}

export interface MptcpDiagOptions {
  /** A namespace: a name under /run/netns, a path such as /proc/PID/ns/net, or an open Netns handle (borrowed: used, never closed). Default: the caller's. */
  netns?: string | Netns;
  /** Per-request deadline in ms. */
  timeoutMs?: number;
}


const bit = (s: number): number => 2 ** s;
/** MPTCP sockets other than listeners: leaving LISTEN out also skips the kernel's listener walk. */
const CONN_STATES = (ALL_STATES & ~bit(TcpState.listen)) >>> 0;
/** TCP sockets that can be subflows with ULP info: not listeners, TIME_WAIT or request sockets. */
const SUBFLOW_STATES = (ALL_STATES & ~(bit(TcpState.listen) | bit(TcpState.timeWait) | bit(TcpState.newSynRecv))) >>> 0;
const FAMILIES = [2, 10] as const;

/** Counts by state byte → counts by state name, leaving out zeros. */
function byName(counts: readonly number[]): Map<string, number> {
  const out = new Map<string, number>();
  counts.forEach((n, state) => {
    if (n === 0) return;
    const name = stateName(state);
    out.set(name, (out.get(name) ?? 0) + n);
  });
  return out;
}

/** Strips the v4-mapped prefix so `::ffff:192.0.2.1` finds the interface of 192.0.2.1. */
const plainAddress = unmapV4;

/**
 * Reads MPTCP connections and listeners of one namespace. Needs no privilege (CAP_NET_ADMIN adds the
 * subflows' mapping details; before Linux 6.15 it is needed for any subflow detail). Safe to call
 * concurrently: requests share one socket and run one dump at a time.
 */
export class MptcpDiag {
  private closed = false;
  /** A socket for the dumps {@link counts} runs beside the main socket's (a socket runs one dump at a time). */
  private spare: NetlinkSocket | undefined;

  private constructor(private readonly sock: NetlinkSocket, private readonly ns: Netns, private readonly sockOpts?: NetlinkSocketOptions) {}

  /**
   * Opens a NETLINK_SOCK_DIAG socket in the namespace.
   * @throws NetnsError when the namespace cannot be opened; ValidationError for bad options.
   */
  static async open(opts: MptcpDiagOptions = {}): Promise<MptcpDiag> {
    checkOptions(opts, { netns: OPTION.netns, timeoutMs: OPTION.timeoutMs });
    const ns = Netns.open(opts.netns);
    try {
      const sockOpts: NetlinkSocketOptions = { protocol: PROTONUM, name: 'sock_diag', netns: ns, ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }) };
      return new MptcpDiag(NetlinkSocket.open(sockOpts), ns, sockOpts);
    } catch (e) {
      ns.close();
      throw e;
    }
  }

  /** For tests: a diag reader over a given socket (e.g. on a fake transport), naming interfaces of `netns`. */
  static withSocket(sock: NetlinkSocket, netns?: string | Netns): MptcpDiag {
    return new MptcpDiag(sock, Netns.open(netns));
  }

  private async dump(op: string, family: number, protocol: number, states: number, ext: number, sock = this.sock): Promise<Buffer[]> {
    if (this.closed) throw new ClosedError('MptcpDiag');
    return sock.request(SOCK_DIAG_BY_FAMILY, encodeDiagRequest({ family, protocol, ext, states }), undefined, { op, dump: true });
  }

  /** Interface names of this namespace by local address, and by index on demand. */
  private resolver(): IfnameResolver {
    const byAddress = new Map<string, string>();
    const ifs = this.ns.run(() => networkInterfaces());
    for (const [name, list] of Object.entries(ifs)) for (const a of list ?? []) byAddress.set(a.address, name);
    const byIndex = new Map<number, string | undefined>();
    return (ifindex, address) => {
      if (ifindex !== 0) {
        if (!byIndex.has(ifindex)) byIndex.set(ifindex, this.ns.interfaceName(ifindex));
        const n = byIndex.get(ifindex);
        if (n !== undefined) return n;
      }
      return byAddress.get(plainAddress(address));
    };
  }

  private async mptcpSockets(states: number, ifname: IfnameResolver): Promise<(MptcpConnection | MptcpListener)[]> {
    const out: (MptcpConnection | MptcpListener)[] = [];
    const seen = new Set<bigint>();
    for (const family of FAMILIES) {
      for (const m of await this.dump('mptcp-dump', family, IPPROTO_MPTCP, states, Ext.info)) {
        const s = decodeDiagMsg(m);
        if (seen.has(s.cookie)) continue;
        seen.add(s.cookie);
        out.push(mptcpSocket(s, ifname));
      }
    }
    return out;
  }

  private async subflows(ifname: IfnameResolver, token?: number): Promise<MptcpSubflow[]> {
    const out: MptcpSubflow[] = [];
    for (const family of FAMILIES) {
      for (const m of await this.dump('subflow-dump', family, IPPROTO_TCP, SUBFLOW_STATES, Ext.info)) {
        const sub = subflowSocket(decodeDiagMsg(m), ifname);
        if (sub !== undefined && (token === undefined || sub.token === token)) out.push(sub);
      }
    }
    return out;
  }

  /**
   * Every MPTCP connection of the namespace (fallbacks included, flagged `fallback`) with its
   * subflows, or only the one with `token`. Sends SOCK_DIAG_BY_FAMILY dumps: MPTCP (protocol 262)
   * and TCP with INET_DIAG_INFO, in AF_INET and AF_INET6.
   * @throws ValidationError for a token outside 0..2^32-1; NetlinkError if the kernel refuses.
   */
  async connections(opts: { token?: number } = {}): Promise<MptcpConnection[]> {
    const token = opts.token;
    if (token !== undefined && (!Number.isInteger(token) || token < 0 || token > 0xffffffff)) {
      throw new ValidationError('token', `expected an integer in 0..4294967295, got ${String(token)}`);
    }
    const ifname = this.resolver();
    const conns = (await this.mptcpSockets(CONN_STATES, ifname)).filter((c): c is MptcpConnection => !isListener(c));
    const wanted = token === undefined ? conns : conns.filter((c) => c.token === token);
    if (wanted.length === 0) return [];
    joinSubflows(wanted, await this.subflows(ifname, token));
    return wanted;
  }

  /**
   * Connections and their subflows counted by state, and fallbacks: what {@link connections} would
   * show, read from each reply's state byte and the few fields needed (same dumps, nothing decoded
   * beyond them). Subflows count when their connection is in the list, as {@link connections} joins them.
   */
  async counts(): Promise<DiagCounts> {
    // Each pair of dumps (both families) runs at once on two sockets when this reader opened its
    // own; the subflow dumps are skipped when there is no connection.
    const socks = this.dumpSockets();
    const both = (op: string, protocol: number, states: number): Promise<Buffer[]> =>
      Promise.all(FAMILIES.map((f, i) => this.dump(op, f, protocol, states, Ext.info, socks[i % socks.length]))).then(([a, b]) => a.concat(b));
    // Counted per state byte, named once at the end.
    const connections = new Array<number>(256).fill(0);
    const subflows = new Array<number>(256).fill(0);
    let fallback = 0;
    const tokens = new Set<number>();
    const seen = new Set<number | bigint>();
    for (const m of await both('mptcp-dump', IPPROTO_MPTCP, CONN_STATES)) {
      const s = scanMptcp(m);
      if (seen.has(s.cookie)) continue;
      seen.add(s.cookie);
      connections[s.state]++;
      if ((s.flags & MptcpInfoFlags.fallback) !== 0) fallback++;
      if (s.token !== 0) tokens.add(s.token);
    }
    if (seen.size !== 0) {
      seen.clear();
      for (const m of await both('subflow-dump', IPPROTO_TCP, SUBFLOW_STATES)) {
        const s = scanSubflow(m);
        if (s === undefined || !tokens.has(s.token) || seen.has(s.cookie)) continue;
        seen.add(s.cookie);
        subflows[s.state]++;
      }
    }
    return { connections: byName(connections), fallback, subflows: byName(subflows) };
  }

  /** The main socket and a second one in this namespace, opened on first use; only the main one for a reader given its socket. */
  private dumpSockets(): NetlinkSocket[] {
    if (this.sockOpts === undefined) return [this.sock];
    this.spare ??= NetlinkSocket.open(this.sockOpts);
    return [this.sock, this.spare];
  }

  /**
   * MPTCP listening sockets (Linux 5.19+ reports them; older kernels give an empty list).
   * Sends SOCK_DIAG_BY_FAMILY dumps of protocol 262 for state LISTEN in both families.
   */
  async listeners(): Promise<MptcpListener[]> {
    return (await this.mptcpSockets(bit(TcpState.listen), this.resolver())).filter(isListener);
  }

  /** Closes the socket and the namespace handle. Idempotent; later calls reject. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.close();
    this.spare?.close();
    this.ns.close();
  }
}
