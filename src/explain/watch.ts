// Explain capability: what happens while explain watches a namespace — the growth of its MPTCP
// counters and the MPTCP events of its connections (subflows closed with the peer's reset reason,
// addresses the peer announced). Totals since the namespace was made never count as evidence.

import { setTimeout as sleep } from 'node:timers/promises';
import { MptcpEvents } from '../mptcp/events/events.js';
import type { MptcpEvent } from '../mptcp/events/types.js';
import { parseMptcpCounters, readNetstat } from '../mptcp/proc/counters.js';
import { getPathManager } from '../mptcp/pm/pathmanager.js';
import type { Netns } from '../os/netns.js';

/** What was seen during the observation window. */
export interface Observed {
  /** Length of the window, seconds (text with one decimal). */
  seconds: string;
  /** Counter growth over the window by kernel name; undefined when the kernel has no counters. */
  deltas: Record<string, number> | undefined;
  /** Events seen meanwhile; undefined when none could be watched. */
  events: MptcpEvent[] | undefined;
}

function counters(ns: Netns): Record<string, number> | undefined {
  try {
    return parseMptcpCounters(readNetstat(ns));
  } catch {
    return undefined; // no counters on this kernel
  }
}

/**
 * Watches `ns` for `windowMs`. Events are watched only under the in-kernel path manager: an open
 * subscription makes the kernel treat a userspace-PM namespace as managed, which would change what
 * it accepts while explain looks.
 */
export async function observe(ns: Netns, windowMs: number): Promise<Observed> {
  const started = performance.now();
  const before = windowMs > 0 ? counters(ns) : undefined;
  let events: MptcpEvents | undefined;
  const seen: MptcpEvent[] = [];
  if (windowMs > 0 && getPathManager(ns) === 'kernel') {
    try {
      events = await MptcpEvents.open({ netns: ns });
      events.on('event', (e) => seen.push(e));
    } catch {
      events = undefined; // no event group (before 5.12) or no privilege: counters only
    }
  }
  try {
    const left = started + windowMs - performance.now();
    if (left > 0) await sleep(left);
  } finally {
    events?.close();
  }
  const after = before === undefined ? undefined : counters(ns);
  const deltas = before === undefined || after === undefined ? undefined
    : Object.fromEntries(Object.keys(after).map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)]));
  return { seconds: ((performance.now() - started) / 1000).toFixed(1), deltas, events: events ? seen : undefined };
}

/** `A +n, B +m in the last S s` for the named counters that grew, or '' when none did or none were read. */
export function grew(o: Observed | undefined, names: readonly string[]): string {
  if (o?.deltas === undefined) return '';
  const hit = names.filter((n) => (o.deltas?.[n] ?? 0) > 0);
  return hit.length === 0 ? '' : `${hit.map((n) => `${n} +${o.deltas?.[n]}`).join(', ')} in the last ${o.seconds} s`;
}

const hostPort = (a: string | undefined, p: number | undefined): string => (a?.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);

/** The subflows of connection `token` from `local` that closed while watched, with the peer's reset reason. */
export function closedSubflows(o: Observed | undefined, token: number, local: string): string[] {
  return (o?.events ?? []).flatMap((e) => {
    if (e.type !== 'subClosed' || e.token !== token || e.localAddress !== local) return [];
    const why = [e.error ? e.error.code : '', e.resetReason ? `reset by the peer: MP_TCPRST reason ${e.resetReason.name} (${e.resetReason.value})${e.resetFlags?.transient ? ', transient' : ''}` : '']
      .filter((x) => x !== '').join(', ');
    return [`subflow ${hostPort(e.localAddress, e.localPort)} -> ${hostPort(e.remoteAddress, e.remotePort)} closed${why ? ` (${why})` : ''}`];
  });
}

/** Addresses the peer of connection `token` announced while watched. */
export function announced(o: Observed | undefined, token: number): { address: string; port?: number; id?: number }[] {
  return (o?.events ?? []).flatMap((e) => (e.type === 'announced' && e.token === token && e.remoteAddress !== undefined
    ? [{ address: e.remoteAddress, ...(e.remotePort ? { port: e.remotePort } : {}), ...(e.remoteId === undefined ? {} : { id: e.remoteId }) }]
    : []));
}
