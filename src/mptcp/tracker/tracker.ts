// Domain layer: a live picture of a namespace's MPTCP connections: a sock_diag snapshot kept current
// by the mptcp_pm event stream, and taken again after any loss, so it is never wrong for longer than one resync.

import { EventEmitter } from 'eventemitter3';
import { ClosedError, ValidationError } from '../../netlink/core/errors.js';
import { Netns } from '../../os/netns.js';
import { MptcpDiag } from '../diag/diag.js';
import { checkNetns, checkOptions, OPTION } from '../input/validate.js';
import type { MptcpConnection } from '../diag/model.js';
import { MptcpEvents } from '../events/events.js';
import type { MptcpEvent, OverrunEvent } from '../events/types.js';
import { applyEvent, diffPictures, fromSnapshot, type ResyncReport, type TrackedConnection, type TrackedSubflow } from './picture.js';

export { applyEvent, diffPictures } from './picture.js';
export type { ResyncReport, TrackedConnection, TrackedSubflow } from './picture.js';

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
  /** A namespace: a name under /run/netns, a path such as /proc/PID/ns/net, or an open Netns handle (borrowed: used, never closed). Default: the caller's. Opened once: both sockets live in it. */
  netns?: string | Netns;
  /** Receive buffer of the event socket (see MptcpEvents); a small one overruns sooner. */
  receiveBufferBytes?: number;
  /**
   * An open event stream of the namespace, unfiltered, to read instead of opening one: whoever else
   * listens to it sees each event from the same single read. The tracker closes it on {@link ConnectionTracker.close}.
   */
  events?: MptcpEvents;
}

/**
 * Socket states of an MPTCP connection the application has already closed: the kernel sends `closed`
 * at that moment, while the socket stays in sock_diag until its teardown ends (seen on 6.18), so a
 * snapshot must not bring it back.
 */
const CLOSED_BY_APP: ReadonlySet<string> = new Set(['finWait1', 'finWait2', 'closing', 'lastAck', 'timeWait', 'close']);


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

  private constructor(private readonly events: MptcpEvents, private readonly diag: MptcpDiag, private readonly ns: Netns) {
    super();
  }

  /**
   * Subscribes to mptcp_pm events and takes the first snapshot. Needs what MptcpEvents needs
   * (joining the event group) and what MptcpDiag needs (no privilege).
   * @throws NetnsError, ValidationError, NetlinkError from the two sockets.
   */
  static async open(opts: ConnectionTrackerOptions = {}): Promise<ConnectionTracker> {
    checkOptions(opts, {
      netns: OPTION.netns,
      receiveBufferBytes: OPTION.receiveBufferBytes,
      events: (field, v) => {
        if (!(v instanceof MptcpEvents)) throw new ValidationError(field, 'must be an open MptcpEvents when given');
      },
    });
    const ns = Netns.open(checkNetns(opts.netns));
    let events: MptcpEvents;
    let diag: MptcpDiag;
    try {
      events = opts.events ?? await MptcpEvents.open({ netns: ns, ...(opts.receiveBufferBytes === undefined ? {} : { receiveBufferBytes: opts.receiveBufferBytes }) });
      try {
        diag = await MptcpDiag.open({ netns: ns });
      } catch (e) {
        events.close();
        throw e;
      }
    } catch (e) {
      ns.close();
      throw e;
    }
    // Held until close: the diag reader names interfaces through it.
    const t = new ConnectionTracker(events, diag, ns);
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
  }

  /** Stops listening and closes both sockets. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.events.close();
    this.diag.close();
    this.ns.close();
  }
}
