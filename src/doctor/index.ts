// Doctor capability: the MPTCP troubleshooting list run by the tool — independent checks over one
// namespace's state, each finding saying what it means and which command fixes it.

import { addressesWithoutEndpoint, endpointAddresses, signalListeners } from './checks-addresses.js';
import { limits, mptcpEnabled, userspaceListener } from './checks-mptcp.js';
import { rpFilter, sourceRouting } from './checks-routing.js';
import { counters } from './checks-health.js';
import { connections } from './checks-connections.js';
import { closeContext, readContext } from './context.js';
import type { Check, Finding } from './types.js';
import { checkInt } from '../mptcp/input/validate.js';
import type { Netns } from '../os/netns.js';

export type { Check, Finding, Severity, DoctorContext } from './types.js';

/** Every check, in the order findings are shown. */
export const CHECKS: readonly Check[] = [
  mptcpEnabled, userspaceListener, limits, endpointAddresses, addressesWithoutEndpoint, signalListeners, sourceRouting, rpFilter,
  connections, counters,
];

/** How long doctor watches the counters by default. */
export const DEFAULT_WINDOW_MS = 1000;

/** Options of {@link runDoctor}. */
export interface DoctorOptions {
  /** A namespace: a name under /run/netns, a path such as /proc/PID/ns/net, or an open Netns handle (borrowed: used, never closed). Default: the caller's. */
  netns?: string | Netns;
  /** The checks to run (default {@link CHECKS}). */
  checks?: readonly Check[];
  /**
   * How long to watch the MPTCP counters (ms, default 1000): only what they count meanwhile is
   * judged, never their totals since the namespace was made. The other checks run meanwhile.
   */
  windowMs?: number;
}

/**
 * Runs the checks in `netns` (the caller's namespace when absent) and returns what they found, most
 * severe first. Reads only (rtnetlink dumps, GET_ADDR/GET_LIMITS, sysctls, /proc); entering another
 * namespace needs CAP_SYS_ADMIN. A check that fails is reported as a finding, never dropped.
 */
export async function runDoctor(options: DoctorOptions = {}): Promise<Finding[]> {
  const windowMs = options.windowMs === undefined ? DEFAULT_WINDOW_MS : checkInt('windowMs', options.windowMs, 0, 3_600_000);
  const ctx = await readContext(options.netns, windowMs);
  const found: Finding[] = [];
  try {
    for (const c of options.checks ?? CHECKS) {
      try {
        found.push(...(await c.run(ctx)));
      } catch (e) {
        found.push({ severity: 'warning', code: 'check-failed', message: `check ${c.name} could not run: ${(e as Error).message}`, fix: '' });
      }
    }
  } finally {
    closeContext(ctx);
  }
  const rank = { error: 0, warning: 1, info: 2 } as const;
  return found.sort((a, b) => rank[a.severity] - rank[b.severity]);
}

/** Whether findings say something is wrong (any error or warning; info alone is fine). */
export function doctorFailed(findings: Finding[]): boolean {
  return findings.some((f) => f.severity !== 'info');
}
