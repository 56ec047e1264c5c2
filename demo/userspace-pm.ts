// A small userspace path manager written with mptcp-pm, as the demo's --userspace mode runs it:
// one subflow per other local address on `established`, backups marked, closed subflows re-opened.

import type { MptcpPm, MptcpEvents } from '../src/index.js';

/** A local address the path manager may open subflows from. */
export interface LocalAddress {
  address: string;
  /** Address id (1–255) the connection will know this address by. */
  id: number;
  /** Open subflows from this address as backups (used only when no other subflow works). */
  backup: boolean;
}

/** What the path manager did, for the demo's summary. */
export interface PathManagerStats {
  opened: number;
  reopened: number;
  failures: string[];
}

/**
 * Runs the path manager on `events` (an open MptcpEvents of the namespace `pm` acts in) until
 * the returned function is called. Subflow failures are retried after 250 ms, 500 ms, 1 s, …
 * (at most 6 times in a row per address); a subflow that comes up resets its count.
 */
export function runPathManager(pm: MptcpPm, events: MptcpEvents, locals: LocalAddress[], stats: PathManagerStats): () => void {
  const remotes = new Map<number, { address: string; port: number }>(); // token → server
  const tries = new Map<string, number>(); // `${token} ${address}` → failures in a row
  const timers = new Set<NodeJS.Timeout>();

  const open = (token: number, local: LocalAddress): void => {
    const remote = remotes.get(token);
    if (!remote) return;
    pm.createSubflow({ token, local: { address: local.address, id: local.id }, remote, backup: local.backup })
      .then(() => void stats.opened++)
      .catch((e: Error) => retry(token, local, e.message));
  };
  const retry = (token: number, local: LocalAddress, why: string): void => {
    const key = `${token} ${local.address}`;
    const n = tries.get(key) ?? 0;
    stats.failures.push(`${local.address}: ${why}`);
    if (n >= 6 || !remotes.has(token)) return;
    tries.set(key, n + 1);
    const t = setTimeout(() => {
      timers.delete(t);
      stats.reopened++;
      open(token, local);
    }, 250 * 2 ** n);
    timers.add(t);
  };

  events.on('established', (e) => {
    if (e.serverSide || e.remoteAddress === undefined || e.remotePort === undefined) return;
    remotes.set(e.token, { address: e.remoteAddress, port: e.remotePort });
    for (const local of locals) if (local.address !== e.localAddress) open(e.token, local);
  });
  events.on('subEstablished', (e) => tries.delete(`${e.token} ${e.localAddress}`));
  events.on('subClosed', (e) => {
    const local = locals.find((l) => l.address === e.localAddress);
    if (local && remotes.has(e.token)) retry(e.token, local, e.error?.code ?? 'closed');
  });
  events.on('closed', (e) => void remotes.delete(e.token));

  return () => {
    for (const t of timers) clearTimeout(t);
    remotes.clear();
  };
}
