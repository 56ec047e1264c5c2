// Exporter layer: endpoints, limits and the path manager of one namespace (GET_ADDR dump,
// GET_LIMITS, the pm_type sysctl) as metric families, over one long-lived MptcpPm client.

import { MptcpPm } from '../mptcp/pm/pm.js';
import type { Endpoint } from '../mptcp/pm/endpoint.js';
import type { MetricFamily, Source, Target } from './source.js';

/** Endpoint flags counted by `mptcp_endpoints{flag}` (an endpoint counts once per flag it has). */
const COUNTED_FLAGS = ['signal', 'subflow', 'backup', 'fullmesh', 'implicit', 'laminar'] as const;

/** The metric families for a list of endpoints, the limits and the path manager. */
export function pmFamilies(eps: readonly Endpoint[], limits: { subflows: number; addAddrAccepted: number }, pmType: string): MetricFamily[] {
  return [
    {
      name: 'mptcp_endpoint_info', type: 'gauge',
      help: 'One series per endpoint of the in-kernel path manager (value 1); flags comma-separated.',
      labelNames: ['id', 'address', 'port', 'flags', 'dev'],
      samples: eps.map((e) => ({
        labels: { id: String(e.id), address: e.address, port: String(e.port ?? 0), flags: e.flags.join(','), dev: e.ifname ?? '' },
        value: 1,
      })),
    },
    {
      name: 'mptcp_endpoints', type: 'gauge',
      help: 'Endpoints of the in-kernel path manager: all of them (flag="any") and by flag.',
      labelNames: ['flag'],
      samples: [
        { labels: { flag: 'any' }, value: eps.length },
        ...COUNTED_FLAGS.map((f) => ({ labels: { flag: f }, value: eps.filter((e) => e.flags.includes(f)).length })),
      ],
    },
    {
      name: 'mptcp_limit_subflows', type: 'gauge',
      help: 'Limit on extra subflows per connection (ip mptcp limits: subflows).',
      labelNames: [], samples: [{ labels: {}, value: limits.subflows }],
    },
    {
      name: 'mptcp_limit_add_addr_accepted', type: 'gauge',
      help: 'Limit on peer-announced addresses used per connection (ip mptcp limits: add_addr_accepted).',
      labelNames: [], samples: [{ labels: {}, value: limits.addAddrAccepted }],
    },
    {
      name: 'mptcp_path_manager_info', type: 'gauge',
      help: 'The path manager new connections get (net.mptcp.path_manager / pm_type), value 1.',
      labelNames: ['type'], samples: [{ labels: { type: pmType }, value: 1 }],
    },
  ];
}

/** A source of endpoints, limits and path manager for one namespace; the client opens on first use. */
export function pmSource(target: Target, timeoutMs: number): Source {
  let client: Promise<MptcpPm> | undefined;
  const pm = (): Promise<MptcpPm> => {
    client ??= (async () => MptcpPm.open({ netns: target.handle(), timeoutMs }))();
    // A failed open is retried at the next scrape (the namespace may appear later).
    client.catch(() => (client = undefined));
    return client;
  };
  return {
    name: 'pm',
    collect: async () => {
      const c = await pm();
      const [eps, limits, type] = await Promise.all([c.listEndpoints(), c.getLimits(), c.getPathManager()]);
      return pmFamilies(eps, limits, type);
    },
    close: () => {
      client?.then((c) => c.close(), () => undefined);
    },
  };
}
