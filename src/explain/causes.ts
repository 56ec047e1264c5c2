// Explain capability: the single cause of one missing subflow, judged from live state in the order a
// join needs things — the address, its link, the connection's limit, the route out, the peer.

import { lookupRoute } from '../netlink/route/ops.js';
import type { Endpoint } from '../mptcp/pm/endpoint.js';
import type { MptcpConnection } from '../mptcp/diag/model.js';
import type { DoctorContext } from '../doctor/types.js';
import { linkGateway } from '../routing/source-routing.js';
import type { MissingSubflow } from './types.js';
import { unmapV4 as plain } from '../os/address.js';

/** State of the namespace shared by every connection's explanation. */
export interface ExplainState {
  ctx: DoctorContext;
  /** The namespace's MPTCP counters (totals), undefined on kernels without them. */
  counters: Record<string, number> | undefined;
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
  const mib = st.counters;
  const joins = mib ? ` (this namespace: MPJoinSynTx ${mib.MPJoinSynTx ?? 0}, MPJoinSynAckRx ${mib.MPJoinSynAckRx ?? 0}, MPRstRx ${mib.MPRstRx ?? 0})` : '';
  return {
    ...at, cause: 'join-refused',
    evidence: `address, link, limit and route are right, yet there is no subflow from ${ep.address}`
      + (closed ? `; ${closed} of the ${total} subflow(s) this connection opened closed` : '') + `${joins}: the peer refused or reset the join`,
    // The peer decides whether it accepts joins when a connection starts: only new connections gain.
    fix: `# on the peer: ip mptcp limits set subflows 2 (and a path manager that accepts joins); connections made afterwards get the subflow`,
  };
}

export const hex = (c: MptcpConnection): string => (c.token >>> 0).toString(16).padStart(8, '0');

/** The single cause of a connection that fell back to plain TCP: which side, or a blackhole. */
export function fallbackCause(st: ExplainState, c: MptcpConnection, side: 'client' | 'server'): MissingSubflow {
  const { ctx } = st;
  const m = st.counters ?? {};
  const at = { local: plain(c.local.address), remote: plain(c.remote.address) };
  if (side === 'client' && ((m.Blackhole ?? 0) > 0 || (m.MPCapableSYNTXDisabled ?? 0) > 0)) {
    return {
      ...at, cause: 'blackhole',
      evidence: `MPTcpExtBlackhole ${m.Blackhole ?? 0}, MPCapableSYNTXDisabled ${m.MPCapableSYNTXDisabled ?? 0}: MPTCP SYNs were lost on the path, so this namespace opens connections without MPTCP for a while (net.mptcp.blackhole_timeout ${ctx.sysctl('net/mptcp/blackhole_timeout') ?? '?'} s)`,
      fix: `${ctx.exec}sysctl -w net.mptcp.blackhole_timeout=0   # turns the detection off; better: find what drops SYNs carrying MP_CAPABLE`,
    };
  }
  return {
    ...at, cause: 'fallback',
    evidence: side === 'client'
      ? `this side connected and the peer's SYN-ACK carried no MP_CAPABLE (MPCapableFallbackSYNACK ${m.MPCapableFallbackSYNACK ?? 0}): the peer does not speak MPTCP, or the path strips the option`
      : `this side accepted and the client's handshake carried no MP_CAPABLE to the end (MPCapableFallbackACK ${m.MPCapableFallbackACK ?? 0}, MPCapablePassive ${m.MPCapablePassive ?? 0})`,
    fix: side === 'client'
      ? `${ctx.exec}nstat -az MPTcpExtMPCapableFallbackSYNACK   # enable MPTCP on the peer (sysctl -w net.mptcp.enabled=1, an IPPROTO_MPTCP socket), or find what strips TCP options`
      : `${ctx.exec}nstat -az MPTcpExtMPCapableFallbackACK   # the client must open an MPTCP socket (mptcpize run, or IPPROTO_MPTCP)`,
  };
}
