// Domain layer: a live picture of a namespace's MPTCP connections: a sock_diag snapshot kept current
// by the mptcp_pm event stream, and taken again after any loss, so it is never wrong for longer than one resync.

import { EventEmitter } from 'eventemitter3';
import { ClosedError, ValidationError } from '../../netlink/core/errors.js';
import { MptcpDiag } from '../diag/diag.js';
import type { MptcpConnection, MptcpConnectionInfo, SocketAddress } from '../diag/model.js';
import { MptcpEvents } from '../events/events.js';
import type { MptcpEvent, OverrunEvent } from '../events/types.js';

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

export interface TrackerEvents {
  connection: (c: TrackedConnection) => void;
  subflow: (c: TrackedConnection, s: TrackedSubflow) => void;
  subflowClosed: (c: TrackedConnection, s: TrackedSubflow) => void;
  /** Established, a subflow's backup flag: the connection object was updated in place. */
  updated: (c: TrackedConnection) => void;
  closed: (c: TrackedConnection) => void;
  resync: (r: ResyncReport) => void;
  error: (e: Error) => void;
}

export interface ConnectionTrackerOptions {
  netns?: string;
  /** Receive buffer of the event socket (see MptcpEvents); a small one overruns sooner. */
  receiveBufferBytes?: number;
}

/**
 * Socket states of an MPTCP connection the application has already closed: the kernel sends `closed`
 * at that moment, while the socket stays in sock_diag until its teardown ends (seen on 6.18), so a
 * snapshot must not bring it back.
 */
const CLOSED_BY_APP: ReadonlySet<string> = new Set(['finWait1', 'finWait2', 'closing', 'lastAck', 'timeWait', 'close']);
const DROP_WATCH_LOOKS = 20;
const DROP_WATCH_MS = 50;

/** Addresses compared as IPv4 when v4-mapped, as events and sock_diag may spell them differently. */
const plain = (a: string): string => (a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a);
const subKey = (l: SocketAddress, r: SocketAddress): string => `${plain(l.address)}|${l.port}|${plain(r.address)}|${r.port}`;

function fromSnapshot(c: MptcpConnection): TrackedConnection {
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

type Change = { kind: 'connection' | 'updated' | 'closed'; c: TrackedConnection } | { kind: 'subflow' | 'subflowClosed'; c: TrackedConnection; s: TrackedSubflow };

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

/**
 * Keeps `connections` current. It subscribes to the namespace's MPTCP events first, then takes a
 * sock_diag snapshot, then applies the events that arrived meanwhile (idempotently), so it is right
 * however late it starts. After an overrun (events lost) or `resync()`, it takes a new snapshot and
 * emits `resync` with what was added, removed and changed while it could not see.
 */
export class ConnectionTracker extends EventEmitter<TrackerEvents> {
  private map = new Map<number, TrackedConnection>();
  private buffer: MptcpEvent[] | undefined;
  private syncing: Promise<void> | undefined;
  private again: ResyncReport['reason'] | undefined;
  private lost: number | undefined;
  private closed = false;
  private dropWatch: NodeJS.Timeout | undefined;

  private constructor(private readonly events: MptcpEvents, private readonly diag: MptcpDiag) {
    super();
  }

  /**
   * Subscribes to mptcp_pm events and takes the first snapshot. Needs what MptcpEvents needs
   * (joining the event group) and what MptcpDiag needs (no privilege).
   * @throws NetnsError, ValidationError, NetlinkError from the two sockets.
   */
  static async open(opts: ConnectionTrackerOptions = {}): Promise<ConnectionTracker> {
    if (typeof opts !== 'object' || opts === null) throw new ValidationError('options', 'must be an object');
    const events = await MptcpEvents.open({ netns: opts.netns, ...(opts.receiveBufferBytes === undefined ? {} : { receiveBufferBytes: opts.receiveBufferBytes }) });
    let diag: MptcpDiag;
    try {
      diag = await MptcpDiag.open({ netns: opts.netns });
    } catch (e) {
      events.close();
      throw e;
    }
    const t = new ConnectionTracker(events, diag);
    events.on('event', (e) => t.onEvent(e));
    events.on('overrun', (o) => t.onOverrun(o));
    events.on('error', (e) => t.emit('error', e));
    try {
      await t.sync(undefined);
    } catch (e) {
      t.close();
      throw e;
    }
    return t;
  }

  /** The connections by token, with their subflows. */
  get connections(): ReadonlyMap<number, TrackedConnection> {
    return this.map;
  }

  /** Takes a new snapshot now; resolves when the picture is current again. */
  resync(): Promise<void> {
    return this.request('request');
  }

  private request(reason: ResyncReport['reason']): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError('ConnectionTracker'));
    if (this.syncing !== undefined) {
      this.again ??= reason;
      return this.syncing;
    }
    return this.sync(reason);
  }

  private sync(reason: ResyncReport['reason'] | undefined): Promise<void> {
    this.buffer = [];
    const run = (async () => {
      let why = reason;
      for (;;) {
        this.buffer = [];
        this.again = undefined;
        const drops = this.events.readDrops();
        const snap = await this.diag.connections();
        if (this.closed) return;
        // Events dropped while the snapshot was taken may postdate it: take another.
        if (drops !== undefined && (this.events.readDrops() ?? drops) > drops) this.again ??= 'overrun';
        const next = new Map(snap.filter((c) => !CLOSED_BY_APP.has(c.state)).map((c) => [c.token, fromSnapshot(c)] as const));
        for (const e of this.buffer) applyEvent(next, e);
        const before = this.map;
        this.map = next;
        if (why !== undefined) {
          const report: ResyncReport = { ...diffPictures(before, next), reason: why };
          if (this.lost !== undefined) report.lost = this.lost;
          this.lost = undefined;
          this.emit('resync', report);
        }
        if (this.again === undefined) break;
        why = this.again;
      }
    })();
    this.syncing = run.finally(() => {
      this.syncing = undefined;
      this.buffer = undefined;
    });
    return this.syncing;
  }

  private onEvent(e: MptcpEvent): void {
    if (this.buffer !== undefined) {
      this.buffer.push(e);
      return;
    }
    const ch = applyEvent(this.map, e);
    if (ch === undefined) return;
    if (ch.kind === 'subflow' || ch.kind === 'subflowClosed') this.emit(ch.kind, ch.c, ch.s);
    else this.emit(ch.kind, ch.c);
  }

  private onOverrun(o: OverrunEvent): void {
    if (o.lost !== undefined) this.lost = (this.lost ?? 0) + o.lost;
    this.request('overrun').catch((e: unknown) => this.emit('error', e instanceof Error ? e : new Error(String(e))));
    this.watchDrops(this.events.readDrops(), 0);
  }

  /**
   * After an overrun the queue may stay full, and events dropped then come with nothing read to
   * notice them: watch the kernel's drop counter for a while (20 looks, 50 ms apart) and resync on any growth.
   */
  private watchDrops(last: number | undefined, looks: number): void {
    clearTimeout(this.dropWatch);
    if (this.closed || last === undefined || looks >= DROP_WATCH_LOOKS) return;
    this.dropWatch = setTimeout(() => {
      const now = this.events.readDrops();
      if (now !== undefined && now > last) {
        this.request('overrun').catch((e: unknown) => this.emit('error', e instanceof Error ? e : new Error(String(e))));
        this.watchDrops(now, 0);
      } else this.watchDrops(now, looks + 1);
    }, DROP_WATCH_MS);
    this.dropWatch.unref();
  }

  /** Stops listening and closes both sockets. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.dropWatch);
    this.events.close();
    this.diag.close();
  }
}
