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

/** Counts by state name (camelCase, as MptcpDiag names states). */
export interface ConnectionCounts {
  connections: ReadonlyMap<string, number>;
  fallback: number;
  subflows: ReadonlyMap<string, number>;
}

/** What this source needs of a sock_diag reader (MptcpDiag has it); `counts` is used when there. */
export interface ConnectionReader {
  connections(): Promise<ConnectionLike[]>;
  counts?(): Promise<ConnectionCounts>;
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

/** Counts of a list of connections (for readers that have no `counts`). */
export function countConnections(conns: readonly ConnectionLike[]): ConnectionCounts {
  return {
    connections: countBy(conns, (c) => c.state),
    fallback: conns.filter((c) => c.fallback).length,
    subflows: countBy(conns.flatMap((c) => c.subflows), (s) => s.state),
  };
}

/**
 * The metric families for the connections of a namespace. `pathManager` is the namespace's path
 * manager (the kernel reports no per-connection one through sock_diag).
 */
export function connectionFamilies(conns: readonly ConnectionLike[] | ConnectionCounts, pathManager: string): MetricFamily[] {
  const counts = Array.isArray(conns) ? countConnections(conns) : (conns as ConnectionCounts);
  const labelled = (m: ReadonlyMap<string, number>): Map<string, number> => {
    const out = new Map<string, number>([['established', 0]]);
    for (const [state, n] of m) out.set(stateLabel(state), (out.get(stateLabel(state)) ?? 0) + n);
    return out;
  };
  const byState = labelled(counts.connections);
  const subsByState = labelled(counts.subflows);
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
      labelNames: [], samples: [{ labels: {}, value: counts.fallback }],
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
      const r = await reader;
      // Counting from each reply's state byte: nothing decoded that is not exported.
      const [counts, pm] = await Promise.all([r.counts ? r.counts() : r.connections(), pathManager(target.handle())]);
      return connectionFamilies(counts, pm);
    },
    close: () => {
      reader?.then((r) => r.close(), () => undefined);
    },
  };
}
