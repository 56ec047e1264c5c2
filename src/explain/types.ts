// Explain capability: what `explainConnections` returns — per connection, the subflows it has, the
// ones its path manager should have made, and for each missing one a single cause with its evidence.

import type { Netns } from '../os/netns.js';

/** Why a subflow the path manager should have made is not there. */
export type CauseCode =
  | 'limits-subflows'
  | 'limits-add-addr-accepted'
  | 'no-endpoint'
  | 'link-down'
  | 'address-gone'
  | 'no-source-route'
  | 'join-refused'
  | 'join-in-progress'
  | 'fallback'
  | 'blackhole'
  | 'userspace-pm-unmanaged';

/** One subflow the connection has. */
export interface PresentSubflow {
  local: string;
  remote: string;
  localPort: number;
  remotePort: number;
  state: string;
  ifname?: string;
  backup: boolean;
}

/** One subflow the path manager's rules call for, and whether it is there. */
export interface ExpectedSubflow {
  local: string;
  remote: string;
  ifname?: string;
  /** The endpoint that calls for it (in-kernel path manager), and its flags. */
  endpointId?: number;
  flags: string[];
  present: boolean;
}

/** Why one expected subflow is missing: one cause, what shows it, and the commands that bring it. */
export interface MissingSubflow {
  local: string;
  remote: string;
  cause: CauseCode;
  /** What was read that shows the cause (state, limits, route lookup, counters). */
  evidence: string;
  /** Shell command(s) for this namespace; `#` starts an explanation. */
  fix: string;
}

/** One connection explained. */
export interface ConnectionExplanation {
  /** Local token, 8 hex digits; '' for a plain TCP connection an MPTCP listener accepted (it has none). */
  token: string;
  local: string;
  remote: string;
  /** `client` when this side connected (the in-kernel PM opens subflows there), `server` when it accepted. */
  side: 'client' | 'server';
  pathManager: string;
  have: PresentSubflow[];
  expected: ExpectedSubflow[];
  missing: MissingSubflow[];
}

/** Options of `explainConnections`. */
export interface ExplainOptions {
  /** A namespace: a name under /run/netns, a path such as /proc/PID/ns/net, or an open Netns handle (borrowed: used, never closed). Default: the caller's. */
  netns?: string | Netns;
  /** Only the connection with this local token. */
  token?: number;
  /**
   * How long to watch before judging (ms, default 1000): the counters' growth and the MPTCP events
   * seen meanwhile (subflows closed and the peer's reset reasons, addresses the peer announced) are
   * evidence; totals since the namespace was made never are. 0: live state only.
   */
  windowMs?: number;
}
