// Explain capability: the single cause of one missing subflow, judged from live state in the order a
// join needs things — the address, its link, the connection's limit, the route out, the peer.

import { lookupRoute } from '../netlink/route/ops.js';
import type { Endpoint } from '../mptcp/pm/endpoint.js';
import type { MptcpConnection } from '../mptcp/diag/model.js';
import type { DoctorContext } from '../doctor/types.js';
import { linkGateway } from '../routing/index.js';
import type { MissingSubflow } from './types.js';
import { unmapV4 as plain } from '../os/address.js';
import { formatToken } from '../mptcp/input/token.js';
import { closedSubflows, grew, type Observed } from './watch.js';

/** State of the namespace shared by every connection's explanation. */
export interface ExplainState {
  ctx: DoctorContext;
  /** What the observation window saw: counter growth and events, never totals. */
  observed: Observed;
}

export { plain };

/**
 * Commands that make the in-kernel path manager try `ep` again on every connection: it opens
 * subflows for an endpoint when the endpoint is added, never later on its own.
 */
export function reannounce(ctx: DoctorContext, ep: Endpoint): string {
  const dev = ep.ifname ?? ctx.links.find((l) => l.index === ep.ifindex)?.name;
  const flags = ep.flags.filter((f) => f !== 'implicit').join(' ');
  return `${ctx.ip} mptcp endpoint delete id ${ep.id} && ${ctx.ip} mptcp endpoint add ${ep.address}${ep.port ? ` port ${ep.port}` : ''} id ${ep.id}${dev ? ` dev ${dev}` : ''} ${flags}`.trimEnd();
}

/** The limits command that lets `c` have one more subflow than now. */
function limitsFix(ctx: DoctorContext, c: MptcpConnection): string {
  const subflows = Math.min(8, Math.max(ctx.limits.subflows, c.info.subflows + 1));
  return `${ctx.ip} mptcp limits set subflows ${subflows} add_addr_accepted ${ctx.limits.addAddrAccepted}`;
}

/** Why the subflow from endpoint `ep` to `remote` of client-side connection `c` is missing. */
export async function causeFor(st: ExplainState, c: MptcpConnection, ep: Endpoint, remote: string): Promise<MissingSubflow> {
  const { ctx } = st;
  const at = { local: ep.address, remote };
  const addr = ctx.addresses.find((a) => a.address === ep.address);
  const epDev = ep.ifname ?? ctx.links.find((l) => l.index === ep.ifindex)?.name;
  if (!addr) {
    return {
      ...at, cause: 'address-gone',
      evidence: `endpoint id ${ep.id} uses ${ep.address}, which is configured on no interface now`,
      fix: `${ctx.ip} addr add ${ep.address}/PREFIXLEN dev ${epDev ?? 'IFNAME'} && ${reannounce(ctx, ep)}   # replace PREFIXLEN${epDev ? '' : ' and IFNAME'}: the address's prefix length (and interface)`,
    };
  }
  const link = ctx.links.find((l) => l.index === addr.ifindex);
  const dev = link?.name ?? `#${addr.ifindex}`;
  if (link && (!link.up || !link.running)) {
    return {
      ...at, cause: 'link-down',
      evidence: `${ep.address} is on ${dev}, which is ${link.up ? 'up without carrier' : 'down'}`,
      fix: `${ctx.ip} link set ${dev} up && ${reannounce(ctx, ep)}`,
    };
  }
  if (!c.subflows.some((s) => s.fullyEstablished)) {
    return {
      ...at, cause: 'join-in-progress',
      evidence: 'the connection is not fully established yet: the path manager opens subflows once the peer has acknowledged its key',
      fix: `${ctx.self} explain token ${hex(c)}   # again once data has flowed both ways`,
    };
  }
  if (c.info.subflows >= c.info.subflowsMax) {
    return {
      ...at, cause: 'limits-subflows',
      evidence: `the connection has ${c.info.subflows} additional subflow(s) and its limit is ${c.info.subflowsMax} (limits: subflows ${ctx.limits.subflows})`,
      fix: `${limitsFix(ctx, c)} && ${reannounce(ctx, ep)}`,
    };
  }
  const route = await lookupRoute(ctx.route, { dst: remote, src: ep.address, ...(ep.ifindex ? { oif: ep.ifindex } : {}) });
  if (route?.oif !== addr.ifindex) {
    const leaves = ctx.links.find((l) => l.index === route?.oif)?.name ?? 'nowhere';
    const gw = linkGateway(ctx.routes, addr.ifindex, addr.family);
    return {
      ...at, cause: 'no-source-route',
      evidence: `a packet from ${ep.address} to ${remote} leaves by ${leaves} (ip route get ${remote} from ${ep.address}), but ${ep.address} is on ${dev}`,
      fix: `${ctx.self} route add ${ep.address} dev ${dev} via ${gw ?? 'GATEWAY'} && ${reannounce(ctx, ep)}${gw ? '' : `   # replace GATEWAY with the next hop on ${dev}`}`,
    };
  }
  const joining = c.subflows.find((s) => plain(s.local.address) === ep.address && s.state === 'synSent');
  if (joining) {
    return { ...at, cause: 'join-in-progress', evidence: `a subflow from ${ep.address} is in SYN_SENT: the peer has not answered yet`, fix: `${ctx.self} explain token ${hex(c)}   # again in a moment` };
  }
  const total = c.info.subflowsTotal;
  const closed = total === undefined ? undefined : Math.max(0, total - 1 - c.info.subflows);
  const seen = [...closedSubflows(st.observed, c.token, ep.address)];
  const counted = grew(st.observed, ['MPJoinSynTx', 'MPJoinSynAckRx', 'MPJoinRejected', 'MPRstRx', 'MPRstTx']);
  if (counted) seen.push(counted);
  const watched = st.observed.deltas !== undefined || st.observed.events !== undefined;
  return {
    ...at, cause: 'join-refused',
    evidence: `address, link, limit and route are right, yet there is no subflow from ${ep.address}`
      + (closed ? `; ${closed} of the ${total} subflow(s) this connection opened closed` : '')
      + (seen.length > 0 ? `; ${seen.join('; ')}` : watched ? `; no join from ${ep.address} was tried in the last ${st.observed.seconds} s (the in-kernel path manager does not retry)` : '')
      + ': the peer refused or reset the join',
    // The peer decides whether it accepts joins when a connection starts: only new connections gain.
    fix: `# on the peer: ip mptcp limits set subflows 2 (and a path manager that accepts joins); connections made afterwards get the subflow`,
  };
}

