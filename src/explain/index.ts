// Explain capability: per MPTCP connection, the subflows it has, the ones its path manager's rules call
// for (endpoints and their flags, limits, the addresses the machine has), and why each missing one is
// missing — computed from live state: sock_diag, the endpoint table, links, addresses, routes.

import { MptcpDiag } from '../mptcp/diag/diag.js';
import type { MptcpConnection } from '../mptcp/diag/model.js';
import { checkInt, checkKeys, checkNetns, checkObject } from '../mptcp/input/validate.js';
import { isLinkLocal, isLoopback } from '../os/address.js';
import { closeContext, readContext } from '../doctor/context.js';
import { findSubscribers } from '../doctor/events-listeners.js';
import { GenlSocket } from '../netlink/genl/socket.js';
import type { DoctorContext } from '../doctor/types.js';
import { causeFor, fallbackCause, hex, plain, type ExplainState } from './causes.js';
import type { ConnectionExplanation, ExpectedSubflow, ExplainOptions, MissingSubflow } from './types.js';
import { Netns } from '../os/netns.js';
import { announced, grew, observe } from './watch.js';
import { establishedTcp, plainAccepted } from './plain.js';

/** How long explain watches counters and events by default (ms). */
export const DEFAULT_EXPLAIN_WINDOW_MS = 1000;

export type * from './types.js';

/**
 * Explains the established MPTCP connections of a namespace (or the one with `token`): what subflows
 * each has, which ones the path manager should have made, and for each missing one a single cause
 * with its evidence and the commands that bring it. Reads only (sock_diag, GET_ADDR/GET_LIMITS,
 * rtnetlink dumps and route lookups, /proc); another namespace needs CAP_SYS_ADMIN.
 * @throws ValidationError for bad options, NetnsError for a namespace that cannot be opened.
 * @example for (const c of await explainConnections({ netns: 'blue' })) console.log(c.token, c.missing);
 */
export async function explainConnections(options: ExplainOptions = {}): Promise<ConnectionExplanation[]> {
  checkKeys('options', checkObject('options', options), ['netns', 'token', 'windowMs']);
  const netns = checkNetns(options.netns);
  const token = options.token === undefined ? undefined : checkInt('token', options.token, 0, 0xffffffff);
  const windowMs = options.windowMs === undefined ? DEFAULT_EXPLAIN_WINDOW_MS : checkInt('windowMs', options.windowMs, 0, 3_600_000);
  const ns = Netns.open(netns);
  try {
    // Watch first, then read the state as it is at the end of the window.
    const observed = await observe(ns, windowMs);
    const ctx = await readContext(ns, 0);
    try {
      const diag = await MptcpDiag.open({ netns: ns });
      let conns: MptcpConnection[];
      let plainOnes: ConnectionExplanation[] = [];
      try {
        // Plain TCP connections on MPTCP listeners have no token: listed only when no token is asked for.
        const before = token === undefined ? establishedTcp(ctx) : [];
        conns = await diag.connections(token === undefined ? {} : { token });
        if (token === undefined) plainOnes = plainAccepted(ctx, await diag.listeners(), conns, before, establishedTcp(ctx));
      } finally {
        diag.close();
      }
      const st: ExplainState = { ctx, observed };
      const managed = ctx.pathManager === 'userspace' ? await userspaceManaged(ctx) : true;
      const out: ConnectionExplanation[] = [];
      for (const c of conns.filter((x) => x.state === 'established')) out.push(await explainOne(st, c, managed));
      return [...out, ...plainOnes];
    } finally {
      closeContext(ctx);
    }
  } finally {
    ns.close();
  }
}

async function userspaceManaged(ctx: DoctorContext): Promise<boolean> {
  const genl = await GenlSocket.open('mptcp_pm', { netns: ctx.ns });
  const group = genl.groups.get('mptcp_pm_events');
  genl.close();
  if (group === undefined) return true;
  const subs = findSubscribers(group);
  return !subs.known || (subs.byNamespace.get(ctx.ns.id) ?? 0) > 0;
}

/** Global addresses on up links, other than loopback, link-local and tentative ones. */
function usableAddresses(ctx: DoctorContext, family: 'inet' | 'inet6'): { address: string; ifindex: number; ifname: string }[] {
  return ctx.addresses.flatMap((a) => {
    const link = ctx.links.find((l) => l.index === a.ifindex);
    if (!link || link.loopback || !link.up || a.family !== family || a.scope !== 0 || a.tentative || a.dadfailed
      || isLinkLocal(a.address) || isLoopback(a.address)) return [];
    return [{ address: a.address, ifindex: a.ifindex, ifname: link.name }];
  });
}

