// Routing capability: per-source routing (the MPTCP tutorial's `ip rule add from ADDR table N` plus
// the subnet and default routes in N), kept in the kernel and recognised by its protocol number.

import { Netns } from '../os/netns.js';
import { NetlinkError, ValidationError } from '../netlink/core/errors.js';
import { canonicalAddress, familyOf, networkBytes, bytesToIp } from '../os/address.js';
import {
  addRoute, addRule, deleteRoute, deleteRule, listAddresses, listLinks, listRoutes, listRules,
  FR_ACT_TO_TBL, RT_SCOPE_LINK, RT_SCOPE_UNIVERSE, RT_TABLE_MAIN, RTN_UNICAST,
  type LinkInfo, type RouteEntry, type RouteSpec, type RuleEntry, type RuleSpec,
} from '../netlink/route/ops.js';
import { RouteSocket } from '../netlink/route/socket.js';
import { checkAddress, checkIfname, checkInt, checkKeys, checkNetns, checkObject } from '../mptcp/input/validate.js';
import { checkTableRange } from './policy.js';
import { RESERVED_TABLES, ROUTE_PROTOCOL, RULE_PRIORITY } from './marks.js';

/** Options of {@link SourceRouting.open}. */
export interface SourceRoutingOptions {
  /** A namespace: a name under /run/netns, a path such as /proc/PID/ns/net, or an open Netns handle (borrowed: used, never closed). Default: the caller's. */
  netns?: string | Netns;
  /** Per-request timeout (default 5000 ms). */
  timeoutMs?: number;
  /** Tables handed out when `add` names none (default 1000–1999). */
  tables?: { min: number; max: number };
  /** Priority of the rules, which also tells this set of entries from another (default 10000). */
  priority?: number;
}

/** What {@link SourceRouting.add} takes. */
export interface SourceRouteSpec {
  /** The source address: packets from it use `table`. Must be configured on `ifname`. */
  address: string;
  ifname: string;
  /**
   * Next hop of the table's default route; default: the gateway of the device's routes (its default
   * route in `main` first). Without either, `add` refuses with SourceRoutingError.
   */
  gateway?: string;
  /** Table id (1–4294967295 except 252–255); default: a free one from 1000–1999. */
  table?: number;
}

/** One per-source entry made by this library. */
export interface SourceRoute {
  address: string;
  ifname: string;
  table: number;
  gateway?: string;
}

const ENODEV = 19;

/** The namespace's state does not allow the entry (the address is not on the device, no table is free). */
export class SourceRoutingError extends Error {
  override readonly name = 'SourceRoutingError';
}
const gone = (e: unknown): boolean => e instanceof NetlinkError && ['ENOENT', 'ESRCH'].includes(e.code);

/** Checks a {@link SourceRouteSpec} before anything is sent. */
export function checkSourceRouteSpec(input: unknown): SourceRouteSpec {
  const s = checkObject('route', input);
  checkKeys('route', s, ['address', 'ifname', 'gateway', 'table']);
  const address = canonicalAddress(checkAddress('address', s.address));
  const ifname = checkIfname('ifname', s.ifname);
  const out: SourceRouteSpec = { address, ifname };
  if (s.gateway !== undefined) {
    out.gateway = canonicalAddress(checkAddress('gateway', s.gateway));
    if (familyOf(out.gateway) !== familyOf(address)) throw new ValidationError('gateway', `must be of the same family as address ${address}`);
  }
  if (s.table !== undefined) {
    out.table = checkInt('table', s.table, 1, 0xffffffff);
    if (RESERVED_TABLES.includes(out.table)) throw new ValidationError('table', `${out.table} is reserved by the kernel (252 compat, 253 default, 254 main, 255 local)`);
  }
  return out;
}

/** The network, routing tables and our rules of one namespace, read in one go. */
interface Snapshot {
  links: LinkInfo[];
  routes: RouteEntry[];
  rules: RuleEntry[];
}