export const hex = (c: MptcpConnection): string => formatToken(c.token);

const FALLBACK_COUNTERS = ['MPCapableFallbackSYNACK', 'MPCapableFallbackACK', 'MPCapableDataFallback', 'DssFallback', 'MPCapableSYNTXDrop', 'MPCapableSYNTXDisabled', 'Blackhole'];

/**
 * The single cause of a connection that fell back to plain TCP, judged from the connection itself:
 * whether this side asked for MPTCP in the end (the initial subflow's MP_CAPABLE flag) and whether the
 * peer's key arrived. A client that asked for nothing was paused by blackhole detection (6.12+).
 */
export function fallbackCause(st: ExplainState, c: MptcpConnection, side: 'client' | 'server'): MissingSubflow {
  const { ctx } = st;
  const at = { local: plain(c.local.address), remote: plain(c.remote.address) };
  const first = c.subflows.find((s) => !s.join.local && !s.join.remote) ?? c.subflows[0];
  const counted = grew(st.observed, FALLBACK_COUNTERS);
  const also = counted ? `; ${counted}` : '';
  const timeout = ctx.sysctl('net/mptcp/blackhole_timeout');
  const keep = 'new connections then keep MPTCP; this one stays plain TCP';
  if (side === 'client' && first !== undefined && !first.mpCapable.local && timeout !== undefined) {
    return {
      ...at, cause: 'blackhole',
      evidence: `this side connected without MP_CAPABLE in the end: MPTCP SYNs were lost on the path (or were before), so this namespace opens connections without MPTCP for a while (net.mptcp.blackhole_timeout ${timeout} s)${also}`,
      fix: `${ctx.exec}sysctl -w net.mptcp.blackhole_timeout=${timeout}   # writing it ends the pause: new connections send MP_CAPABLE again; first remove what drops SYNs carrying TCP option 30 (MPTCP), or the pause comes back`,
    };
  }
  let evidence: string;
  if (side === 'server') {
    evidence = `this side accepted a connection whose SYN asked for MPTCP, then data came without MPTCP options (no DSS mapping): the client fell back, or something on the path strips TCP option 30 after the handshake${also}`;
  } else if (first !== undefined && !first.mpCapable.local) {
    evidence = `this side connected without MP_CAPABLE in its SYN${also}`;
  } else if (c.info.remoteKeyReceived) {
    evidence = `this side connected and the handshake carried MP_CAPABLE both ways, then data came without MPTCP options (no DSS mapping): something on the path strips TCP option 30 after the handshake${also}`;
  } else {
    evidence = `this side connected and the peer's SYN-ACK carried no MP_CAPABLE: the peer does not speak MPTCP, or the path strips TCP option 30${also}`;
  }
  return {
    ...at, cause: 'fallback', evidence,
    fix: side === 'client'
      ? `# the peer must listen on an MPTCP socket (net.mptcp.enabled=1, IPPROTO_MPTCP or mptcpize run), and nothing on the path may strip TCP option 30; ${keep}`
      : `# the client must connect with an MPTCP socket (IPPROTO_MPTCP or mptcpize run), and nothing on the path may strip TCP option 30; ${keep}`,
  };
}
