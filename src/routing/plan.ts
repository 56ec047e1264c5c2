// Routing capability: what the reconciler wants, computed from the addresses and links that exist
// and the policy, and the endpoint changes that bring the kernel there. Pure functions, no I/O.

import { isLinkLocal, isLoopback } from '../os/address.js';
import type { IfAddress, LinkInfo } from '../netlink/route/ops.js';
import type { Endpoint, EndpointFlag } from '../mptcp/pm/endpoint.js';
import { ruleFor, type CheckedPolicy } from './policy.js';

/** An address the policy gives an endpoint to. */
export interface Wanted {
  address: string;
  ifname: string;
  ifindex: number;
  family: 'inet' | 'inet6';
  flags: EndpointFlag[];
}

const RT_SCOPE_HOST = 254;

/**
 * Addresses that should have an endpoint now: on a link that is up with carrier, not loopback or
 * link-local, not tentative, deprecated or failed DAD, of a managed family, matched by a rule.
 */
export function wantedAddresses(policy: CheckedPolicy, links: LinkInfo[], addrs: IfAddress[]): Wanted[] {
  const out: Wanted[] = [];
  for (const a of addrs) {
    const link = links.find((l) => l.index === a.ifindex);
    if (!link || link.loopback || !link.up || !link.running) continue;
    if (a.family === 'inet' ? !policy.ipv4 : !policy.ipv6) continue;
    if (a.scope >= RT_SCOPE_HOST || a.tentative || a.deprecated || a.dadfailed) continue;
    if (isLinkLocal(a.address) || isLoopback(a.address)) continue;
    const rule = ruleFor(policy, link.name, a.address);
    if (!rule) continue;
    out.push({ address: a.address, ifname: link.name, ifindex: link.index, family: a.family, flags: rule.flags });
  }
  return out;
}

/** Whether an endpoint id is in the reconciler's range, i.e. one it made. */
export function isOwnEndpoint(policy: CheckedPolicy, ep: Endpoint): boolean {
  return ep.id >= policy.endpointIds.min && ep.id <= policy.endpointIds.max;
}

/** Endpoint changes: remove first (frees ids and addresses), then add. */
export interface EndpointPlan {
  remove: Endpoint[];
  add: (Wanted & { id: number })[];
}

/**
 * Compares the endpoints the kernel has with what is wanted. Endpoints outside the id range are
 * never removed, and an address that already has one is left to it.
 * @throws Error when the id range is full.
 */
export function planEndpoints(policy: CheckedPolicy, wanted: Wanted[], endpoints: Endpoint[]): EndpointPlan {
  const own = endpoints.filter((e) => isOwnEndpoint(policy, e));
  const foreign = new Set(endpoints.filter((e) => !isOwnEndpoint(policy, e)).map((e) => e.address));
  const same = (w: Wanted, e: Endpoint): boolean => e.address === w.address && e.ifindex === w.ifindex
    && e.port === undefined && [...e.flags].sort().join() === [...w.flags].sort().join();
  const keep = new Set<Endpoint>();
  for (const w of wanted) {
    const e = own.find((x) => same(w, x));
    if (e) keep.add(e);
  }
  const remove = own.filter((e) => !keep.has(e));
  const used = new Set(endpoints.filter((e) => !remove.includes(e)).map((e) => e.id));
  const add: EndpointPlan['add'] = [];
  for (const w of wanted) {
    if (foreign.has(w.address) || [...keep].some((e) => e.address === w.address)) continue;
    let id = policy.endpointIds.min;
    while (used.has(id) && id <= policy.endpointIds.max) id++;
    if (id > policy.endpointIds.max) throw new Error(`no free endpoint id left in ${policy.endpointIds.min}-${policy.endpointIds.max}`);
    used.add(id);
    add.push({ ...w, id });
  }
  return { remove, add };
}
