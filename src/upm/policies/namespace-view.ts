// Built-in policies: what the kernel-compatible policy reads from its namespace — the endpoint table,
// the limits, links and addresses — kept fresh by rtnetlink notifications and a short re-read.

import { EventEmitter } from 'eventemitter3';
import { MptcpPm, type Limits } from '../../mptcp/pm/pm.js';
import type { Endpoint } from '../../mptcp/pm/endpoint.js';
import { addressFrom, linkFrom, listAddresses, listLinks, lookupRoute, type IfAddress, type LinkInfo } from '../../netlink/route/ops.js';
import { RouteGroup } from '../../netlink/route/messages.js';
import { RouteSocket } from '../../netlink/route/socket.js';
import { Netns } from '../../os/netns.js';

const GROUPS = [RouteGroup.link, RouteGroup.ipv4Addr, RouteGroup.ipv4Route, RouteGroup.ipv6Addr, RouteGroup.ipv6Route];

export interface NamespaceViewEvents {
  /** Links, addresses or routes changed (after the view re-read them); `touched`: `addr:ADDRESS` added or changed, `link:IFINDEX` up, `route` a route added or removed. */
  change: (touched: ReadonlySet<string>) => void;
  error: (e: Error) => void;
}

/** The endpoint table, limits, links and addresses of one namespace, re-read when they change. */
export class NamespaceView extends EventEmitter<NamespaceViewEvents> {
  endpoints: Endpoint[] = [];
  limits: Limits = { subflows: 0, addAddrAccepted: 0 };
  links: LinkInfo[] = [];
  addresses: IfAddress[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private poll: ReturnType<typeof setInterval> | undefined;
  private reading: Promise<void> = Promise.resolve();
  private closed = false;
  private touched = new Set<string>();

  private constructor(private readonly ns: Netns, private readonly pm: MptcpPm, private readonly sock: RouteSocket, private readonly monitor: RouteSocket) {
    super();
  }

  /**
   * Opens the sockets in `netns`, reads everything once, then follows rtnetlink (link, address and
   * route changes, 20 ms debounce) and re-reads the endpoint table and limits every `refreshMs`.
   */
  static async open(netns: string | Netns | undefined, refreshMs = 1000): Promise<NamespaceView> {
    const ns = Netns.open(netns);
    const opened: { close(): void }[] = [ns];
    try {
      const monitor = RouteSocket.open({ netns: ns, groups: GROUPS });
      opened.push(monitor);
      const sock = RouteSocket.open({ netns: ns });
      opened.push(sock);
      const pm = await MptcpPm.open({ netns: ns });
      opened.push(pm);
      const v = new NamespaceView(ns, pm, sock, monitor);
      await v.read();
      monitor.onNotification((msgs) => {
        for (const m of msgs) {
          if (m.kind === 'address') {
            const a = addressFrom(m);
            if (a) v.touched.add(`addr:${a.address}`);
          } else if (m.kind === 'link' && linkFrom(m).up && linkFrom(m).running) {
            v.touched.add(`link:${m.header.index}`);
          } else if (m.kind === 'route') {
            v.touched.add('route');
          }
        }
        v.schedule();
      });
      monitor.onOverrun(() => v.schedule());
      v.poll = setInterval(() => void v.readQuietly(false), refreshMs);
      v.poll.unref();
      return v;
    } catch (e) {
      for (const o of opened.reverse()) o.close();
      throw e;
    }
  }

  private schedule(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.readQuietly(true);
    }, 20);
  }

  private async readQuietly(notify: boolean): Promise<void> {
    try {
      // Only a read that reports takes what was touched: the periodic re-read must leave it for the
      // notification's own read, or a link or address that came back would never be reported.
      const touched = notify ? this.touched : undefined;
      if (notify) this.touched = new Set();
      await this.read();
      if (touched && !this.closed) this.emit('change', touched);
    } catch (e) {
      if (!this.closed) this.emit('error', e as Error);
    }
  }

  /** Re-reads everything (one read at a time). */
  read(): Promise<void> {
    this.reading = this.reading.catch(() => undefined).then(async () => {
      if (this.closed) return;
      const [endpoints, limits, links, addresses] = await Promise.all([this.pm.listEndpoints(), this.pm.getLimits(), listLinks(this.sock), listAddresses(this.sock)]);
      Object.assign(this, { endpoints, limits, links, addresses });
    });
    return this.reading;
  }

  /** Whether `address` is configured on a link that is up with carrier (not tentative). */
  usable(address: string): boolean {
    const a = this.addresses.find((x) => x.address === address);
    const link = this.links.find((l) => l.index === a?.ifindex);
    return !!a && !a.tentative && !a.dadfailed && !!link && link.up && link.running;
  }

  /** Whether a packet from `src` to `dst` has a route out (any device). */
  async routable(src: string, dst: string): Promise<boolean> {
    return (await lookupRoute(this.sock, { dst, src }).catch(() => undefined)) !== undefined;
  }

  /** Interface index of `address`. */
  ifindexOf(address: string): number | undefined {
    return this.addresses.find((x) => x.address === address)?.ifindex;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.poll);
    this.monitor.close();
    this.sock.close();
    this.pm.close();
    this.ns.close();
  }
}