/**
 * Per-source routing in one namespace. Every rule and route made here carries protocol 77, so
 * {@link list} and {@link remove} see only this library's own entries, also after a restart.
 *
 * @example
 * const rt = await SourceRouting.open({ netns: 'blue' });
 * await rt.add({ address: '198.51.100.1', ifname: 'wlan0', gateway: '198.51.100.254' });
 */
export class SourceRouting {
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(private readonly sock: RouteSocket, private readonly ns: Netns, private readonly tables: { min: number; max: number }, private readonly priority: number) {}

  /** Opens an rtnetlink socket in `netns`. @throws NetnsError for a missing namespace. */
  static async open(options: SourceRoutingOptions = {}): Promise<SourceRouting> {
    checkKeys('options', checkObject('options', options), ['netns', 'timeoutMs', 'tables', 'priority']);
    const priority = options.priority === undefined ? RULE_PRIORITY : checkInt('priority', options.priority, 1, 32765);
    if (options.timeoutMs !== undefined) checkInt('timeoutMs', options.timeoutMs, 1, 3_600_000);
    const tables = checkTableRange('tables', options.tables);
    const ns = Netns.open(checkNetns(options.netns));
    try {
      return new SourceRouting(RouteSocket.open({ netns: ns, timeoutMs: options.timeoutMs }), ns, tables, priority);
    } catch (e) {
      ns.close();
      throw e;
    }
  }

  /** Calls run one after another, so concurrent add/remove never race for a table. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async snapshot(): Promise<Snapshot> {
    const links = await listLinks(this.sock);
    const routes = [...(await listRoutes(this.sock, 'inet')), ...(await listRoutes(this.sock, 'inet6'))];
    const rules = [...(await listRules(this.sock, 'inet')), ...(await listRules(this.sock, 'inet6'))];
    return { links, routes, rules };
  }

  /**
   * Makes packets from `address` use their own table: rule `from ADDRESS lookup T` (pref 10000), and
   * in T the address's subnet on `ifname` (scope link) and a default route via the gateway. Adding an
   * address again updates its entry (new gateway, device or table). Sends RTM_NEWROUTE/RTM_NEWRULE
   * (and RTM_DEL* for what changed); needs CAP_NET_ADMIN.
   * A failed add leaves nothing behind: what it had made is removed and what it had replaced put back.
   * @throws ValidationError for bad input; SourceRoutingError when `ifname` lacks `address` or no
   *   gateway is given or found; NetlinkError ENODEV when `ifname` does not exist;
   *   NetlinkError with the kernel's words (e.g. ENETDOWN when the device is down, ENETUNREACH for a
   *   gateway not reachable from the device).
   */
  async add(spec: SourceRouteSpec): Promise<SourceRoute> {
    const s = checkSourceRouteSpec(spec);
    return this.serial(() => this.addNow(s));
  }

