// Doctor capability: the routing half of MPTCP — a subflow endpoint on a second interface needs
// packets from its address to leave by that interface (per-source rules), and replies to pass rp_filter.

import { lookupRoute, type RouteEntry } from '../netlink/route/ops.js';
import { linkGateway, TABLE_RANGE } from '../routing/index.js';
import type { Check, DoctorContext, Finding } from './types.js';

/** Destinations for the "where would a packet to the Internet go" lookups (never sent to). */
const PROBE = { inet: '198.18.0.1', inet6: '100::1' } as const;

interface Stray {
  address: string;
  family: 'inet' | 'inet6';
  ifindex: number;
  ifname: string;
  prefixlen: number;
  /** Interface packets from the address leave by now. */
  leaves: string;
  /** Subflows bound to the device (endpoint with dev) still get out. */
  boundOk: boolean;
}

/**
 * Addresses that subflows start from (subflow endpoints; with the userspace path manager, every
 * global address) whose packets leave by another interface than the one they are on.
 */
async function strays(ctx: DoctorContext): Promise<Stray[]> {
  const out: Stray[] = [];
  const sources: { address: string; ifindex?: number }[] = ctx.endpoints.filter((e) => e.flags.includes('subflow'));
  if (ctx.pathManager === 'userspace') {
    for (const a of ctx.addresses) {
      if (a.scope === 0 && !a.dadfailed && !sources.some((s) => s.address === a.address)) sources.push({ address: a.address });
    }
  }
  for (const ep of sources) {
    const a = ctx.addresses.find((x) => x.address === ep.address);
    const link = ctx.links.find((l) => l.index === a?.ifindex);
    if (!a || !link || !link.up) continue;
    const dst = PROBE[a.family];
    const plain = await lookupRoute(ctx.route, { dst });
    if (!plain) continue; // no route to anywhere: nothing about source routing to say
    const fromAddr: RouteEntry | undefined = await lookupRoute(ctx.route, { dst, src: a.address });
    if (fromAddr?.oif === link.index) continue;
    const bound = ep.ifindex ? await lookupRoute(ctx.route, { dst, src: a.address, oif: ep.ifindex }) : undefined;
    out.push({
      address: a.address, family: a.family, ifindex: link.index, ifname: link.name, prefixlen: a.prefixlen,
      leaves: ctx.links.find((l) => l.index === fromAddr?.oif)?.name ?? 'nowhere',
      boundOk: bound?.oif === link.index,
    });
  }
  return out;
}

/**
 * The table a fix for `address` should use: the one a rule from that address already points to,
 * else one no route, rule or other fix of this run uses.
 */
function tableFor(ctx: DoctorContext, address: string): number {
  const existing = ctx.rules.find((r) => r.src === address && r.srcLen === (address.includes(':') ? 128 : 32) && r.table > 0);
  if (existing && !TABLE_RESERVED.has(existing.table)) return existing.table;
  const used = new Set([...ctx.routes.map((r) => r.table), ...ctx.rules.map((r) => r.table), ...ctx.proposedTables]);
  let t = TABLE_RANGE.min;
  while (used.has(t)) t++;
  ctx.proposedTables.add(t);
  return t;
}
const TABLE_RESERVED = new Set([0, 252, 253, 254, 255]);

export const sourceRouting: Check = {
  name: 'source-routing',
  async run(ctx) {
    return (await strays(ctx)).map((s): Finding => {
      const table = tableFor(ctx, s.address);
      const gw = linkGateway(ctx.routes, s.ifindex, s.family);
      const message = `packets from ${s.address} (a subflow source on ${s.ifname}) leave by ${s.leaves}, the main table's default route: `
        + (s.boundOk
          ? 'the endpoint\'s device binding gets its own subflows out, but anything else from that address (userspace-PM subflows, replies checked by rp_filter on the way back) goes the wrong way'
          : 'its subflows go out of the wrong interface with a source address that does not belong there, and providers drop them');
      const severity = s.boundOk ? 'warning' : 'error';
      // Without a gateway on the link, only the operator knows the next hop: ask for it plainly.
      const via = gw ?? `GATEWAY   # no route on ${s.ifname} names a gateway: replace GATEWAY with the next hop on ${s.ifname}`;
      return {
        severity, code: 'missing-source-routing', message,
        fix: `${ctx.self} route add ${s.address} dev ${s.ifname} via ${via}${gw ? ` table ${table}` : ''}`,
      };
    });
  },
};

export const rpFilter: Check = {
  name: 'rp-filter',
  async run(ctx) {
    const out: Finding[] = [];
    for (const s of (await strays(ctx)).filter((x) => x.family === 'inet')) {
      const all = Number(ctx.sysctl('net/ipv4/conf/all/rp_filter') ?? 0);
      const dev = Number(ctx.sysctl(`net/ipv4/conf/${s.ifname}/rp_filter`) ?? 0);
      if (Math.max(all, dev) !== 1) continue;
      const cmds = [`${ctx.exec}sysctl -w net.ipv4.conf.${s.ifname}.rp_filter=2`];
      if (all === 1) cmds.push(`${ctx.exec}sysctl -w net.ipv4.conf.all.rp_filter=2`);
      out.push({
        severity: 'error',
        code: 'strict-rp-filter',
        message: `strict reverse-path filtering (rp_filter=1) on ${s.ifname}: replies to ${s.address} arrive there while the way back to their sender is ${s.leaves}, so the kernel drops them and subflows over ${s.ifname} never establish`,
        fix: `${cmds.join(' && ')}   # or add per-source routing for ${s.address} (see missing-source-routing)`,
      });
    }
    return out;
  },
};
