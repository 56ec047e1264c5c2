// Exporter layer: MPTCP connections and their subflows of one namespace (sock_diag, as `ss -M`)
// counted by state and path manager, and fallbacks, as metric families.

import type { MetricFamily, Source, Target } from './source.js';
import type { Netns } from '../os/netns.js';

/** What this source needs of a connection (MptcpDiag's MptcpConnection has it). */
export interface ConnectionLike {
  state: string;
  fallback: boolean;
  subflows: ReadonlyArray<{ state: string }>;
}

/** What this source needs of a sock_diag reader (MptcpDiag has it). */
export interface ConnectionReader {
  connections(): Promise<ConnectionLike[]>;
  close(): void;
}

/** snake_case TCP state names, as labels: `established`, `syn_sent`, `close_wait`, … */
function stateLabel(state: string): string {
  return state.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).replace(/-/g, '_');
}

function countBy<T>(items: readonly T[], key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const it of items) m.set(key(it), (m.get(key(it)) ?? 0) + 1);
  return m;
}

/**
 * The metric families for the connections of a namespace. `pathManager` is the namespace's path
 * manager (the kernel reports no per-connection one through sock_diag).
 */
export function connectionFamilies(conns: readonly ConnectionLike[], pathManager: string): MetricFamily[] {
  const byState = countBy(conns, (c) => stateLabel(c.state));
  if (!byState.has('established')) byState.set('established', 0);
  const subs = conns.flatMap((c) => c.subflows);
  const subsByState = countBy(subs, (s) => stateLabel(s.state));
  if (!subsByState.has('established')) subsByState.set('established', 0);
  return [
    {
      name: 'mptcp_connections', type: 'gauge',
      help: 'MPTCP connections (sock_diag, as ss -M lists them) by TCP state and the namespace\'s path manager.',
      labelNames: ['state', 'path_manager'],
      samples: [...byState].map(([state, value]) => ({ labels: { state, path_manager: pathManager }, value })),
    },
    {
      name: 'mptcp_connections_fallback', type: 'gauge',
      help: 'MPTCP connections that fell back to plain TCP.',
      labelNames: [], samples: [{ labels: {}, value: conns.filter((c) => c.fallback).length }],
    },
    {
      name: 'mptcp_subflows', type: 'gauge',
      help: 'TCP subflows of MPTCP connections, by TCP state.',
      labelNames: ['state'],
      samples: [...subsByState].map(([state, value]) => ({ labels: { state }, value })),
    },
  ];
}

/**
 * A connections source for one namespace over a reader opened on first use (`open`), and the
 * namespace's path manager (`pathManager`).
 */
export function connectionsSource(
  target: Target,
  open: (ns: Netns) => Promise<ConnectionReader>,
  pathManager: (ns: Netns) => Promise<string>,
): Source {
  let reader: Promise<ConnectionReader> | undefined;
  return {
    name: 'connections',
    collect: async () => {
      reader ??= (async () => open(target.handle()))();
      reader.catch(() => (reader = undefined));
      const [conns, pm] = await Promise.all([(await reader).connections(), pathManager(target.handle())]);
      return connectionFamilies(conns, pm);
    },
    close: () => {
      reader?.then((r) => r.close(), () => undefined);
    },
  };
}
