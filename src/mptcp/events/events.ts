// The event stream: its own generic-netlink socket joined to `mptcp_pm_events` in one namespace,
// decoded events as typed eventemitter3 events and as async iterators, and loss reported as `overrun`.

import { EventEmitter } from 'eventemitter3';
import { constants as osConstants } from 'node:os';
import { EventType, family, McastGroup } from '../../../generated/mptcp_pm.js';
import { GenlSocket, type RawTransport } from '../../netlink/genl/socket.js';
import { SysError } from '../../os/sys.js';
import { NetlinkError, UnsupportedError, ValidationError } from '../../netlink/core/errors.js';
import { detectFeatures, LISTENER_EVENTS_SINCE } from '../pm/features.js';
import { checkInt, checkKeys, checkNetns, checkObject, checkToken, show } from '../input/validate.js';
import { Netns } from '../../os/netns.js';
import { decodeEvent } from './decode.js';
import { DEFAULT_STREAM_LIMIT, StreamQueue } from './queue.js';
import type { MptcpEvent, MptcpEventFilterName, MptcpEventMap, OverrunEvent, StreamItem } from './types.js';

export { decodeEvent, eventName } from './decode.js';
export { DEFAULT_STREAM_LIMIT } from './queue.js';
export type * from './types.js';

/** The multicast group carrying every event. */
export const EVENTS_GROUP = McastGroup.events;
/** Receive buffer asked for when none is given: about 4000 events of headroom. */
export const DEFAULT_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;
/** After an overrun the drop counter is polled this often, until it stays still this many times. */
const DROP_POLL_MS = 20;
const DROP_POLL_STABLE = 5;

/** Every event name of the generated table, plus the two this library adds for undecodable messages. */
const FILTER_NAMES: readonly MptcpEventFilterName[] = [
  ...(Object.keys(EventType) as (keyof typeof EventType)[]), 'unknown', 'invalid',
];

/** Options of {@link MptcpEvents.open}. */
export interface MptcpEventsOptions {
  /** Network namespace: a name under /run/netns or a path such as /proc/PID/ns/net. Default: the caller's. */
  netns?: string;
  /** Deliver only these event types (overruns are always delivered). Default: all. */
  types?: readonly MptcpEventFilterName[];
  /** Deliver only events of this connection (listener events carry no token and are left out). */
  token?: number;
  /**
   * Receive buffer of the socket in bytes (default 4 MiB). Forced past `net.core.rmem_max` with
   * SO_RCVBUFFORCE when the caller has CAP_NET_ADMIN, else capped by it.
   */
  receiveBufferBytes?: number;
  /** For tests: a transport to use instead of a kernel socket. */
  transport?: RawTransport;
}

/** Options of {@link MptcpEvents.stream}. */
export interface StreamOptions {
  /** Ends the iteration when aborted. */
  signal?: AbortSignal;
  /**
   * Most items held for a consumer that is behind (default 16384). Beyond it, items are counted
   * and reported as one `{ type: 'overrun', source: 'queue', lost }` item in their place.
   */
  maxQueued?: number;
}

/** Listener signatures, by event name. */
export type MptcpEventListeners = {
  [K in keyof MptcpEventMap]: (event: MptcpEventMap[K]) => void;
} & {
  /** Every delivered event, whatever its type (after filtering). */
  event: (event: MptcpEvent) => void;
  /** Events were lost (see {@link OverrunEvent}). */
  overrun: (event: OverrunEvent) => void;
  /**
   * A receive problem that is not an overrun (it is also reported as an overrun with `lost`
   * undefined). With no listener it is only counted in {@link MptcpEvents.unmatchedErrors}.
   */
  error: (err: Error) => void;
};

/**
 * Watches the MPTCP events of one network namespace.
 *
 * Listeners run synchronously as each datagram is read; a listener that blocks delays reading, and
 * the kernel then drops events once the receive buffer is full: that is reported as `overrun` with
 * the number lost, and delivery carries on. Stream consumers get their own bounded queue each
 * (see {@link StreamOptions.maxQueued}).
 *
 * Subscribing needs CAP_NET_ADMIN in the user namespace owning the network namespace. While an
 * MptcpEvents is open the kernel counts the namespace as having a userspace path manager: joins
 * and ADD_ADDRs on userspace-PM connections are accepted only then.
 *
 * @example
 * const events = await MptcpEvents.open({ netns: 'blue', types: ['established'] });
 * events.on('established', (e) => console.log(e.token, e.remoteAddress, e.remotePort));
 * for await (const e of events.stream({ signal })) console.log(e.type);
 * events.close();
 */
