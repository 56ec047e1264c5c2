// Doctor capability: checks of endpoints against the addresses the namespace really has — missing
// addresses, wrong devices, usable addresses without an endpoint, announced addresses nobody serves.

import { isLinkLocal, isLoopback } from '../os/address.js';
import type { Check, DoctorContext, Finding } from './types.js';

const usable = (ctx: DoctorContext) => ctx.addresses.filter((a) => {
  const link = ctx.links.find((l) => l.index === a.ifindex);
  return link && !link.loopback && a.scope < 254 && !isLinkLocal(a.address) && !isLoopback(a.address) && !a.dadfailed;
});
const linkName = (ctx: DoctorContext, index: number | undefined): string => ctx.links.find((l) => l.index === index)?.name ?? `#${index}`;

export const endpointAddresses: Check = {
  name: 'endpoint-addresses',
  run(ctx) {
    const out: Finding[] = [];
    for (const ep of ctx.endpoints) {
      const where = ctx.addresses.filter((a) => a.address === ep.address);
      if (where.length === 0) {
        out.push({
          severity: 'error',
          code: 'endpoint-address-missing',
          message: `endpoint id ${ep.id} uses ${ep.address}, which is not configured on any interface: subflows from it cannot be created (and an announcement of it leads peers nowhere)`,
          fix: `${ctx.ip} mptcp endpoint delete id ${ep.id}   # or add the address: ${ctx.ip} addr add ${ep.address}/LEN dev IFNAME`,
        });
      } else if (ep.ifindex !== undefined && !where.some((a) => a.ifindex === ep.ifindex)) {
        const real = linkName(ctx, where[0].ifindex);
        out.push({
          severity: 'warning',
          code: 'endpoint-wrong-device',
          message: `endpoint id ${ep.id} (${ep.address}) says dev ${linkName(ctx, ep.ifindex)}, but the address is on ${real}: its subflows are bound to the wrong interface`,
          fix: `${ctx.ip} mptcp endpoint delete id ${ep.id} && ${ctx.ip} mptcp endpoint add ${ep.address} dev ${real} ${ep.flags.filter((f) => f !== 'implicit').join(' ')}`,
        });
      }
    }
    return out;
  },
};

export const addressesWithoutEndpoint: Check = {
  name: 'addresses-without-endpoint',
  run(ctx) {
    if (ctx.pathManager !== 'kernel') return [];
    const addrs = usable(ctx);
    // Only a multihomed host has something to gain: with one interface, no endpoint is needed.
    if (new Set(addrs.map((a) => a.ifindex)).size < 2) return [];
    return addrs.filter((a) => !ctx.endpoints.some((e) => e.address === a.address)).map((a) => ({
      severity: 'info' as const,
      code: 'address-without-endpoint',
      message: `${a.address} on ${linkName(ctx, a.ifindex)} has no endpoint: the in-kernel path manager never opens a subflow from it`,
      fix: `${ctx.ip} mptcp endpoint add ${a.address} dev ${linkName(ctx, a.ifindex)} subflow   # or: mptcp-pm auto --config FILE`,
    }));
  },
};

export const signalListeners: Check = {
  name: 'signal-listeners',
  run(ctx) {
    const out: Finding[] = [];
    for (const ep of ctx.endpoints.filter((e) => e.flags.includes('signal'))) {
      const fam = ep.family === 'inet' ? 4 : 16;
      const wild = (a: string): boolean => a === '0.0.0.0' || a === '::';
      if (ep.port !== undefined) {
        if (!ctx.listeners.some((l) => l.port === ep.port && (l.address === ep.address || wild(l.address)))) {
          out.push({
            severity: 'error',
            code: 'signal-port-not-listening',
            message: `endpoint id ${ep.id} announces ${ep.address} port ${ep.port}, but nothing listens there: every join to it is refused`,
            fix: `${ctx.ip} mptcp endpoint delete id ${ep.id} && ${ctx.ip} mptcp endpoint add ${ep.address} port ${ep.port} signal`,
          });
        }
        continue;
      }
      // Without a port, peers join the announced address on the connection's own port: a server
      // bound to one address only cannot accept them.
      const bound = ctx.listeners.filter((l) => !wild(l.address) && l.address !== ep.address && (l.address.includes(':') ? 16 : 4) === fam
        && !ctx.listeners.some((w) => w.port === l.port && (wild(w.address) || w.address === ep.address)));
      for (const port of new Set(bound.map((l) => l.port))) {
        out.push({
          severity: 'warning',
          code: 'signal-port-not-listening',
          message: `endpoint id ${ep.id} announces ${ep.address}, but the listener on port ${port} is bound to ${bound.find((l) => l.port === port)?.address} only: peers joining ${ep.address}:${port} are refused`,
          fix: `${ctx.ip} mptcp endpoint delete id ${ep.id} && ${ctx.ip} mptcp endpoint add ${ep.address} port ${port} signal   # the kernel then listens there itself; or bind the server to ${ep.family === 'inet' ? '0.0.0.0' : '::'}`,
        });
      }
    }
    return out;
  },
};
