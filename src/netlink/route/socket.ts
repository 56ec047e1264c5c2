// rtnetlink layer: a NETLINK_ROUTE socket of the netlink core opened inside a namespace; the
// generated rtnetlink codecs (messages.ts) read the replies and notifications.

import { decodeRouteMessage, type RouteMessage, type RouteRequest } from './messages.js';
import { NetlinkSocket, type RawTransport, type Subscription } from '../core/socket.js';
import { DecodeError } from '../core/errors.js';
import type { Netns } from '../../os/netns.js';

export const NETLINK_ROUTE = 0;
/** Message flags for requests that create or change an object. */
export const NLM_F_CREATE = 0x400;
export const NLM_F_EXCL = 0x200;
export const NLM_F_REPLACE = 0x100;

/** Options of {@link RouteSocket.open}. */
export interface RouteSocketOptions {
  /** The namespace the socket lives in (the caller's when absent). */
  netns?: Netns;
  /** Per-request timeout (default 5000 ms). */
  timeoutMs?: number;
  /** Multicast groups to join (RouteGroup values): makes this a notification socket. */
  groups?: number[];
  /** Receive buffer (default 1 MiB; notification sockets 4 MiB). */
  receiveBufferBytes?: number;
  /** For tests: a transport to use instead of a kernel socket. */
  transport?: RawTransport;
}

/**
 * Runs a decoding step; what it throws (a DecodeError of the codec, a RangeError from an address of
 * the wrong length) becomes a DecodeError naming `what`, the codec's path kept in its message.
 */
export function decoding<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new DecodeError(what, e instanceof Error ? e.message : String(e));
  }
}

export type { RouteMessage } from './messages.js';

/**
 * One NETLINK_ROUTE socket. Requests go through the netlink core (any number at once, one dump at a
 * time, kernel refusals as NetlinkError with the extended ACK); notifications are decoded here.
 */
export class RouteSocket {
  private drops = 0;
  private readonly subscription: Subscription | undefined;
  private readonly listeners = new Set<(msgs: RouteMessage[]) => void>();
  private readonly overrunListeners = new Set<(lost: number | undefined) => void>();
  private readonly errorListeners = new Set<(err: Error) => void>();

  private constructor(private readonly sock: NetlinkSocket, groups: readonly number[]) {
    if (groups.length === 0) return;
    this.subscription = sock.subscribe(groups, {
      message: (header, payload) => {
        let msg: RouteMessage;
        try {
          msg = decoding(`rtnetlink notification type ${header.type}`, () => decodeRouteMessage(header.type, payload));
        } catch (e) {
          for (const l of this.errorListeners) l(e as Error);
          return;
        }
        for (const l of this.listeners) l([msg]);
      },
      overrun: (lost) => {
        for (const l of this.overrunListeners) l(lost);
      },
    });
  }

  /**
   * Creates the socket inside `netns` (the JS thread enters the namespace for this synchronous call
   * only) and joins `groups`. Needs no privilege; changes need CAP_NET_ADMIN there.
   * @throws NetnsError for a namespace that cannot be entered; SysError when joining a group fails.
   */
  static open(opts: RouteSocketOptions = {}): RouteSocket {
    const monitor = (opts.groups?.length ?? 0) > 0;
    const sock = NetlinkSocket.open({
      protocol: NETLINK_ROUTE,
      name: 'rtnetlink',
      netns: opts.netns,
      timeoutMs: opts.timeoutMs ?? 5000,
      receiveBufferBytes: opts.receiveBufferBytes ?? (monitor ? 4 << 20 : 1 << 20),
      ...(opts.transport && { transport: opts.transport }),
    });
    try {
      return new RouteSocket(sock, opts.groups ?? []);
    } catch (e) {
      sock.close();
      throw e;
    }
  }

  /** Listens to notifications (a socket opened with `groups`). */
  onNotification(fn: (msgs: RouteMessage[]) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Told when the kernel dropped notifications for this socket (its receive queue was full), with
   * how many (undefined when the drop counter cannot be read).
   */
  onOverrun(fn: (lost: number | undefined) => void): () => void {
    this.overrunListeners.add(fn);
    return () => this.overrunListeners.delete(fn);
  }

  /** Told about a notification that could not be decoded. */
  onError(fn: (err: Error) => void): () => void {
    this.errorListeners.add(fn);
    return () => this.errorListeners.delete(fn);
  }

  /**
   * Sends one request (message type, fixed header and attributes) and resolves with the decoded
   * replies (a dump's messages; nothing for an ACK). Replies to RTM_GET* are RTM_NEW*.
   * @throws NetlinkError with the kernel's extack message; TimeoutError; ClosedError; DecodeError
   *   for a reply that cannot be decoded.
   */
  async request(req: RouteRequest, opts: { op: string; dump?: boolean; flags?: number }): Promise<RouteMessage[]> {
    const parts = await this.sock.request(req.type, req.payload, undefined, opts);
    const replyType = req.type % 4 === 2 ? req.type - 2 : req.type; // RTM_GETx → RTM_NEWx
    return parts.map((p) => decoding(`rtnetlink ${opts.op} reply`, () => decodeRouteMessage(replyType, p)));
  }

  /** Messages the kernel dropped for this socket since it was opened. */
  readDrops(): number {
    if (!this.sock.closed) this.drops = this.sock.readDrops();
    return this.drops;
  }

  /** Closes the socket; pending requests reject with ClosedError. Idempotent. */
  close(): void {
    this.subscription?.end();
    this.sock.close();
  }
}
