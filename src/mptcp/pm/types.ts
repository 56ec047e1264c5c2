// Option, result and event types of the MptcpPm API (pm.ts), kept apart so that file stays about
// the calls themselves.

import type { GenlSocketOptions } from '../../netlink/genl/socket.js';
import type { Netns } from '../../os/netns.js';

export interface MptcpPmOptions {
  /** A namespace: a name under /run/netns, a path such as /proc/PID/ns/net, or an open Netns handle (borrowed: used, never closed). Default: the caller's. */
  netns?: string | Netns;
  /** Per-request timeout in milliseconds (default 5000). */
  timeoutMs?: number;
  /** For tests: a transport to use instead of a kernel socket. */
  transport?: GenlSocketOptions['transport'];
  /**
   * For tests: the transport of the nlctrl socket that asks for the family's policies. When
   * `transport` is given without it, the policies are not asked for (policy-based features false).
   */
  ctrlTransport?: GenlSocketOptions['transport'];
  /**
   * Open with one round trip (the family lookup) instead of two: the policy-based features are
   * asked for when first needed (see MptcpPm.learnFeatures). Default false.
   */
  lazyFeatures?: boolean;
}

/** Limits of the in-kernel path manager, as `ip mptcp limits` names them. */
export interface Limits {
  /** Most additional subflows per connection (0–8). */
  subflows: number;
  /** Most ADD_ADDRs accepted from the peer per connection (0–8). */
  addAddrAccepted: number;
}

/** Which endpoint a call acts on: its id, or its address (and port, for signal endpoints with one). */
export type EndpointRef = number | { address: string; port?: number };

/** Events of `MptcpPm`. */
export interface MptcpPmEvents {
  /**
   * A datagram that answers no request (an error or ACK for an unknown sequence number, a
   * malformed message, a receive error). With no listener it is only counted in
   * `MptcpPm.unmatchedErrors`; no process warning is raised.
   */
  error: (err: Error) => void;
  /**
   * Something the kernel accepted but that will not work as the caller likely expects, e.g.
   * `mptcp-disabled`: an endpoint was added while `net.mptcp.enabled` is 0 in the namespace, so
   * no connection will use it until MPTCP is enabled; `address-not-unicast`: an endpoint with a
   * wildcard, multicast or broadcast address was added (the kernel keeps it, no subflow or
   * ADD_ADDR will use it).
   */
  warning: (w: MptcpPmWarning) => void;
}

/** See {@link MptcpPmEvents.warning}. */
export interface MptcpPmWarning {
  code: 'mptcp-disabled' | 'address-not-unicast';
  message: string;
  /** What fixes it. */
  fix: string;
}
