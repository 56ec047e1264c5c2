// Routing capability: the endpoint reconciler. rtnetlink notifications (addresses, links, routes,
// rules) trigger a debounced, serialised comparison of the kernel with the policy, and a fix-up.

import { EventEmitter } from 'eventemitter3';
import { MptcpPm } from '../mptcp/pm/pm.js';
import { Netns } from '../os/netns.js';
import { RouteSocket } from '../netlink/route/socket.js';
import { RouteGroup } from '../netlink/route/messages.js';
import { listAddresses, listLinks, listRoutes } from '../netlink/route/ops.js';
import type { EndpointFlag } from '../mptcp/pm/endpoint.js';
import { checkPolicy, type CheckedPolicy, type ReconcilerOptions } from './policy.js';
import { globMatch } from './glob.js';
import { isOwnEndpoint, planEndpoints, wantedAddresses, type Wanted } from './plan.js';
import { SourceRouting, linkGateway } from './source-routing.js';
import { RECONCILER_RULE_PRIORITY } from './marks.js';

/** One change the reconciler made in the kernel. */
export interface ReconcilerChange {
  action: 'add' | 'remove';
  kind: 'endpoint' | 'source-route';
  address: string;
  ifname?: string;
  id?: number;
  flags?: EndpointFlag[];
  table?: number;
  gateway?: string;
}

export interface ReconcilerEvents {
  /** After a pass that changed something, with what it changed. */
  change: (changes: ReconcilerChange[]) => void;
  /** A pass failed (it is retried on the next notification or resync). */
  error: (err: Error) => void;
  /** Notifications were lost (socket overrun; how many, when the drop counter can be read): a full pass follows. */
  overrun: (lost: number | undefined) => void;
  /** Something worth saying that is not a failure: at start, a rule whose interface glob matches no interface. */
  warning: (message: string) => void;
}

const GROUPS = [
  RouteGroup.link, RouteGroup.ipv4Addr, RouteGroup.ipv6Addr, RouteGroup.ipv4Route, RouteGroup.ipv6Route, RouteGroup.ipv4Rule, RouteGroup.ipv6Rule,
];

/**
 * Keeps the namespace's MPTCP endpoints (and, with `sourceRouting`, a rule and table per endpoint
 * address) equal to what the policy says for the addresses that exist now. What it makes is marked in
 * the kernel (endpoint ids 100–199, routes and rules with protocol 77), so a restart finds it again
 * and nothing else is touched. Needs CAP_NET_ADMIN in the namespace.
 *
 * @example
 * const r = await EndpointReconciler.start({ rules: [{ interface: 'eth*', flags: ['subflow'] }] });
 * r.on('change', (c) => console.log(c));
 */
export class EndpointReconciler extends EventEmitter<ReconcilerEvents> {
  /** Passes run so far (each reads the whole state). */
  passes = 0;
  /** The error of the last pass, cleared by a pass that succeeds. */
  lastError: Error | undefined;
  private timer: NodeJS.Timeout | undefined;
  private resync: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private dirty = false;
  private stopped = false;
  private started = false;

  private constructor(
    private readonly policy: CheckedPolicy,
    private readonly pm: MptcpPm,
    private readonly sock: RouteSocket,
    private readonly monitor: RouteSocket,
    private readonly routing: SourceRouting | undefined,
    private readonly ns: Netns,
  ) {
    super();
  }

  /**
   * Checks the options (ValidationError naming the field), opens its sockets, runs a first full pass
   * and resolves once it is done. The first pass's `change` and `error` events are emitted right after
   * (so a listener added on the resolved object sees them); a failing step is retried on the next pass.
   */
  static async start(options: ReconcilerOptions): Promise<EndpointReconciler> {
    const policy = checkPolicy(options);
    const ns = Netns.open(policy.netns);
    const opened: { close(): void }[] = [ns];
    try {
      const monitor = RouteSocket.open({ netns: ns, groups: GROUPS, receiveBufferBytes: policy.receiveBufferBytes });
      opened.push(monitor);
      const sock = RouteSocket.open({ netns: ns });
      opened.push(sock);
      const pm = await MptcpPm.open({ netns: ns });
      opened.push(pm);
      const routing = policy.sourceRouting ? await SourceRouting.open({ netns: ns, tables: policy.tables, priority: RECONCILER_RULE_PRIORITY }) : undefined;
      if (routing) opened.push(routing);
      const r = new EndpointReconciler(policy, pm, sock, monitor, routing, ns);
      monitor.onNotification(() => r.schedule());
      monitor.onOverrun((lost) => {
        r.emit('overrun', lost);
        r.schedule(0);
      });
      await r.pass();
      r.started = true;
      if (policy.resyncIntervalMs > 0) {
        r.resync = setInterval(() => r.schedule(0), policy.resyncIntervalMs);
        r.resync.unref();
      }
      return r;
    } catch (e) {
      for (const o of opened.reverse()) o.close();
      throw e;
    }
  }