async function explainOne(st: ExplainState, c: MptcpConnection, managed: boolean): Promise<ConnectionExplanation> {
  const { ctx } = st;
  const local = plain(c.local.address);
  const remote = plain(c.remote.address);
  const family = local.includes(':') ? 'inet6' : 'inet';
  const side = ctx.listeners.some((l) => l.port === c.local.port) ? 'server' : 'client';
  const live = c.subflows.filter((s) => !['close', 'timeWait'].includes(s.state));
  const have = live.map((s) => ({
    local: plain(s.local.address), remote: plain(s.remote.address), localPort: s.local.port, remotePort: s.remote.port,
    state: s.state, ...(s.ifname ? { ifname: s.ifname } : {}), backup: s.backup.local,
  }));
  const result: ConnectionExplanation = {
    token: hex(c), local, remote, side, pathManager: ctx.pathManager, have, expected: [], missing: [],
  };
  const from = (a: string): boolean => live.some((s) => plain(s.local.address) === a && s.state !== 'synSent');
  if (c.fallback) {
    result.missing.push(fallbackCause(st, c, side));
    return result;
  }
  if (side === 'server') return result; // the client's path manager opens the subflows
  const initialLink = ctx.addresses.find((a) => a.address === local)?.ifindex;
  if (ctx.pathManager === 'userspace') {
    if (managed) return result; // what is expected is the managing program's policy
    for (const a of usableAddresses(ctx, family).filter((x) => x.ifindex !== initialLink && !from(x.address))) {
      result.expected.push({ local: a.address, remote, ifname: a.ifname, flags: [], present: false });
      result.missing.push({
        local: a.address, remote, cause: 'userspace-pm-unmanaged',
        evidence: `net.mptcp.path_manager is userspace and no program in this namespace listens to mptcp_pm_events`,
        fix: `${ctx.self} userspace-pm --policy kernel-compatible &   # or: ${ctx.exec}sysctl -w net.mptcp.path_manager=kernel (for new connections)`,
      });
    }
    return result;
  }
  // In-kernel path manager, the side that connected: one subflow per subflow endpoint to the peer.
  const eps = ctx.endpoints.filter((e) => e.flags.includes('subflow') && e.family === family && e.address !== local)
    .sort((a, b) => a.id - b.id);
  for (const ep of eps) {
    const e: ExpectedSubflow = {
      local: ep.address, remote, endpointId: ep.id, flags: ep.flags.filter((f) => f !== 'implicit'),
      ...(ep.ifname ? { ifname: ep.ifname } : {}), present: from(ep.address),
    };
    result.expected.push(e);
    if (!e.present) result.missing.push(await causeFor(st, c, ep, remote));
  }
  // Addresses on other links that no endpoint names: the in-kernel path manager never uses them.
  for (const a of usableAddresses(ctx, family)) {
    if (a.ifindex === initialLink || ctx.endpoints.some((e) => e.address === a.address) || from(a.address)) continue;
    result.expected.push({ local: a.address, remote, ifname: a.ifname, flags: ['subflow'], present: false });
    result.missing.push({
      local: a.address, remote, cause: 'no-endpoint',
      evidence: `${a.address} on ${a.ifname} is usable but no endpoint names it`,
      fix: `${ctx.ip} mptcp endpoint add ${a.address} dev ${a.ifname} subflow   # the kernel then opens it on existing connections too`,
    });
  }
  addAddrLimit(st, c, result);
  return result;
}

/** Addresses the peer announced while explain watched, and this side ignored for its limit. */
function addAddrLimit(st: ExplainState, c: MptcpConnection, result: ConnectionExplanation): void {
  const { ctx } = st;
  for (const a of announced(st.observed, c.token)) {
    const remote = plain(a.address);
    const present = result.have.some((h) => h.remote === remote);
    result.expected.push({ local: result.local, remote, flags: ['announced'], present });
    if (present) continue;
    const accepted = c.info.addAddrAccepted;
    const counted = grew(st.observed, ['AddAddr', 'AddAddrDrop']);
    if (accepted >= c.info.addAddrAcceptedMax || ctx.limits.addAddrAccepted === 0) {
      result.missing.push({
        local: result.local, remote, cause: 'limits-add-addr-accepted',
        evidence: `the peer announced ${remote}${a.id === undefined ? '' : ` (id ${a.id})`} in the last ${st.observed.seconds} s and this connection has accepted ${accepted} of the ${c.info.addAddrAcceptedMax} announced address(es) it may (limits: add_addr_accepted ${ctx.limits.addAddrAccepted})${counted ? `; ${counted}` : ''}`,
        fix: `${ctx.ip} mptcp limits set subflows ${Math.max(1, ctx.limits.subflows)} add_addr_accepted ${Math.min(8, Math.max(1, accepted + 1))}   # connections made from now on accept it; this one keeps ignoring what was announced`,
      });
    }
  }
}
