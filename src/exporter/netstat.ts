// Exporter layer: the MPTcpExt counters of /proc/net/netstat, read inside a namespace, as metric
// families (`mptcp_ext_<name>_total`; MPCurrEstab, a level, as the gauge `mptcp_ext_curr_estab`).

import { readFileSync } from 'node:fs';
import { Netns } from '../os/netns.js';
import { snakeCase, type MetricFamily, type Source, type Target } from './source.js';

/** MPTcpExt values that go down as well as up: exported as gauges. */
const LEVELS = new Set(['MPCurrEstab']);

/** Parses the MPTcpExt header/value line pair of a /proc/net/netstat text (empty when absent). */
export function parseMptcpExt(text: string): Map<string, number> {
  const lines = text.split('\n');
  const out = new Map<string, number>();
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i].startsWith('MPTcpExt:') || !lines[i + 1].startsWith('MPTcpExt:')) continue;
    const names = lines[i].trim().split(/\s+/).slice(1);
    const values = lines[i + 1].trim().split(/\s+/).slice(1);
    names.forEach((n, k) => out.set(n, Number(values[k])));
    break;
  }
  return out;
}

/**
 * Reads the counters of `netns` (a name, a path, or a Netns handle, borrowed; entering it on this
 * thread for the read). Sync, a few µs.
 */
export function readMptcpExt(netns: string | Netns | undefined): Map<string, number> {
  const read = (): string => readFileSync('/proc/thread-self/net/netstat', 'utf8');
  if (netns === undefined) return parseMptcpExt(read());
  const ns = Netns.open(netns);
  try {
    return parseMptcpExt(ns.run(read));
  } finally {
    ns.close();
  }
}

/** The Prometheus name of a MPTcpExt counter. */
export function counterMetricName(kernelName: string): string {
  if (kernelName === 'MPCurrEstab') return 'mptcp_ext_curr_estab';
  return `mptcp_ext_${snakeCase(kernelName)}_total`;
}

/** Turns counter values into metric families, one per counter. */
export function counterFamilies(values: Map<string, number>): MetricFamily[] {
  return [...values].map(([name, value]) => ({
    name: counterMetricName(name),
    help: LEVELS.has(name)
      ? `MPTcpExt ${name} of /proc/net/netstat (current value).`
      : `MPTcpExt ${name} counter of /proc/net/netstat.`,
    type: LEVELS.has(name) ? 'gauge' : 'counter',
    labelNames: [],
    samples: [{ labels: {}, value }],
  }));
}

/** A source of the MPTcpExt counters of one namespace. */
export function netstatSource(target: Target): Source {
  return {
    name: 'counters',
    collect: async () => counterFamilies(readMptcpExt(target.handle())),
    close: () => undefined,
  };
}
