// Socket layer of the netlink core: one socket of any netlink protocol (generic netlink,
// NETLINK_SOCK_DIAG, NETLINK_ROUTE, …) in one namespace. The protocol layers above supply the
// message type and fixed header of each request and read the payloads that come back.

import { Core, type CoreListeners, type ErrorListener, type ExchangeOptions, type NotificationListener, type OverrunListener } from './engine.js';
import { NetlinkTransport, type RawTransport } from './transport.js';
import { Netns } from '../../os/netns.js';
import { DropWatch, type Subscription, type SubscriptionHandlers } from './subscription.js';

export type { ErrorListener, ExchangeOptions, NotificationListener, OverrunListener } from './engine.js';
export type { Subscription, SubscriptionHandlers } from './subscription.js';
export type { RawTransport, TransportHandlers } from './transport.js';

const DEFAULT_TIMEOUT_MS = 10_000;
const EMPTY = new Uint8Array(0);

/** Options of {@link NetlinkSocket.open}. */
export interface NetlinkSocketOptions {
  /** The netlink protocol number (NETLINK_GENERIC 16, NETLINK_SOCK_DIAG 4, NETLINK_ROUTE 0). */
  protocol: number;
  /** Name used in errors (`mptcp_pm`, `sock_diag`, `rtnetlink`). */
  name: string;
  /** Network namespace to open the socket in (the caller's when absent); a string is opened for this call. */
  netns?: Netns | string;
  /** Default per-request timeout in ms (10000 when absent). */
  timeoutMs?: number;
  /** Receive buffer size in bytes (SO_RCVBUFFORCE when permitted, else SO_RCVBUF); 1 MiB by default. */
  receiveBufferBytes?: number;
  /** A transport to use instead of a kernel socket (tests). */
  transport?: RawTransport;
  /** The protocol's fixed header at the start of every data message (genlmsghdr: 4 bytes). */
  header?: { name: string; length: number };
}

/**
 * A netlink socket. Any number of requests may be in flight: they are sent in order while the
 * window sized from the receive buffer has room (so replies can never overflow it), one dump at a
 * time (the kernel allows one per socket), and matched to their replies by sequence number.
 *
 * Receive overruns are seen through the kernel's drop counter: listeners of {@link onOverrun} are
 * told, and a request whose reply may have been dropped fails as ENOBUFS "outcome unknown".
 */
export class NetlinkSocket {
  private readonly core: Core;
  private readonly listeners = {
    notify: new Set<NotificationListener>(),
    overrun: new Set<OverrunListener>(),
    errors: new Set<ErrorListener>(),
  } satisfies CoreListeners;

  private constructor(private readonly transport: RawTransport, name: string, timeoutMs: number, header?: { name: string; length: number }) {
    this.core = new Core(transport, name, timeoutMs, this.listeners, header);
  }

  /**
   * Opens a socket of `protocol`, in `netns` when given. Needs no privilege (entering another
   * namespace needs CAP_SYS_ADMIN).
   * @throws NetnsError when the namespace does not exist or cannot be entered.
   */
  static open(opts: NetlinkSocketOptions): NetlinkSocket {
    let transport = opts.transport;
    if (transport) {
      if (opts.receiveBufferBytes !== undefined) transport.setReceiveBuffer(opts.receiveBufferBytes);
    } else {
      const ns = typeof opts.netns === 'string' ? Netns.open(opts.netns) : opts.netns;
      try {
        transport = NetlinkTransport.open({ protocol: opts.protocol, netns: ns, receiveBufferBytes: opts.receiveBufferBytes });
      } finally {
        if (typeof opts.netns === 'string') ns?.close();
      }
    }
    return new NetlinkSocket(transport, opts.name, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, opts.header);
  }

  /** This socket's netlink port id. */
  get portId(): number {
    return this.transport.portId;
  }

  /** Requests allowed in flight at once (from the receive buffer). */
  get maxInFlight(): number {
    return this.core.maxInFlight;
  }

