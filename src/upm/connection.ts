// Userspace path-manager framework: one connection's state — its subflows, the peer's announced
// addresses, local ids, attempts in flight, and the once-only record of which hooks have run.

import type { SocketAddress } from '../mptcp/diag/model.js';
import type { TrackedConnection, TrackedSubflow } from '../mptcp/tracker/tracker.js';
import { AddressIds, pathKey, plain, subflowKey } from './bookkeeping.js';
import type { RemoteAddress, UpmActions, UpmConnection, UpmSubflow } from './types.js';

export class ConnState implements UpmConnection {
  readonly token: number;
  readonly local: SocketAddress;
  readonly remote: SocketAddress;
  serverSide: boolean | undefined;
  open = true;
  /** The userspace PM does not run this connection (the kernel said so): no more actions. */
  foreign = false;
  readonly ids: AddressIds;
  /** Live subflows by 4-tuple. */
  private live = new Map<string, UpmSubflow>();
  // The collections below are made on first use: most connections never need them, and a
  // thousand connections at once should not each carry a handful of empty Maps and Sets.
  /** 4-tuples whose close was already handled (a late establish of one of them is not a new subflow). */
  private closedKeys: Set<string> | undefined;
  /** Hook facts handled (idempotency keys). */
  private done: Set<string> | undefined;
  /** Attempts sent and not yet seen up or failed: path → when sent. */
  readonly pending = new Map<string, number>();
  /** Paths ever attempted here (a new attempt on one is a re-open). */
  private triedPaths: Set<string> | undefined;
  private peer: Map<number, RemoteAddress> | undefined;
  private timerSet: Set<NodeJS.Timeout> | undefined;
  /** @internal The actions its hooks are given, made when its first hook runs. */
  actions: UpmActions | undefined;
  /** When each live subflow was first seen up. */
  private since = new Map<string, number>();

  constructor(c: TrackedConnection, preferredIds: Map<string, number>) {
    this.token = c.token;
    this.local = c.local;
    this.remote = c.remote;
    this.serverSide = c.serverSide;
    this.ids = new AddressIds(preferredIds);
  }

  get subflows(): readonly UpmSubflow[] {
    return [...this.live.values()];
  }

  get announced(): readonly RemoteAddress[] {
    return this.peer === undefined ? [] : [...this.peer.values()];
  }

  get tried(): Set<string> {
    return (this.triedPaths ??= new Set());
  }

  /** Retry timers of this connection's actions (cleared on close). */
  get timers(): Set<NodeJS.Timeout> {
    return (this.timerSet ??= new Set());
  }

  /** Same connection (a token can come back for a new connection after a close that was missed). */
  sameAs(c: TrackedConnection): boolean {
    return c.local.port === this.local.port && c.remote.port === this.remote.port && plain(c.remote.address) === plain(this.remote.address);
  }

  /** True the first time `fact` is seen. */
  once(fact: string): boolean {
    const done = (this.done ??= new Set());
    if (done.has(fact)) return false;
    done.add(fact);
    return true;
  }

  /** A subflow is up. Returns it when new (not already live, not already closed). */
  addSubflow(s: TrackedSubflow): UpmSubflow | undefined {
    const key = subflowKey(s);
    if (this.live.has(key) || this.closedKeys?.has(key) === true) return undefined;
    const sf: UpmSubflow = { local: s.local, remote: s.remote, localId: s.localId, remoteId: s.remoteId, backup: s.backup, established: true };
    this.live.set(key, sf);
    this.since.set(key, performance.now());
    if (s.localId !== undefined) this.ids.note(plain(s.local.address), s.localId);
    this.pending.delete(pathKey(s.local.address, s.remote.address, s.remote.port));
    return sf;
  }

  /**
   * A subflow closed or a join failed. Returns what closed when this is the first word of it; a join
   * never seen up comes back with `established: false`.
   */
  closeSubflow(at: { local: SocketAddress; remote: SocketAddress }, info: Partial<UpmSubflow> = {}): UpmSubflow | undefined {
    const key = subflowKey(at);
    const closed = (this.closedKeys ??= new Set());
    if (closed.has(key)) return undefined;
    closed.add(key);
    if (closed.size > 4096) closed.delete(closed.values().next().value as string);
    const was = this.live.get(key);
    const since = this.since.get(key);
    this.live.delete(key);
    this.since.delete(key);
    this.pending.delete(pathKey(at.local.address, at.remote.address, at.remote.port));
    return { ...(was ?? { local: at.local, remote: at.remote, backup: false, established: false }), ...info, ...(was ? { established: true } : {}),
      ...(was && since !== undefined ? { upMs: performance.now() - since } : {}) };
  }

  /**
   * An attempt on `path` that neither came up nor failed visibly (its events were lost): forgotten,
   * and returned as a failed join with local port 0 (the port it got is unknown).
   */
  lostAttempt(path: string): UpmSubflow | undefined {
    if (!this.pending.delete(path)) return undefined;
    const [local, rest] = path.split('>');
    const i = rest.lastIndexOf(':');
    return { local: { address: local, port: 0 }, remote: { address: rest.slice(0, i), port: Number(rest.slice(i + 1)) }, backup: false, established: false };
  }

  setBackup(at: { local: SocketAddress; remote: SocketAddress }, backup: boolean): void {
    const sf = this.live.get(subflowKey(at));
    if (sf) sf.backup = backup;
  }

  /** The picture of a snapshot: subflows it has that are new here, and live ones it no longer has. */
  reconcile(c: TrackedConnection): { up: UpmSubflow[]; gone: UpmSubflow[] } {
    const there = new Set(c.subflows.map(subflowKey));
    const gone: UpmSubflow[] = [];
    for (const [key, sf] of this.live) {
      if (there.has(key)) continue;
      const g = this.closeSubflow(sf);
      if (g) gone.push(g);
    }
    const up: UpmSubflow[] = [];
    for (const s of c.subflows) {
      const sf = this.addSubflow(s);
      if (sf) up.push(sf);
      else this.setBackup(s, s.backup);
    }
    return { up, gone };
  }

  /** A live subflow or an attempt in flight on this path. */
  hasPath(local: string, remote: string, port: number): boolean {
    const p = pathKey(local, remote, port);
    if (this.pending.has(p)) return true;
    for (const sf of this.live.values()) if (pathKey(sf.local.address, sf.remote.address, sf.remote.port) === p) return true;
    return false;
  }

  /** The peer announced `a`; false when it is already known. */
  announce(a: RemoteAddress): boolean {
    const peer = (this.peer ??= new Map());
    const was = peer.get(a.id);
    if (was && was.address === a.address && was.port === a.port) return false;
    peer.set(a.id, a);
    return true;
  }

  removeAnnounced(id: number): void {
    this.peer?.delete(id);
  }

  /** Stops the retry timers. */
  clearTimers(): void {
    if (this.timerSet === undefined) return;
    for (const t of this.timerSet) clearTimeout(t);
    this.timerSet.clear();
  }

  /** The connection is gone: timers stop, nothing more is attempted. */
  close(): void {
    this.open = false;
    this.clearTimers();
    this.pending.clear();
  }
}