export class MptcpEvents extends EventEmitter<MptcpEventListeners> {
  /** Namespace the socket lives in (undefined: the caller's). */
  readonly netns: string | undefined;
  /** SO_RCVBUF after setting it (the kernel doubles the value asked for). */
  readonly receiveBufferBytes: number;
  private readonly types: ReadonlySet<string> | undefined;
  private readonly token: number | undefined;
  private readonly streams = new Set<StreamQueue>();
  private drops: number;
  private dropPoll: NodeJS.Timeout | undefined;
  private dropCheck: NodeJS.Immediate | undefined;
  private isClosed = false;
  private unmatched = 0;

  private constructor(private readonly sock: GenlSocket, opts: MptcpEventsOptions, rcvbuf: number) {
    super();
    this.netns = opts.netns;
    this.types = opts.types ? new Set(opts.types) : undefined;
    this.token = opts.token;
    this.receiveBufferBytes = rcvbuf;
    this.drops = this.readDrops() ?? 0;
    sock.onNotification((cmd, _version, attrs) => {
      this.scheduleDropCheck();
      this.deliver(decodeEvent(cmd, attrs));
    });
    sock.onOverrun(() => this.kernelOverrun());
    sock.onError((err) => this.receiveError(err));
  }

  /**
   * Opens a socket in `netns`, resolves the family and joins `mptcp_pm_events` (group id looked up
   * at run time). Needs CAP_NET_ADMIN in the namespace's user namespace.
   * @throws ValidationError for bad options; NetlinkError EPERM without the privilege, ENOENT
   * without MPTCP; UnsupportedError-like Error when the kernel has no event group (before 5.12);
   * NetnsError for a missing namespace; UnsupportedError when `types` asks for listener events
   * and the kernel's shape shows it has none (6.1–6.6 show nothing either way: allowed).
   */
  static async open(opts: MptcpEventsOptions = {}): Promise<MptcpEvents> {
    const o = checkObject('options', opts);
    checkKeys('options', o, ['netns', 'types', 'token', 'receiveBufferBytes', 'transport']);
    if (opts.token !== undefined) checkToken('token', opts.token);
    if (opts.receiveBufferBytes !== undefined) checkInt('receiveBufferBytes', opts.receiveBufferBytes, 1, 0x3fffffff);
    if (opts.types !== undefined) {
      if (!Array.isArray(opts.types)) throw new ValidationError('types', `must be an array of event names, got ${show(opts.types)}`);
      opts.types.forEach((t, i) => {
        if (!FILTER_NAMES.includes(t)) throw new ValidationError(`types[${i}]`, `unknown event type ${show(t)} (known: ${FILTER_NAMES.join(', ')})`);
      });
    }
    const ns = Netns.open(checkNetns(opts.netns));
    let sock: GenlSocket;
    try {
      sock = await GenlSocket.open(family.name, { netns: ns, transport: opts.transport });
    } finally {
      ns.close();
    }
    try {
      const rcvbuf = sock.setReceiveBuffer(opts.receiveBufferBytes ?? DEFAULT_RECEIVE_BUFFER_BYTES);
      if (!sock.groups.has(EVENTS_GROUP)) {
        throw new Error(`${family.name}: this kernel has no "${EVENTS_GROUP}" group (events were added in Linux 5.12)`);
      }
      const listener = opts.types?.find((t) => t === 'listenerCreated' || t === 'listenerClosed');
      // Only a definite "no" refuses (before 6.1, or no event group): 6.1–6.6 give no sign, so they are let through.
      if (listener && detectFeatures(sock.ops, sock.groups, undefined).listenerEvents === false) {
        throw new UnsupportedError(`the ${listener} event`, LISTENER_EVENTS_SINCE);
      }
      try {
        sock.joinGroup(EVENTS_GROUP);
      } catch (e) {
        if (e instanceof SysError) throw new NetlinkError(family.name, `join ${EVENTS_GROUP}`, e.errno);
        throw e;
      }
      // Overruns are read from the drop counter: exact, and the ENOBUFS receive error is avoided.
      sock.setNoEnobufs(true);
      return new MptcpEvents(sock, opts, rcvbuf);
    } catch (e) {
      sock.close();
      throw e;
    }
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Receive problems (stray or malformed datagrams) that found no `error` listener. */
  get unmatchedErrors(): number {
    return this.unmatched;
  }

  /**
   * An async iterator over the events (after filtering) and overruns, from now on. Ends when
   * `signal` aborts (at once) or on {@link close} (after what was already received). Each call
   * gives an independent iterator with its own bounded queue.
   */
  stream(opts: StreamOptions = {}): AsyncIterableIterator<StreamItem> {
    const limit = opts.maxQueued === undefined ? DEFAULT_STREAM_LIMIT : checkInt('maxQueued', opts.maxQueued, 1, 1 << 30);
    const signal = opts.signal;
    const onAbort = (): void => q.end(false);
    const q: StreamQueue = new StreamQueue(limit, () => {
      this.streams.delete(q);
      signal?.removeEventListener('abort', onAbort);
    });
    if (this.isClosed || signal?.aborted) {
      q.end(false);
      return q;
    }
    this.streams.add(q);
    signal?.addEventListener('abort', onAbort, { once: true });
    return q;
  }

  /** Messages the kernel dropped for this socket so far (undefined when the counter cannot be read). */
  readDrops(): number | undefined {
    try {
      return this.sock.readDrops();
    } catch {
      return undefined;
    }
  }

  /** Leaves the group and closes the socket; streams end after what they already hold. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.checkDrops();
    this.isClosed = true;
    clearTimeout(this.dropPoll);
    if (this.dropCheck) clearImmediate(this.dropCheck);
    this.sock.close();
    for (const q of [...this.streams]) q.end(true);
  }

  private passes(e: MptcpEvent): boolean {
    if (this.types && !this.types.has(e.type)) return false;
    if (this.token !== undefined && (e.type === 'invalid' || e.token !== this.token)) return false;
    return true;
  }

  private deliver(e: MptcpEvent): void {
    if (this.isClosed || !this.passes(e)) return;
    for (const q of this.streams) q.push(e);
    this.emit(e.type, e as never);
    this.emit('event', e);
  }

  private overrun(lost: number | undefined): void {
    if (this.isClosed) return;
    const o: OverrunEvent = { type: 'overrun', lost, source: 'kernel' };
    for (const q of this.streams) q.push(o);
    this.emit('overrun', o);
  }

  /**
   * Once per event-loop turn in which events were read, look at the drop counter. The kernel drops
   * only while the receive queue is full, so there are always queued events to read after a loss,
   * and this check follows them.
   */
  private scheduleDropCheck(): void {
    if (this.dropCheck !== undefined) return;
    this.dropCheck = setImmediate(() => {
      this.dropCheck = undefined;
      this.checkDrops();
    });
  }

  /**
   * ENOBUFS (transports without NETLINK_NO_ENOBUFS): report what the drop counter gained. The kernel raises ENOBUFS once per congestion, and
   * drops made before the queue empties raise nothing, so the counter is watched a little longer.
   */
  private kernelOverrun(): void {
    const now = this.readDrops();
    if (now === undefined) this.overrun(undefined);
    else {
      const lost = now - this.drops;
      this.drops = now;
      this.overrun(lost > 0 ? lost : undefined);
    }
    this.watchDrops(0);
  }

  private watchDrops(stable: number): void {
    clearTimeout(this.dropPoll);
    if (this.isClosed || stable >= DROP_POLL_STABLE) return;
    this.dropPoll = setTimeout(() => this.watchDrops(this.checkDrops() ? 0 : stable + 1), DROP_POLL_MS);
    this.dropPoll.unref();
  }

  /** Reports drops counted since the last look; returns whether there were any. */
  private checkDrops(): boolean {
    const now = this.readDrops();
    if (now === undefined || now <= this.drops) return false;
    const lost = now - this.drops;
    this.drops = now;
    this.overrun(lost);
    return true;
  }

  private receiveError(err: Error): void {
    if (this.isClosed) return;
    if (err instanceof NetlinkError && err.errno === osConstants.errno.ENOBUFS) return; // handled as overrun
    // No listener: counted, and reported as an overrun below; never a process warning.
    if (this.listenerCount('error') === 0) this.unmatched++;
    else this.emit('error', err);
    this.overrun(undefined);
  }
}