  private async addNow(s: SourceRouteSpec): Promise<SourceRoute> {
    const snap = await this.snapshot();
    const link = snap.links.find((l) => l.name === s.ifname);
    if (!link) throw new NetlinkError('rtnetlink', 'source-routing add', ENODEV, { message: `no interface ${JSON.stringify(s.ifname)} in this namespace` });
    const local = (await listAddresses(this.sock)).find((a) => a.ifindex === link.index && a.address === s.address);
    if (!local) throw new SourceRoutingError(`address ${s.address} is not configured on ${s.ifname}; add it first (ip addr add ${s.address}/LEN dev ${s.ifname})`);
    const family = local.family;
    const full = family === 'inet' ? 32 : 128;
    const mine = ownRules(snap.rules, this.priority).filter((r) => r.src === s.address);
    const table = s.table ?? mine[0]?.table ?? freeTable(snap, this.tables);
    const gateway = s.gateway ?? linkGateway(snap.routes, link.index, family);
    // A table without a default route sends nothing anywhere but the subnet: refuse rather than make one.
    if (!gateway) {
      throw new SourceRoutingError(`no gateway for ${s.ifname}: none of its routes has one; give it with "via" (gateway)`);
    }
    const want: RouteSpec[] = [];
    if (local.prefixlen < full) {
      const dst = bytesToIp(networkBytes(s.address, local.prefixlen));
      want.push({ family, table, protocol: ROUTE_PROTOCOL, scope: RT_SCOPE_LINK, dst, dstLen: local.prefixlen, oif: link.index });
    }
    want.push({ family, table, protocol: ROUTE_PROTOCOL, scope: RT_SCOPE_UNIVERSE, dstLen: 0, gateway, oif: link.index });
    const before = ownRoutes(snap.routes, table);
    const rule = { family, priority: this.priority, table, protocol: ROUTE_PROTOCOL, src: s.address, srcLen: full };
    const added: RouteSpec[] = [];
    let ruleAdded = false;
    try {
      for (const r of want) {
        await addRoute(this.sock, r, true);
        if (!before.some((b) => sameRoute(r, b))) added.push(r);
      }
      // Routes of ours in that table that are no longer wanted (an old gateway, another device).
      for (const r of before) {
        if (!want.some((w) => sameRoute(w, r))) await deleteRoute(this.sock, asSpec(r)).catch((e) => { if (!gone(e)) throw e; });
      }
      if (!mine.some((r) => r.table === table)) {
        await addRule(this.sock, rule);
        ruleAdded = true;
      }
    } catch (e) {
      await this.rollback(added, before, ruleAdded ? rule : undefined);
      throw e;
    }
    for (const old of mine.filter((r) => r.table !== table)) await this.dropEntry(snap, old);
    return { address: s.address, ifname: s.ifname, table, ...(gateway ? { gateway } : {}) };
  }

  /**
   * Undoes a failed add (e.g. a gateway the kernel refuses): removes the routes and rule it made and
   * puts back the routes of ours the table had before, so a failure leaves the namespace as it was.
   * Best effort: the caller reports the original failure.
   */
  private async rollback(added: RouteSpec[], before: RouteEntry[], rule: RuleSpec | undefined): Promise<void> {
    const quiet = (): undefined => undefined;
    if (rule) await deleteRule(this.sock, rule).catch(quiet);
    for (const r of added) await deleteRoute(this.sock, r).catch(quiet);
    for (const r of before) await addRoute(this.sock, asSpec(r), true).catch(quiet);
  }

  /** Entries this library made (protocol 77), read from the kernel. Sends RTM_GET* dumps. */
  list(): Promise<SourceRoute[]> {
    return this.serial(async () => entriesOf(await this.snapshot(), this.priority));
  }

  /**
   * Removes the rule of `address` and the routes of its table (only ours). Resolves false when there
   * was no entry for it. Sends RTM_DELRULE/RTM_DELROUTE; needs CAP_NET_ADMIN.
   */
  async remove(address: string): Promise<boolean> {
    const a = canonicalAddress(checkAddress('address', address));
    return this.serial(async () => {
      const snap = await this.snapshot();
      const mine = ownRules(snap.rules, this.priority).filter((r) => r.src === a);
      for (const r of mine) await this.dropEntry(snap, r);
      return mine.length > 0;
    });
  }

  private async dropEntry(snap: Snapshot, rule: RuleEntry): Promise<void> {
    const full = rule.family === 'inet' ? 32 : 128;
    await deleteRule(this.sock, { family: rule.family, priority: rule.priority, table: rule.table, protocol: ROUTE_PROTOCOL, src: rule.src ?? '', srcLen: full })
      .catch((e) => { if (!gone(e)) throw e; });
    const shared = ownRules(snap.rules, this.priority).some((r) => r !== rule && r.table === rule.table && r.src !== rule.src);
    if (shared) return;
    for (const r of ownRoutes(snap.routes, rule.table)) await deleteRoute(this.sock, asSpec(r)).catch((e) => { if (!gone(e)) throw e; });
  }

