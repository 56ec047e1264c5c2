// The demo's --userspace path manager: mptcp-pm's framework running the built-in subflowPerAddress
// policy — one subflow per other local address on `established`, backups marked, closed subflows re-opened.

import { UserspacePathManager, policies } from '../src/index.js';

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
  /** Subflows created (first opens and re-opens). */
  opened: number;
  reopened: number;
  failures: string[];
}

/**
 * Starts the path manager in `netns` (already on the userspace path manager) and returns a function
 * that stops it. `stats` is kept current. The framework adopts connections that exist already,
 * spaces out re-opens (250 ms, 500 ms, 1 s, …) and recovers from lost events by itself.
 */
export async function runPathManager(netns: string, locals: LocalAddress[], stats: PathManagerStats): Promise<() => Promise<void>> {
  const upm = await UserspacePathManager.start({ netns, policy: policies.subflowPerAddress({ addresses: locals }) });
  const sync = (): void => {
    stats.opened = upm.stats.subflowsOpened + upm.stats.subflowsReopened;
    stats.reopened = upm.stats.subflowsReopened;
  };
  upm.on('action', sync);
  upm.on('error', ({ error, hook }) => void stats.failures.push(`${hook ?? 'error'}: ${error.message}`));
  return async () => {
    sync();
    await upm.stop();
  };
}
