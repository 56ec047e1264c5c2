// Userspace path-manager framework (capability layer): runs a policy's hooks over a ConnectionTracker,
// once per fact, and rebuilds its picture from the kernel after lost events so no connection is missed.

import { EventEmitter } from 'eventemitter3';
import type { AnnouncedEvent, MptcpEvent, RemovedEvent, SubClosedEvent } from '../mptcp/events/types.js';
import type { TrackedConnection } from '../mptcp/tracker/tracker.js';
import { createActions } from './actions.js';
import { Backoff, KeyedSerial, pathKey } from './bookkeeping.js';
import { ConnState } from './connection.js';
import { checkPolicy, openParts, type UpmParts, type UserspacePathManagerOptions } from './options.js';
import type { HookName, Policy, UpmActions, UpmEvents, UpmStats, UpmSubflow } from './types.js';
import { holdEmits } from './hold.js';

export type { UpmParts, UserspacePathManagerOptions } from './options.js';

/**
 * A userspace path manager running `policy` in one namespace.
 *
 * @example
 * const upm = await UserspacePathManager.start({ netns: 'client', policy: policies.subflowPerAddress() });
 * upm.on('error', ({ error, token, hook }) => console.error(token, hook, error.message));
 * await upm.stop();
 */
export class UserspacePathManager extends EventEmitter<UpmEvents> {
  readonly stats: UpmStats = { connections: 0, adopted: 0, subflowsOpened: 0, subflowsReopened: 0, subflowsClosed: 0, announcements: 0, failures: 0, resyncs: 0 };
  private readonly conns = new Map<number, ConnState>();
  private readonly hooks = new KeyedSerial<number>();
  private readonly acts = new KeyedSerial<number>();
  readonly backoff: Backoff;
  private readonly preferred = new Map<string, number>();
  private locals: string[] = [];
  private stopped = false;
  private readonly pendingTimeoutMs: number;

  private constructor(private readonly parts: UpmParts, private readonly policy: Policy, o: Omit<UserspacePathManagerOptions, 'policy'>) {
    super();
    this.backoff = new Backoff(o.backoff);
    this.pendingTimeoutMs = o.pendingTimeoutMs ?? 5000;
  }

  /**
   * Checks the namespace runs the userspace path manager (or switches it), subscribes to mptcp_pm
   * events, takes a sock_diag snapshot, and runs the policy's hooks for the connections already there.
   * Needs CAP_NET_ADMIN in the namespace (SUBFLOW_CREATE, ANNOUNCE; the sysctl when switching).
   * @throws ValidationError (options), PathManagerModeError, NetnsError, NetlinkError.
   */
  static async start(options: UserspacePathManagerOptions): Promise<UserspacePathManager> {
    const { parts, early, close } = await openParts(options);
    try {
      const upm = new UserspacePathManager(parts, options.policy, options);
      upm.begin(early, true);
      return upm;
    } catch (e) {
      close();
      throw e;
    }
  }

  /** @internal Runs the framework on given parts (tests with fakes). */
  static attach(parts: UpmParts, policy: Policy, o: Omit<UserspacePathManagerOptions, 'policy'> = {}): UserspacePathManager {
    checkPolicy(policy);
    const upm = new UserspacePathManager(parts, policy, o);
    upm.begin([]);
    return upm;
  }

  /** Wires the framework, runs the hooks for what is there; with `holdEvents` (start()), what that emits
   * (adopt lines, …) waits for the event loop's next turn, when the caller's listeners are attached. */
  private begin(early: (MptcpEvent | 'overrun')[], holdEvents = false): void {
    if (holdEvents) setImmediate(holdEmits(this));
    const { tracker, events } = this.parts;
    tracker.on('connection', (c) => this.seen(c));
    tracker.on('updated', (c) => this.seen(c));
    tracker.on('subflow', (c, s) => {
      const st = this.seen(c);
      const sf = st.addSubflow(s);
      if (sf) this.upFact(st, sf);
    });
    tracker.on('subflowClosed', (c, s) => {
      const st = this.conns.get(c.token);
      const sf = st?.closeSubflow(s);
      if (st && sf) this.closedFact(st, sf);
    });
    tracker.on('closed', (c) => this.gone(c.token));
    tracker.on('resync', () => {
      this.stats.resyncs++;
      this.emit('action', { action: 'resync', detail: 'events were lost or a resync was asked for: picture rebuilt from a snapshot' });
      this.reconcile();
    });
    tracker.on('error', (error) => this.emit('error', { error, hook: 'resync' }));
    events.on('event', (e) => this.onRaw(e));
    events.on('overrun', () => this.resyncQuietly());
    events.on('error', (error) => this.emit('error', { error, hook: 'resync' }));
    this.reconcile();
    for (const e of early) {
      if (e === 'overrun') this.resyncQuietly();
      else this.onRaw(e);
    }
  }

