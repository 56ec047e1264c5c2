// The event stream: its own generic-netlink socket joined to `mptcp_pm_events` in one namespace,
// decoded events as typed eventemitter3 events and as async iterators, and loss reported as `overrun`.

import { EventEmitter } from 'eventemitter3';
import { constants as osConstants } from 'node:os';
import { EventType, family, McastGroup } from '../../../generated/mptcp_pm.js';
import { GenlSocket, type RawTransport, type Subscription } from '../../netlink/genl/socket.js';
import { SysError } from '../../os/sys.js';
import { NetlinkError, UnsupportedError, ValidationError } from '../../netlink/core/errors.js';
import { detectFeatures, LISTENER_EVENTS_SINCE } from '../pm/features.js';
import { checkInt, checkKeys, checkNetns, checkObject, checkToken, show } from '../input/validate.js';
import { Netns, netnsName } from '../../os/netns.js';
import type { Socket } from 'node:net';
import { mptcpToken, socketFd } from '../../os/socket.js';
import { ConnectionEvents } from './connection.js';
import { decodeEvent } from './decode.js';
import { DEFAULT_STREAM_LIMIT, StreamQueue } from './queue.js';
import type { MptcpEvent, MptcpEventFilterName, MptcpEventMap, OverrunEvent, StreamItem } from './types.js';

export { decodeEvent, eventName } from './decode.js';
export { DEFAULT_STREAM_LIMIT } from './queue.js';
export { ConnectionEvents } from './connection.js';
export type { ConnectionEventListeners } from './connection.js';
export type * from './types.js';

/** The multicast group carrying every event. */
export const EVENTS_GROUP = McastGroup.events;
/** Receive buffer asked for when none is given: about 4000 events of headroom. */
export const DEFAULT_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

/** Every event name of the generated table, plus the two this library adds for undecodable messages. */
const FILTER_NAMES: readonly MptcpEventFilterName[] = [
  ...(Object.keys(EventType) as (keyof typeof EventType)[]), 'unknown', 'invalid',
];

/** Options of {@link MptcpEvents.open}. */
export interface MptcpEventsOptions {
  /** A namespace: a name under /run/netns, a path such as /proc/PID/ns/net, or an open Netns handle (borrowed: used, never closed). Default: the caller's. */
  netns?: string | Netns;
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
  private readonly subscription: Subscription;
  private isClosed = false;
  private unmatched = 0;

  private constructor(private readonly sock: GenlSocket, opts: MptcpEventsOptions, rcvbuf: number) {
    super();
    this.netns = netnsName(opts.netns);
    this.types = opts.types ? new Set(opts.types) : undefined;
    this.token = opts.token;
    this.receiveBufferBytes = rcvbuf;
    this.subscription = sock.subscribe([EVENTS_GROUP], {
      message: (cmd, _version, attrs) => this.deliver(decodeEvent(cmd, attrs)),
      overrun: (lost) => this.overrun(lost),
      error: (err) => this.receiveError(err),
    });
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
      let events: MptcpEvents;
      try {
        events = new MptcpEvents(sock, opts, rcvbuf);
      } catch (e) {
        if (e instanceof SysError) throw new NetlinkError(family.name, `join ${EVENTS_GROUP}`, e.errno);
        throw e;
      }
      // Overruns are read from the drop counter: exact, and the ENOBUFS receive error is avoided.
      sock.setNoEnobufs(true);
      return events;
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
   * @throws ValidationError for options that are not an object, an unknown key, a `signal` that is
   *   not an AbortSignal or a bad `maxQueued`, before anything is registered.
   */
  stream(opts: StreamOptions = {}): AsyncIterableIterator<StreamItem> {
    // Everything is checked before the queue is registered: a refused call leaves nothing behind.
    const o = checkObject('options', opts);
    checkKeys('options', o, ['signal', 'maxQueued']);
    const limit = o.maxQueued === undefined ? DEFAULT_STREAM_LIMIT : checkInt('maxQueued', o.maxQueued, 1, 1 << 30);
    if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
      throw new ValidationError('signal', `must be an AbortSignal (such as AbortController's signal), got ${show(o.signal)}`);
    }
    const signal = o.signal as AbortSignal | undefined;
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

  /** The events of the connection with local token `token` from now on (see {@link ConnectionEvents}). */
  forConnection(token: number): ConnectionEvents {
    return new ConnectionEvents(this, checkToken('token', token));
  }

  /**
   * The events of the connection behind `sock` (a socket of mptcp-pm/net, or any MPTCP socket of a
   * Node program), joined by the token its own MPTCP_INFO reports. This MptcpEvents must watch the
   * socket's namespace.
   * @throws ValidationError when the socket is not (or no longer) an MPTCP connection.
   */
  forSocket(sock: Socket): ConnectionEvents {
    const token = mptcpToken(socketFd(sock));
    if (token === undefined) {
      throw new ValidationError('sock', 'is not an MPTCP connection (a TCP socket, a fallback, not connected, or a kernel before 5.16)');
    }
    return this.forConnection(token);
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
    this.subscription.end();
    this.isClosed = true;
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

  private receiveError(err: Error): void {
    if (this.isClosed) return;
    if (err instanceof NetlinkError && err.errno === osConstants.errno.ENOBUFS) return; // handled as overrun
    // No listener: counted, and reported as an overrun below; never a process warning.
    if (this.listenerCount('error') === 0) this.unmatched++;
    else this.emit('error', err);
    this.overrun(undefined);
  }
}
