// Doctor capability: reads, once, what every check needs from one namespace (sysctls, endpoints,
// limits, links, addresses, routes, rules, listening sockets).

import { readFileSync } from 'node:fs';
import { MptcpPm } from '../mptcp/pm/pm.js';
import { countersIn } from '../mptcp/proc/counters.js';
import { getPathManager } from '../mptcp/pm/pathmanager.js';
import { bytesToIp } from '../os/address.js';
import { listAddresses, listLinks, listRoutes, listRules } from '../netlink/route/ops.js';
import { RouteSocket } from '../netlink/route/socket.js';
import { Netns, netnsName } from '../os/netns.js';
import type { DoctorContext, Listener } from './types.js';

/** Opens sockets in `netns` and reads its state; call `closeContext` afterwards. */
export async function readContext(namespace: string | Netns | undefined, windowMs: number): Promise<DoctorContext> {
  // Opened once: every check reads this namespace through the handle.
  const ns = Netns.open(namespace);
  const netns = netnsName(namespace);
  let pm: MptcpPm | undefined;
  let route: RouteSocket | undefined;
  try {
    route = RouteSocket.open({ netns: ns });
    pm = await MptcpPm.open({ netns: ns });
    const sysctl = (path: string): string | undefined => ns.run(() => {
      try {
        return readFileSync(`/proc/sys/${path}`, 'utf8').trim();
      } catch {
        return undefined;
      }
    });
    let baseline: Record<string, number> | undefined;
    try {
      baseline = countersIn(ns);
    } catch {
      baseline = undefined; // no counters on this kernel: the counters check says nothing
    }
    const startedAt = performance.now();
    const q = netns === undefined ? '' : (/^[\w.@-]+$/.test(netns) ? netns : `'${netns}'`);
    return {
      netns,
      ns,
      pm,
      route,
      enabled: sysctl('net/mptcp/enabled') === '1',
      pathManager: getPathManager(ns),
      endpoints: await pm.listEndpoints(),
      limits: await pm.getLimits(),
      links: await listLinks(route),
      addresses: await listAddresses(route),
      routes: [...(await listRoutes(route, 'inet')), ...(await listRoutes(route, 'inet6'))],
      rules: [...(await listRules(route, 'inet')), ...(await listRules(route, 'inet6'))],
      listeners: ns.run(() => [...readListeners('tcp'), ...readListeners('tcp6')]),
      sysctl,
      ip: netns === undefined ? 'ip' : `ip -n ${q}`,
      exec: netns === undefined ? '' : `ip netns exec ${q} `,
      self: netns === undefined ? 'mptcp-pm' : `mptcp-pm -n ${q}`,
      baseline,
      startedAt,
      windowMs,
      proposedTables: new Set(),
    };
  } catch (e) {
    pm?.close();
    route?.close();
    ns.close();
    throw e;
  }
}

export function closeContext(ctx: DoctorContext): void {
  ctx.pm.close();
  ctx.route.close();
  ctx.ns.close();
}

/** LISTEN sockets of /proc/thread-self/net/tcp or tcp6 (the calling thread's namespace). */
function readListeners(file: 'tcp' | 'tcp6'): Listener[] {
  return readTcpTable(file, '0A').map(({ address, port }) => ({ address, port }));
}

/** A TCP socket of /proc/net/tcp{,6}: its two ends. */
export interface TcpEnds {
  address: string;
  port: number;
  remoteAddress: string;
  remotePort: number;
}

/** `ADDRESS:PORT` of /proc/net/tcp: the address as 32-bit words in host (little-endian) order. */
function endOf(text: string): { address: string; port: number } {
  const [hex, port] = text.split(':');
  const raw = Buffer.from(hex, 'hex');
  for (let i = 0; i < raw.length; i += 4) raw.subarray(i, i + 4).reverse();
  return { address: bytesToIp(raw), port: parseInt(port, 16) };
}

/**
 * Sockets of /proc/thread-self/net/tcp or tcp6 (the calling thread's namespace) in state `state`
 * (hex as the file prints it: `01` established, `0A` listen). Plain TCP and MPTCP subflows alike.
 */
export function readTcpTable(file: 'tcp' | 'tcp6', state: string): TcpEnds[] {
  let text: string;
  try {
    text = readFileSync(`/proc/thread-self/net/${file}`, 'utf8');
  } catch {
    return [];
  }
  const out: TcpEnds[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || f[3] !== state) continue;
    const local = endOf(f[1]);
    const remote = endOf(f[2]);
    out.push({ ...local, remoteAddress: remote.address, remotePort: remote.port });
  }
  return out;
}