  /** Asks for a pass after the debounce time (or `delayMs`). */
  schedule(delayMs = this.policy.debounceMs): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.pass();
    }, delayMs);
  }

  /** Runs a pass now, or once more after the one in progress; resolves when the state has settled. */
  pass(): Promise<void> {
    if (this.running) {
      this.dirty = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.dirty = false;
        await this.passOnce();
      } while (this.dirty && !this.stopped);
      this.running = undefined;
    })();
    return this.running;
  }

  private async passOnce(): Promise<void> {
    if (this.stopped) return;
    this.passes++;
    const changes: ReconcilerChange[] = [];
    const failures: Error[] = [];
    const warnings: string[] = [];
    // One failing step (an address that vanished meanwhile, a refused route) must not hold up the others.
    const attempt = async (fn: () => Promise<ReconcilerChange | undefined>): Promise<void> => {
      try {
        const c = await fn();
        if (c) changes.push(c);
      } catch (e) {
        failures.push(e as Error);
      }
    };
    try {
      const links = await listLinks(this.sock);
      if (!this.started) {
        // Said once, at start: a rule that matches nothing is most often a typo in its glob.
        this.policy.rules.forEach((rule, i) => {
          if (!links.some((l) => globMatch(rule.interface, l.name))) {
            warnings.push(`rules[${i}].interface "${rule.interface}" matches no interface of the namespace (${links.map((l) => l.name).join(', ')})`);
          }
        });
      }
      const wanted = wantedAddresses(this.policy, links, await listAddresses(this.sock));
      const plan = planEndpoints(this.policy, wanted, await this.pm.listEndpoints());
      for (const e of plan.remove) {
        await attempt(async () => {
          await this.pm.deleteEndpoint(e.id);
          return { action: 'remove', kind: 'endpoint', address: e.address, id: e.id, flags: e.flags, ...(e.ifname ? { ifname: e.ifname } : {}) };
        });
      }
      for (const w of plan.add) {
        await attempt(async () => {
          await this.pm.addEndpoint({ address: w.address, id: w.id, ifname: w.ifname, flags: w.flags }, { returnStored: false });
          return { action: 'add', kind: 'endpoint', address: w.address, id: w.id, flags: w.flags, ifname: w.ifname };
        });
      }
      if (this.routing) await this.passRouting(wanted, attempt);
    } catch (e) {
      failures.push(e as Error);
    }
    this.lastError = failures[0];
    const report = (): void => {
      for (const w of warnings) this.emit('warning', w);
      if (changes.length > 0) this.emit('change', changes);
      if (!this.stopped) for (const f of failures) this.emit('error', f);
    };
    // The first pass runs inside start(): its events wait until the caller could subscribe.
    if (this.started) report();
    else setImmediate(report);
  }

  /** Per-source entries for the addresses that have an endpoint of ours; the others go. */
  private async passRouting(wanted: Wanted[], attempt: (fn: () => Promise<ReconcilerChange | undefined>) => Promise<void>): Promise<void> {
    const routing = this.routing as SourceRouting;
    const routes = [...(await listRoutes(this.sock, 'inet')), ...(await listRoutes(this.sock, 'inet6'))];
    const own = new Set((await this.pm.listEndpoints()).filter((e) => isOwnEndpoint(this.policy, e)).map((e) => e.address));
    // A source whose link has no gateway gets no entry: a table without a default route sends
    // nothing anywhere the main table would not, and packets from it fall through to main.
    const want = wanted.filter((w) => own.has(w.address) && linkGateway(routes, w.ifindex, w.family) !== undefined);
    const have = await routing.list();
    for (const h of have) {
      if (want.some((w) => w.address === h.address)) continue;
      await attempt(async () => {
        await routing.remove(h.address);
        return { action: 'remove', kind: 'source-route', address: h.address, table: h.table, ...(h.ifname ? { ifname: h.ifname } : {}) };
      });
    }
    for (const w of want) {
      const gateway = linkGateway(routes, w.ifindex, w.family);
      const h = have.find((x) => x.address === w.address);
      if (h && h.ifname === w.ifname && h.gateway === gateway) continue;
      await attempt(async () => ({ action: 'add', kind: 'source-route', ...(await routing.add({ address: w.address, ifname: w.ifname })) }));
    }
  }

  /**
   * Stops following the kernel. With `cleanup`, removes exactly what it made: endpoints in its id
   * range and its per-source rules and routes; everything else stays.
   */
  async stop(options: { cleanup?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.resync);
    this.monitor.close();
    try {
      await this.running;
      if (options.cleanup) {
        for (const e of await this.pm.listEndpoints()) if (isOwnEndpoint(this.policy, e)) await this.pm.deleteEndpoint(e.id);
        if (this.routing) for (const h of await this.routing.list()) await this.routing.remove(h.address);
      }
    } finally {
      this.routing?.close();
      this.pm.close();
      this.sock.close();
      this.ns.close();
    }
  }
}
