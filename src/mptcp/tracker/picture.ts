// Domain layer: the picture a ConnectionTracker keeps (connections and their subflows, by token),
// built from a sock_diag snapshot, changed by one event at a time, and compared across a resync.

import type { MptcpConnection, MptcpConnectionInfo, SocketAddress } from '../diag/model.js';
import type { MptcpEvent } from '../events/types.js';
import { unmapV4 } from '../../os/address.js';

export interface TrackedSubflow {
  local: SocketAddress;
  remote: SocketAddress;
  localId?: number;
  remoteId?: number;
  backup: boolean;
  ifindex?: number;
}

export interface TrackedConnection {
  token: number;
  local: SocketAddress;
  remote: SocketAddress;
  /** The MPTCP handshake completed (or, from a snapshot, the socket is past it). */
  established: boolean;
  serverSide?: boolean;
  /** From the last snapshot that saw the connection (mptcp_info then). */
  fallback?: boolean;
  info?: MptcpConnectionInfo;
  subflows: TrackedSubflow[];
}

/** What a resync found different from the picture held before it. */
export interface ResyncReport {
  added: TrackedConnection[];
  removed: TrackedConnection[];
  changed: TrackedConnection[];
  /** Why: `overrun` (with the events lost, when known), `request` (resync() called). */
  reason: 'overrun' | 'request';
  lost?: number;
}

/** Addresses compared as IPv4 when v4-mapped, as events and sock_diag may spell them differently. */
const plain = unmapV4;
const subKey = (l: SocketAddress, r: SocketAddress): string => `${plain(l.address)}|${l.port}|${plain(r.address)}|${r.port}`;

/** The tracked form of a connection as a sock_diag snapshot shows it. */
export function fromSnapshot(c: MptcpConnection): TrackedConnection {
  return {
    token: c.token, local: c.local, remote: c.remote,
    established: c.state !== 'synSent' && c.state !== 'synRecv',
    fallback: c.fallback, info: c.info,
    subflows: c.subflows.map((s) => ({ local: s.local, remote: s.remote, localId: s.localId, remoteId: s.remoteId, backup: s.backup.local, ...(s.ifindex ? { ifindex: s.ifindex } : {}) })),
  };
}

function sameShape(a: TrackedConnection, b: TrackedConnection): boolean {
  if (a.established !== b.established || a.subflows.length !== b.subflows.length) return false;
  const keys = new Set(a.subflows.map((s) => `${subKey(s.local, s.remote)}|${s.backup}`));
  return b.subflows.every((s) => keys.has(`${subKey(s.local, s.remote)}|${s.backup}`));
}

/** What one event changed in the picture. */
export type Change = { kind: 'connection' | 'updated' | 'closed'; c: TrackedConnection } | { kind: 'subflow' | 'subflowClosed'; c: TrackedConnection; s: TrackedSubflow };

/**
 * Applies one event to `map`. Idempotent: an event already reflected (a connection or subflow the
 * snapshot holds, a close of something absent) changes nothing and reports nothing.
 */
export function applyEvent(map: Map<number, TrackedConnection>, e: MptcpEvent): Change | undefined {
  if (e.type === 'invalid' || e.type === 'unknown' || e.type === 'listenerCreated' || e.type === 'listenerClosed' || e.token === undefined) return undefined;
  const c = map.get(e.token);
  const ends = (): { local: SocketAddress; remote: SocketAddress } | undefined =>
    e.localAddress === undefined || e.remoteAddress === undefined ? undefined
      : { local: { address: e.localAddress, port: e.localPort ?? 0 }, remote: { address: e.remoteAddress, port: e.remotePort ?? 0 } };
  switch (e.type) {
    case 'created':
    case 'established': {
      if (c !== undefined) {
        if (e.type === 'established' && !c.established) {
          c.established = true;
          c.serverSide = e.serverSide;
          return { kind: 'updated', c };
        }
        return undefined;
      }
      // Only `created` brings a connection: the kernel can send `established` after `closed`
      // (seen on 6.18 when a connection closes before its first data), which must not revive it.
      const at = ends();
      if (at === undefined || e.type !== 'created') return undefined;
      const n: TrackedConnection = { token: e.token, ...at, established: false, serverSide: e.serverSide, subflows: [{ ...at, localId: 0, remoteId: 0, backup: false }] };
      map.set(e.token, n);
      return { kind: 'connection', c: n };
    }
    case 'closed':
      if (c === undefined) return undefined;
      map.delete(e.token);
      return { kind: 'closed', c };
    case 'subEstablished':
    case 'subClosed':
    case 'subPriority': {
      const at = ends();
      if (c === undefined || at === undefined) return undefined;
      const key = subKey(at.local, at.remote);
      const i = c.subflows.findIndex((s) => subKey(s.local, s.remote) === key);
      if (e.type === 'subClosed') {
        if (i < 0) return undefined;
        const [s] = c.subflows.splice(i, 1);
        return { kind: 'subflowClosed', c, s };
      }
      if (e.type === 'subPriority') {
        if (i < 0 || c.subflows[i].backup === (e.backup ?? false)) return undefined;
        c.subflows[i].backup = e.backup ?? false;
        return { kind: 'updated', c };
      }
      if (i >= 0) return undefined;
      const s: TrackedSubflow = { ...at, localId: e.localId, remoteId: e.remoteId, backup: e.backup ?? false, ...(e.ifindex ? { ifindex: e.ifindex } : {}) };
      c.subflows.push(s);
      return { kind: 'subflow', c, s };
    }
    default:
      return undefined;
  }
}

/** Compares two pictures by token. */
export function diffPictures(before: ReadonlyMap<number, TrackedConnection>, after: ReadonlyMap<number, TrackedConnection>): Pick<ResyncReport, 'added' | 'removed' | 'changed'> {
  const added = [...after.values()].filter((c) => !before.has(c.token));
  const removed = [...before.values()].filter((c) => !after.has(c.token));
  const changed = [...after.values()].filter((c) => {
    const b = before.get(c.token);
    return b !== undefined && !sameShape(b, c);
  });
  return { added, removed, changed };
}
