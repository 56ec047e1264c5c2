// Userspace path-manager framework (capability layer): what a policy sees and may do. A policy is an
// object of optional async hooks; the framework calls each once per kernel fact and serialises per connection.

import type { SocketAddress } from '../mptcp/diag/model.js';
import type { EventError } from '../mptcp/events/types.js';

/** A local address a policy may use, with the id the connection will know it by. */
export interface LocalAddress {
  address: string;
  /** Address id (1–255). Default: allocated per connection, the same across connections when free. */
  id?: number;
  /** Subflows from this address are opened as backups. */
  backup?: boolean;
}

/** An address the peer announced (ADD_ADDR). `port` is absent when the peer gave none. */
export interface RemoteAddress {
  id: number;
  address: string;
  port?: number;
}

/** A subflow as the framework knows it. */
export interface UpmSubflow {
  local: SocketAddress;
  remote: SocketAddress;
  localId?: number;
  remoteId?: number;
  backup: boolean;
  /** False for a join that failed before it was established (its SYN got no answer, a reset, …). */
  established: boolean;
  /** The socket error of a closed subflow, when the kernel gave one. */
  error?: EventError;
  /** A closed subflow that had been up: for how long (ms). */
  upMs?: number;
}

/** A connection as hooks see it: a live view, updated by the framework as facts arrive. */
export interface UpmConnection {
  readonly token: number;
  /** The initial subflow's ends. */
  readonly local: SocketAddress;
  readonly remote: SocketAddress;
  /** This host accepted the connection; undefined when it was adopted from a snapshot (unknown). */
  readonly serverSide: boolean | undefined;
  /** The connection still exists (false after `closed`). */
  readonly open: boolean;
  readonly subflows: readonly UpmSubflow[];
  /** Addresses the peer announced and has not removed. */
  readonly announced: readonly RemoteAddress[];
}

/** What `createSubflow` did: sent, already there (a live or pending subflow on that path), deferred by back-off, given up. */
export type CreateOutcome = 'created' | 'exists' | 'scheduled' | 'gave-up';

/** The actions a hook may take on its connection. Each is serialised with the connection's other actions. */
export interface UpmActions {
  /**
   * SUBFLOW_CREATE from `local` to `remote` (port: the connection's remote port unless given). The id
   * is the framework's for `local.address` unless given. Refused attempts (ENOTCONN before the
   * connection is fully established, …) are retried with back-off; a path that failed or closed
   * recently waits its back-off first.
   */
  createSubflow(spec: { local: { address: string; id?: number; ifindex?: number }; remote: { address: string; port?: number }; backup?: boolean }): Promise<CreateOutcome>;
  /**
   * {@link createSubflow} after forgetting the path's failures: for a path given up (or waiting its
   * back-off) whose link or address has just come back.
   */
  retrySubflow(spec: Parameters<UpmActions['createSubflow']>[0]): Promise<CreateOutcome>;
  /** SUBFLOW_DESTROY of a subflow this connection has. */
  destroySubflow(sf: Pick<UpmSubflow, 'local' | 'remote'>): Promise<void>;
  /** ANNOUNCE `address` to the peer with the framework's id for it (or `id`). */
  announce(spec: { address: string; id?: number; port?: number }): Promise<void>;
  /** REMOVE the local address `id` (RM_ADDR to the peer). */
  removeAddress(id: number): Promise<void>;
  /** SET_FLAGS (MP_PRIO) on a subflow. */
  setBackup(sf: Pick<UpmSubflow, 'local' | 'remote'>, backup: boolean): Promise<void>;
  /** The id this connection uses (or will use) for a local address. */
  idFor(address: string): number;
  /** Global unicast addresses of the namespace (read at start and on each resync). */
  localAddresses(): readonly string[];
}

/** A path-manager policy: every hook is optional, and runs at most once per fact. */
export interface Policy {
  /** Name shown in stats and errors. */
  name?: string;
  /** The connection is established (live, or found established by a snapshot). Once per connection. */
  established?(conn: UpmConnection, act: UpmActions): Promise<void> | void;
  /** A subflow closed, or a join failed (`sf.established` false). Once per subflow 4-tuple and generation. */
  subflowClosed?(sf: UpmSubflow, conn: UpmConnection, act: UpmActions): Promise<void> | void;
  /** A subflow came up (including ones the peer opened); not run for those a connection has when first seen. */
  subflowEstablished?(sf: UpmSubflow, conn: UpmConnection, act: UpmActions): Promise<void> | void;
  /** The peer announced an address. Once per (id, address, port). */
  announced?(addr: RemoteAddress, conn: UpmConnection, act: UpmActions): Promise<void> | void;
  /** The peer removed address id `addrId`. */
  removed?(addrId: number, conn: UpmConnection, act: UpmActions): Promise<void> | void;
  /** The connection is gone (no actions left to take). */
  closed?(conn: UpmConnection): Promise<void> | void;
}

export type HookName = 'established' | 'subflowClosed' | 'subflowEstablished' | 'announced' | 'removed' | 'closed';

/** A policy hook threw, or an action failed for good. */
export interface UpmError {
  error: Error;
  token?: number;
  hook?: HookName | 'createSubflow' | 'resync';
}

/** One thing the framework did, for logs (`mptcp-pm userspace-pm` prints these). */
export interface UpmAction {
  action: 'createSubflow' | 'destroySubflow' | 'announce' | 'removeAddress' | 'setBackup' | 'retry' | 'adopt' | 'resync';
  token?: number;
  detail: string;
}

/** What the framework did since start. */
export interface UpmStats {
  /** Connections seen (live or adopted). */
  connections: number;
  /** Connections found by a snapshot (at start or after events were lost) rather than by an event. */
  adopted: number;
  /** SUBFLOW_CREATE accepted: on a path for the first time / again after a close or failure. */
  subflowsOpened: number;
  subflowsReopened: number;
  /** Subflows closed and joins failed, as facts seen. */
  subflowsClosed: number;
  announcements: number;
  /** Actions the kernel refused, joins that failed, hooks that threw. */
  failures: number;
  /** Snapshots taken after events were lost or on request. */
  resyncs: number;
}

export interface UpmEvents {
  error: (e: UpmError) => void;
  action: (a: UpmAction) => void;
}
