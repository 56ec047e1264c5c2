// Doctor capability: what a check reports and what it reads. Each check is independent: it gets the
// state read once for all of them and returns its findings.

import type { Endpoint } from '../mptcp/pm/endpoint.js';
import type { Limits, MptcpPm } from '../mptcp/pm/pm.js';
import type { PathManagerType } from '../mptcp/pm/pathmanager.js';
import type { IfAddress, LinkInfo, RouteEntry, RuleEntry } from '../netlink/route/ops.js';
import type { RouteSocket } from '../netlink/route/socket.js';
import type { Netns } from '../os/netns.js';

export type Severity = 'error' | 'warning' | 'info';

/** One thing found: what it means and the command that fixes it. */
export interface Finding {
  severity: Severity;
  /** Stable identifier, e.g. `mptcp-disabled`, `missing-source-routing`. */
  code: string;
  message: string;
  /** Shell command(s) that fix it, for this namespace. */
  fix: string;
}

/** A listening TCP socket read from /proc/net/tcp{,6}. */
export interface Listener {
  address: string;
  port: number;
}

/** The namespace's state, read once before the checks run. */
export interface DoctorContext {
  /** Namespace name as given, undefined for the caller's own. */
  netns: string | undefined;
  ns: Netns;
  pm: MptcpPm;
  route: RouteSocket;
  /** `net.mptcp.enabled`. */
  enabled: boolean;
  pathManager: PathManagerType;
  endpoints: Endpoint[];
  limits: Limits;
  links: LinkInfo[];
  addresses: IfAddress[];
  routes: RouteEntry[];
  rules: RuleEntry[];
  listeners: Listener[];
  /** Reads a sysctl of this namespace (`net/ipv4/conf/eth0/rp_filter`); undefined when absent. */
  sysctl(path: string): string | undefined;
  /** `ip -n NS` or `ip`, for fix commands. */
  ip: string;
  /** `ip netns exec NS ` or '', prefix of other fix commands. */
  exec: string;
  /** `mptcp-pm -n NS` or `mptcp-pm`, prefix of this tool's own fix commands. */
  self: string;
  /** The MPTCP counters when the run started (undefined: the kernel has none): checks judge deltas from here. */
  baseline: Record<string, number> | undefined;
  /** When the baseline was read (ms, monotonic) and how long to observe before judging counters. */
  startedAt: number;
  windowMs: number;
  /** Tables already proposed by a fix of this run, so two fixes never use the same one. */
  proposedTables: Set<number>;
}

/** A check: reads the context (and may ask the kernel more), returns what it found. */
export interface Check {
  readonly name: string;
  run(ctx: DoctorContext): Promise<Finding[]> | Finding[];
}