  /** Closes the socket. Idempotent. */
  close(): void {
    this.sock.close();
    this.ns.close();
  }
}

/** Our plain `from ADDR lookup T` rules. */
export function ownRules(rules: RuleEntry[], priority: number): RuleEntry[] {
  return rules.filter((r) => r.protocol === ROUTE_PROTOCOL && r.priority === priority && r.action === FR_ACT_TO_TBL && r.src !== undefined
    && !r.selectors && r.srcLen === (r.family === 'inet' ? 32 : 128));
}

function ownRoutes(routes: RouteEntry[], table: number): RouteEntry[] {
  return routes.filter((r) => r.table === table && r.protocol === ROUTE_PROTOCOL);
}

function entriesOf(snap: Snapshot, priority: number): SourceRoute[] {
  return ownRules(snap.rules, priority).map((rule) => {
    const routes = ownRoutes(snap.routes, rule.table).filter((r) => r.family === rule.family);
    const oif = routes.find((r) => r.oif !== undefined)?.oif;
    const gateway = routes.find((r) => r.dstLen === 0 && r.gateway)?.gateway;
    const ifname = snap.links.find((l) => l.index === oif)?.name ?? '';
    return { address: rule.src as string, ifname, table: rule.table, ...(gateway ? { gateway } : {}) };
  });
}

/**
 * The next hop to use for a table's default route on a device: the gateway of the device's default
 * route in `main` (lowest metric), else of any default route on it in another table, else of any
 * route on it that has one (a gateway is on the device's own subnet). Undefined when the device has
 * no route with a gateway.
 */
export function linkGateway(routes: RouteEntry[], ifindex: number, family: 'inet' | 'inet6'): string | undefined {
  const on = routes.filter((r) => r.family === family && r.type === RTN_UNICAST && r.oif === ifindex && r.gateway
    && r.protocol !== ROUTE_PROTOCOL);
  const rank = (r: RouteEntry): number => (r.dstLen === 0 ? (r.table === RT_TABLE_MAIN ? 0 : 1) : 2);
  return on.sort((a, b) => rank(a) - rank(b) || (a.priority ?? 0) - (b.priority ?? 0))[0]?.gateway;
}

/** Gateway of the device's default route in `main` (lowest metric), if it has one. */
export function mainGateway(routes: RouteEntry[], ifindex: number, family: 'inet' | 'inet6'): string | undefined {
  return routes
    .filter((r) => r.family === family && r.table === RT_TABLE_MAIN && r.dstLen === 0 && r.type === RTN_UNICAST && r.oif === ifindex && r.gateway)
    .sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0))[0]?.gateway;
}

function freeTable(snap: Snapshot, range: { min: number; max: number }): number {
  const used = new Set<number>([...snap.routes.map((r) => r.table), ...snap.rules.map((r) => r.table)]);
  for (let t = range.min; t <= range.max; t++) if (!used.has(t)) return t;
  throw new SourceRoutingError(`no free routing table left in ${range.min}-${range.max}; give one with "table"`);
}

function sameRoute(w: RouteSpec, r: RouteEntry): boolean {
  return w.family === r.family && w.dstLen === r.dstLen && (w.dst ?? undefined) === (r.dst ?? undefined)
    && (w.gateway ?? undefined) === (r.gateway ?? undefined) && w.oif === r.oif;
}

function asSpec(r: RouteEntry): RouteSpec {
  return { family: r.family, table: r.table, protocol: r.protocol, scope: r.scope, dstLen: r.dstLen, oif: r.oif ?? 0,
    ...(r.dst && r.dstLen > 0 ? { dst: r.dst } : {}), ...(r.gateway ? { gateway: r.gateway } : {}) };
}

