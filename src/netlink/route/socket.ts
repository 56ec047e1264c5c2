// rtnetlink layer: a NETLINK_ROUTE socket opened inside a namespace. The `netlink` package's
// RtNetlinkSocket encodes and decodes the messages; requests, errors (with extack) and overruns are ours.

import { constants as osConstants } from 'node:os';
import { createRtNetlink, rt, type RtNetlinkSocket } from 'netlink';
import { NetlinkError, TimeoutError, ClosedError, type ExtAck } from '../errors.js';
import { parseExtAck, NlmF } from '../message.js';
import type { Netns } from '../../os/netns.js';
import { findNetlinkFd } from '../../os/procfs.js';
import { NETLINK_CAP_ACK, NETLINK_EXT_ACK, NETLINK_NO_ENOBUFS, SOL_NETLINK, setIntOption, socketDrops } from '../../os/sys.js';

export const NETLINK_ROUTE = 0;
const NLMSG_ERROR = 2;
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
  /** Multicast groups to join (rt.MulticastGroups values): makes this a notification socket. */
  groups?: number[];
}

/** A decoded rtnetlink message (address, link, route, rule, …) as the `netlink` package gives it. */
export type RouteMessage = rt.Message;

/**
 * One NETLINK_ROUTE socket. Requests are sent one at a time (the kernel runs one dump per socket and
 * the package groups multipart replies per socket), so callers may issue many at once.
 */
export class RouteSocket {
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private drops = 0;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(msgs: RouteMessage[]) => void>();
  private readonly overrunListeners = new Set<(lost: number) => void>();
  private markClosed!: () => void;
  private readonly closedSignal = new Promise<never>((_, reject) => {
    this.markClosed = () => reject(new ClosedError('rtnetlink socket'));
  });

  private constructor(private readonly sock: RtNetlinkSocket, private readonly fd: number, private readonly timeoutMs: number, monitor: boolean) {
    this.closedSignal.catch(() => undefined);
    if (!monitor) return;
    sock.on('message', (msgs) => {
      this.checkDrops();
      for (const l of this.listeners) l(msgs);
    });
    // The kernel counts messages it could not queue for us; NETLINK_NO_ENOBUFS keeps the package
    // from seeing ENOBUFS (it aborts on it), so the counter is read on every batch and every second.
    this.timer = setInterval(() => this.checkDrops(), 1000);
    this.timer.unref();
  }

  /**
   * Creates the socket inside `netns` (the JS thread enters the namespace for this synchronous call
   * only) and joins `groups`. Needs no privilege; changes need CAP_NET_ADMIN there.
   * @throws NetnsError for a namespace that cannot be entered; SysError when a socket option fails.
   */
  static open(opts: RouteSocketOptions = {}): RouteSocket {
    const create = (): RouteSocket => {
      const monitor = (opts.groups?.length ?? 0) > 0;
      const sock = createRtNetlink({ ref: monitor, recvBufferSize: 1 << 20, sendBufferSize: 1 << 16 });
      try {
        const fd = findNetlinkFd(NETLINK_ROUTE, sock.socket.address().port);
        setIntOption(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1, 'NETLINK_EXT_ACK');
        setIntOption(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1, 'NETLINK_CAP_ACK');
        setIntOption(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, 1, 'NETLINK_NO_ENOBUFS');
        for (const g of opts.groups ?? []) sock.addMembership(g);
        const s = new RouteSocket(sock, fd, opts.timeoutMs ?? 5000, monitor);
        s.drops = socketDrops(fd);
        return s;
      } catch (e) {
        sock.socket.close();
        throw e;
      }
    };
    return opts.netns === undefined ? create() : opts.netns.run(create);
  }

  /** Listens to notifications (a socket opened with `groups`). */
  onNotification(fn: (msgs: RouteMessage[]) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Told when the kernel dropped notifications for this socket (its receive queue was full). */
  onOverrun(fn: (lost: number) => void): () => void {
    this.overrunListeners.add(fn);
    return () => this.overrunListeners.delete(fn);
  }

  /**
   * Sends one request and resolves with the decoded replies (a dump's messages; nothing for an ACK).
   * @throws NetlinkError with the kernel's extack message; TimeoutError; ClosedError.
   */
  request(type: number, payload: Uint8Array[], opts: { op: string; dump?: boolean; flags?: number }): Promise<RouteMessage[]> {
    const run = (): Promise<RouteMessage[]> => this.exchange(type, payload, opts);
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async exchange(type: number, payload: Uint8Array[], opts: { op: string; dump?: boolean; flags?: number }): Promise<RouteMessage[]> {
    if (this.closed) throw new ClosedError('rtnetlink socket');
    const flags = (opts.flags ?? 0) | (opts.dump ? NlmF.DUMP : 0);
    let msgs;
    try {
      const sent = this.sock.socket.request(type, payload, { flags, checkError: false, timeout: this.timeoutMs });
      sent.catch(() => undefined);
      [msgs] = await Promise.race([sent, this.closedSignal]);
    } catch (e) {
      if (this.closed) throw new ClosedError('rtnetlink socket');
      if ((e as Error).message.includes('Timeout')) throw new TimeoutError(`rtnetlink ${opts.op}`, this.timeoutMs);
      throw e;
    }
    const out: RouteMessage[] = [];
    for (const m of msgs) {
      if (m.type === NLMSG_ERROR) {
        const errno = -m.data.readInt32LE(0);
        if (errno === 0) continue;
        let extack: ExtAck = {};
        if (m.flags & NlmF.ACK_TLVS && m.flags & NlmF.CAPPED) extack = parseExtAck(m.data.subarray(20)).extack;
        throw new NetlinkError('rtnetlink', opts.op, errno, extack);
      }
      out.push(rt.parseMessage(m.type, m.data));
    }
    return out;
  }

  /** Messages the kernel dropped for this socket since it was opened. */
  readDrops(): number {
    return this.closed ? this.drops : socketDrops(this.fd);
  }

  private checkDrops(): void {
    if (this.closed) return;
    const now = socketDrops(this.fd);
    if (now === this.drops) return;
    const lost = now - this.drops;
    this.drops = now;
    for (const l of this.overrunListeners) l(lost);
  }

  /** Closes the socket; requests still queued reject with ClosedError. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.markClosed();
    this.sock.socket.close();
  }
}

export const ENOENT = osConstants.errno.ENOENT;
export const EEXIST = osConstants.errno.EEXIST;
export const ESRCH = osConstants.errno.ESRCH;
