// Exporter layer: the MPTcpExt counters of /proc/net/netstat, read inside a namespace, as metric
// families (`mptcp_ext_<name>_total`; MPCurrEstab, a level, as the gauge `mptcp_ext_curr_estab`).

import { UnsupportedError } from '../netlink/core/errors.js';
import { countersIn, parseMptcpCounters } from '../mptcp/proc/counters.js';
import { Netns } from '../os/netns.js';
import { snakeCase, type MetricFamily, type Source, type Target } from './source.js';

/** MPTcpExt values that go down as well as up: exported as gauges. */
const LEVELS = new Set(['MPCurrEstab']);

/** A kernel without MPTCP counters has none to export: an empty map, not an error. */
function orNone(read: () => Record<string, number>): Map<string, number> {
  try {
    return new Map(Object.entries(read()));
  } catch (e) {
    if (e instanceof UnsupportedError) return new Map();
    throw e;
  }
}

/** The MPTcpExt counters of a /proc/net/netstat text (empty when it has none); see parseMptcpCounters. */
export function parseMptcpExt(text: string): Map<string, number> {
  return orNone(() => parseMptcpCounters(text));
}

/**
 * Reads the counters of `netns` (a name, a path, or a Netns handle, borrowed; entering it on this
 * thread for the read). Sync, a few µs.
 */
export function readMptcpExt(netns: string | Netns | undefined): Map<string, number> {
  const ns = Netns.open(netns);
  try {
    return orNone(() => countersIn(ns));
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