  /** Takes a new snapshot and runs the hooks for whatever it shows that was missed. */
  async resync(): Promise<void> {
    await this.parts.tracker.resync();
  }

  private resyncQuietly(): void {
    if (this.stopped) return;
    this.parts.tracker.resync().catch((error: unknown) => this.emit('error', { error: error instanceof Error ? error : new Error(String(error)), hook: 'resync' }));
  }

  /** The state of a connection the tracker reports; a new one when the token names another connection now. */
  private seen(c: TrackedConnection, adopted = false): ConnState {
    let st = this.conns.get(c.token);
    if (st && !st.sameAs(c)) {
      this.gone(c.token);
      st = undefined;
    }
    if (!st) {
      st = new ConnState(c, this.preferred);
      // Subflows it has when first seen are its state, not news: no hook for them.
      st.reconcile(c);
      this.conns.set(c.token, st);
      this.stats.connections++;
      if (adopted) {
        this.stats.adopted++;
        this.emit('action', { action: 'adopt', token: c.token, detail: `${c.local.address}:${c.local.port} > ${c.remote.address}:${c.remote.port}` });
      }
    }
    if (c.serverSide !== undefined) st.serverSide = c.serverSide;
    if (c.established && st.once('established')) this.hook(st, 'established', (p, a) => p.established?.(st, a));
    return st;
  }

  /** Brings every connection in line with the tracker's picture (after start and each resync). */
  private reconcile(): void {
    if (this.stopped) return;
    try {
      this.locals = this.parts.localAddresses();
    } catch (error) {
      this.emit('error', { error: error as Error, hook: 'resync' });
    }
    const picture = this.parts.tracker.connections;
    for (const [token, st] of this.conns) {
      const c = picture.get(token);
      if (!c || !st.sameAs(c)) this.gone(token);
    }
    const now = performance.now();
    for (const c of picture.values()) {
      const st = this.seen(c, !this.conns.has(c.token));
      const { up, gone } = st.reconcile(c);
      for (const sf of gone) this.closedFact(st, sf);
      for (const sf of up) this.upFact(st, sf);
      for (const [path, since] of [...st.pending]) {
        if (now - since < this.pendingTimeoutMs) continue;
        const sf = st.lostAttempt(path);
        if (sf) this.closedFact(st, sf);
      }
    }
  }

  private onRaw(e: MptcpEvent): void {
    if (e.type !== 'subClosed' && e.type !== 'announced' && e.type !== 'removed') return;
    const st = this.stateFor(e.token);
    if (!st) return;
    if (e.type === 'subClosed') this.onSubClosed(st, e);
    else if (e.type === 'announced') this.onAnnounced(st, e);
    else this.onRemoved(st, e);
  }

  private stateFor(token: number): ConnState | undefined {
    const st = this.conns.get(token);
    if (st) return st;
    const c = this.parts.tracker.connections.get(token);
    return c ? this.seen(c) : undefined;
  }

  private onSubClosed(st: ConnState, e: SubClosedEvent): void {
    if (e.localAddress === undefined || e.remoteAddress === undefined) return;
    const at = { local: { address: e.localAddress, port: e.localPort ?? 0 }, remote: { address: e.remoteAddress, port: e.remotePort ?? 0 } };
    const sf = st.closeSubflow(at, { ...(e.error ? { error: e.error } : {}), ...(e.localId === undefined ? {} : { localId: e.localId }), ...(e.remoteId === undefined ? {} : { remoteId: e.remoteId }) });
    if (sf) this.closedFact(st, sf);
  }

