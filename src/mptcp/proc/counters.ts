// Domain layer: the MPTCP MIB counters of a namespace (`MPTcpExt` of /proc/net/netstat, what
// `nstat -az` shows as MPTcpExt*), read by name since their order changes between kernels.

import { readFileSync } from 'node:fs';
import { DecodeError, UnsupportedError } from '../../netlink/core/errors.js';
import { Netns } from '../../os/netns.js';
import { checkOptions, OPTION } from '../input/validate.js';

/** A netstat file opened from a thread that entered the namespace shows that namespace. */
const NETSTAT = '/proc/thread-self/net/netstat';
const PREFIX = 'MPTcpExt:';

export interface CountersOptions {
  /** A namespace: a name under /run/netns, a path such as /proc/PID/ns/net, or an open Netns handle (borrowed: used, never closed). Default: the caller's. */
  netns?: string | Netns;
}

/**
 * Parses the `MPTcpExt:` header/value line pair of /proc/net/netstat text into `{ name: value }`
 * (names without the prefix, e.g. `MPCapableSYNTX`).
 * @throws DecodeError when the pair is missing, mismatched or not numeric.
 * @throws UnsupportedError when the kernel has no MPTCP counters (before 5.6).
 */
export function parseMptcpCounters(text: string): Record<string, number> {
  const lines = text.split('\n').filter((l) => l.startsWith(PREFIX));
  if (lines.length === 0) throw new UnsupportedError('MPTCP counters (MPTcpExt in /proc/net/netstat)', '5.6');
  if (lines.length !== 2) throw new DecodeError('netstat.MPTcpExt', `expected a header line and a value line, got ${lines.length} lines`);
  const names = lines[0].slice(PREFIX.length).trim().split(/\s+/);
  const values = lines[1].slice(PREFIX.length).trim().split(/\s+/);
  if (names.length !== values.length) {
    throw new DecodeError('netstat.MPTcpExt', `${names.length} names but ${values.length} values`);
  }
  const out: Record<string, number> = {};
  names.forEach((name, i) => {
    if (!/^\d+$/.test(values[i])) throw new DecodeError(`netstat.MPTcpExt.${name}`, `expected a decimal count, got ${JSON.stringify(values[i])}`);
    out[name] = Number(values[i]);
  });
  return out;
}

/** Reads the netstat text of `ns` (enters it only for the open and read, which are synchronous). */
export function readNetstat(ns: Netns): string {
  return ns.run(() => readFileSync(NETSTAT, 'utf8'));
}

/**
 * The counters of an open namespace, read now (synchronous, a few µs); see {@link parseMptcpCounters}
 * for what it throws.
 */
export function countersIn(ns: Netns): Record<string, number> {
  return parseMptcpCounters(readNetstat(ns));
}

/**
 * The MPTCP MIB counters of a namespace, by kernel name without the `MPTcpExt` prefix:
 * `{ MPCapableSYNTX: 3, MPJoinSynRx: 2, … }`. Most are totals since the namespace was made;
 * `MPCurrEstab` is a gauge. Reads procfs, no netlink. Needs no privilege for the caller's own
 * namespace, CAP_SYS_ADMIN to enter another one.
 * @throws ValidationError for options other than `{ netns }`; NetnsError for a namespace that
 *   cannot be opened or entered.
 * @throws UnsupportedError when the kernel has no MPTCP counters.
 * @example const c = await readMptcpCounters({ netns: 'blue' }); c.MPJoinSynRx
 */
export async function readMptcpCounters(opts: CountersOptions = {}): Promise<Record<string, number>> {
  checkOptions(opts, { netns: OPTION.netns });
  const ns = Netns.open(opts.netns);
  try {
    return countersIn(ns);
  } finally {
    ns.close();
  }
}

/** `after - before` for every counter of `after` (a counter new in `after` counts from 0). */
export function counterDeltas(before: Readonly<Record<string, number>>, after: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, v] of Object.entries(after)) out[name] = v - (before[name] ?? 0);
  return out;
}
