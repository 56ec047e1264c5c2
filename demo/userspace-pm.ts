// The demo's --userspace path manager: mptcp-pm's framework running the built-in kernelCompatible
// policy — what the in-kernel path manager does with the namespace's endpoints and limits, plus
// healing: a subflow that closes while its address and route remain is opened again.

import { UserspacePathManager, policies } from '../src/index.js';

/** What the path manager did, for the demo's summary. */
export interface PathManagerStats {
  /** Subflows created (first opens and re-opens). */
  opened: number;
  reopened: number;
  failures: string[];
}

/**
 * Starts the path manager in `netns` (already on the userspace path manager, its endpoints and
 * limits set as for the in-kernel one) and returns a function that stops it. `stats` is kept
 * current. Re-opens are spaced out 0.5 s, 1 s, 2 s, … up to 30 s.
 */
export async function runPathManager(netns: string, stats: PathManagerStats): Promise<() => Promise<void>> {
  const policy = policies.kernelCompatible({ netns });
  let upm: UserspacePathManager;
  try {
    upm = await UserspacePathManager.start({ netns, policy, backoff: policies.KERNEL_COMPATIBLE_BACKOFF });
  } catch (e) {
    policy.close();
    throw e;
  }
  const sync = (): void => {
    stats.opened = upm.stats.subflowsOpened + upm.stats.subflowsReopened;
    stats.reopened = upm.stats.subflowsReopened;
  };
  upm.on('action', sync);
  upm.on('error', ({ error, hook }) => void stats.failures.push(`${hook ?? 'error'}: ${error.message}`));
  return async () => {
    sync();
    await upm.stop();
    policy.close();
  };
}