  private onAnnounced(st: ConnState, e: AnnouncedEvent): void {
    if (e.remoteAddress === undefined || e.remoteId === undefined) return;
    const addr = { id: e.remoteId, address: e.remoteAddress, ...(e.remotePort ? { port: e.remotePort } : {}) };
    if (st.announce(addr)) this.hook(st, 'announced', (p, a) => p.announced?.(addr, st, a));
  }

  private onRemoved(st: ConnState, e: RemovedEvent): void {
    if (e.remoteId === undefined) return;
    st.removeAnnounced(e.remoteId);
    this.hook(st, 'removed', (p, a) => p.removed?.(e.remoteId!, st, a));
  }

  private upFact(st: ConnState, sf: UpmSubflow): void {
    this.hook(st, 'subflowEstablished', (p, a) => p.subflowEstablished?.(sf, st, a));
  }

  private closedFact(st: ConnState, sf: UpmSubflow): void {
    this.stats.subflowsClosed++;
    if (!sf.established || sf.error) this.stats.failures++;
    if (!st.open) return;
    const path = pathKey(sf.local.address, sf.remote.address, sf.remote.port);
    // Coming up is not enough to clear a path's failures: a join the peer accepts and resets at once
    // would be re-opened forever. Staying up a while is.
    if (sf.established && (sf.upMs ?? 0) >= this.backoff.stableMs) this.backoff.succeed(`${st.token}|${path}`);
    // Said once, when the pair reaches its limit; later attempts on it are refused quietly.
    if (this.backoff.fail(`${st.token}|${path}`) === this.backoff.maxAttempts) {
      this.emit('error', { error: new Error(`giving up ${path} after ${this.backoff.maxAttempts} failures in a row${sf.error ? `: ${sf.error.code}` : ''}`), token: st.token, hook: 'subflowClosed' });
    }
    this.hook(st, 'subflowClosed', (p, a) => p.subflowClosed?.(sf, st, a));
  }

  private gone(token: number): void {
    const st = this.conns.get(token);
    if (!st) return;
    this.conns.delete(token);
    st.close();
    this.backoff.forget(`${token}|`);
    this.hook(st, 'closed', (p) => p.closed?.(st));
  }

  /** Queues a hook behind the connection's earlier ones; what it throws becomes an `error` event. */
  private hook(st: ConnState, name: HookName, call: (p: Policy, act: UpmActions) => Promise<void> | void): void {
    if (this.stopped || this.policy[name] === undefined) return;
    void this.hooks.run(st.token, async () => {
      if (this.stopped || (name !== 'closed' && !st.open)) return;
      try {
        await call(this.policy, this.actionsOf(st));
      } catch (e) {
        if (this.stopped) return;
        this.stats.failures++;
        this.emit('error', { error: e instanceof Error ? e : new Error(String(e)), token: st.token, hook: name });
      }
    });
  }

  private actionsOf(st: ConnState): UpmActions {
    let a = st.actions;
    if (!a) {
      a = createActions(st, {
        pm: this.parts.pm, serial: this.acts, backoff: this.backoff, stats: this.stats,
        stopped: () => this.stopped, locals: () => this.locals,
        emit: (kind, x) => (kind === 'error' ? this.emit('error', x as never) : this.emit('action', x as never)),
      });
      st.actions = a;
    }
    return a;
  }

  /** Connections the framework holds now. */
  get connections(): ReadonlyMap<number, ConnState> {
    return this.conns;
  }

  /** Stops hooks and retries and closes the sockets; connections stay as they are. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const st of this.conns.values()) st.clearTimers();
    this.parts.tracker.close();
    this.parts.events.close();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([this.hooks.idle(), this.acts.idle()]),
      new Promise((r) => (timer = setTimeout(r, 2000))),
    ]);
    clearTimeout(timer);
    this.parts.pm.close();
    this.parts.close?.();
  }
}