  /**
   * Sends a request of message type `type` whose payload is `head` (the protocol's fixed header)
   * followed by `body` (attributes), and resolves with the payload of every reply message (after
   * the nlmsghdr; [] for a plain ACK).
   * @throws NetlinkError (kernel refusal with its extended ACK; EPERM explains the missing
   * CAP_NET_ADMIN; ENOBUFS when replies were dropped), TimeoutError, ClosedError.
   */
  request(type: number, head: Uint8Array, body: Uint8Array = EMPTY, opts: ExchangeOptions): Promise<Buffer[]> {
    return this.core.exchange(type, head, body, opts);
  }

  /** Registers a listener for messages that answer no request. Returns an unsubscribe function. */
  onNotification(cb: NotificationListener): () => void {
    return addTo(this.listeners.notify, cb);
  }

  /** Registers a listener for receive overruns. Returns an unsubscribe function. */
  onOverrun(cb: OverrunListener): () => void {
    return addTo(this.listeners.overrun, cb);
  }

  /**
   * Registers a listener for errors that belong to no request (a stray or malformed datagram).
   * Without listeners they are only counted ({@link unclaimedErrors}). Returns an unsubscribe function.
   */
  onError(cb: ErrorListener): () => void {
    return addTo(this.listeners.errors, cb);
  }

  /** How many errors belonged to no request so far. */
  get unclaimedErrors(): number {
    return this.core.unclaimed;
  }

  /**
   * Joins multicast group `id` (NETLINK_ADD_MEMBERSHIP). While joined, the socket keeps the event
   * loop alive. Some groups need CAP_NET_ADMIN.
   * @throws SysError (errno EPERM) when not permitted; ClosedError.
   */
  joinGroup(id: number): void {
    this.core.join(id);
  }

  /**
   * The notification path: joins `groups`, hands every message that answers no request to
   * `handlers.message`, and reports what the kernel drops for the socket as `handlers.overrun(lost)`
   * (the drop counter is read at the end of each event-loop turn that read messages, when the kernel
   * signals ENOBUFS, and for a while after any overrun). Joining needs the group's privilege.
   * @throws SysError (errno EPERM) when a group cannot be joined; ClosedError.
   */
  subscribe(groups: readonly number[], handlers: SubscriptionHandlers): Subscription {
    for (const g of groups) this.joinGroup(g);
    const watch = new DropWatch(() => this.transport.readDrops(), (lost) => handlers.overrun(lost));
    const offs = [
      this.onNotification((header, payload) => {
        watch.afterMessages();
        handlers.message(header, payload);
      }),
      this.onOverrun(() => watch.signalled()),
    ];
    if (handlers.error) offs.push(this.onError(handlers.error));
    return {
      readDrops: () => watch.read(),
      end: () => {
        watch.end();
        for (const off of offs.splice(0)) off();
      },
    };
  }

  /** Sets the receive buffer and resizes the request window; returns the resulting SO_RCVBUF. */
  setReceiveBuffer(bytes: number): number {
    const size = this.transport.setReceiveBuffer(bytes);
    this.core.resize();
    return size;
  }

  /** Messages the kernel dropped for this socket so far (the Drops column of /proc/net/netlink). */
  readDrops(): number {
    return this.transport.readDrops();
  }

  /**
   * Turns ENOBUFS reporting off (NETLINK_NO_ENOBUFS) so receive overruns are seen only through
   * {@link readDrops}. Returns false when the transport cannot.
   */
  setNoEnobufs(on: boolean): boolean {
    const t = this.transport;
    if (!t.setNoEnobufs) return false;
    t.setNoEnobufs(on);
    return true;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.core.isClosed;
  }

  /** Closes the socket; pending requests reject with ClosedError. Idempotent. */
  close(): void {
    this.core.close();
  }
}

function addTo<T>(set: Set<T>, cb: T): () => void {
  set.add(cb);
  return () => void set.delete(cb);
}
