// Socket layer: a generic-netlink socket bound to one family. Resolves the family through nlctrl,
// matches replies to requests by sequence number, gathers dumps, and hands notifications out.

import { constants as osConstants } from 'node:os';
import { ClosedError, DecodeError, NetlinkError } from '../errors.js';
import { decodeFamily, getFamilyRequest, Ctrl, type FamilyInfo } from './ctrl.js';
import { Core, type ErrorListener, type NotificationListener, type OverrunListener } from '../engine.js';
import { GENL_ID_CTRL } from '../message.js';
import { NetlinkTransport, type RawTransport } from '../transport.js';
import { Netns } from '../../os/netns.js';

export type { RawTransport, TransportHandlers } from '../transport.js';
export type { ErrorListener, NotificationListener, OverrunListener } from '../engine.js';

const DEFAULT_TIMEOUT_MS = 10_000;

/** Options of {@link GenlSocket.open}. */
export interface GenlSocketOptions {
  /** Network namespace to open the socket in (the caller's when absent); a string is opened for this call. */
  netns?: Netns | string;
  /** Default per-request timeout in ms (10000 when absent). */
  timeoutMs?: number;
  /** A transport to use instead of a kernel socket (tests). */
  transport?: RawTransport;
  /** Receive buffer size in bytes (SO_RCVBUFFORCE when permitted, else SO_RCVBUF). */
  receiveBufferBytes?: number;
}

/** Options of {@link GenlSocket.request}. */
export interface GenlRequestOptions {
  /** Operation name used in errors, e.g. `add-addr`. */
  op: string;
  /** Send as a dump (NLM_F_DUMP) and gather the parts until NLMSG_DONE. */
  dump?: boolean;
  /** Overrides the socket's default timeout. */
  timeoutMs?: number;
  /**
   * Run the sendto on a worker thread. The kernel executes the command inside sendto, so commands
   * that wait for RCU (DEL_ADDR, FLUSH_ADDRS) would otherwise block the event loop for milliseconds.
   * Order is kept: later requests are sent only after this one. `'auto'` sends on the JS thread
   * until one such send on this socket is seen to block for more than 1 ms, then on a worker thread.
   */
  offThread?: boolean | 'auto';
  /**
   * The kernel answers this do-request with exactly one message: it is sent without NLM_F_ACK
   * (one message back instead of two) and settled by that message.
   */
  reply?: boolean;
}

/**
 * A generic-netlink socket for one family. Every request asks for an ACK, except do-requests
 * answered by one message; any number may be in flight and replies are matched by sequence number.
 *
 * Receive overruns (ENOBUFS: the kernel dropped messages because the receive queue was full) are
 * reported to {@link GenlSocket.onOverrun} listeners. Since a dropped message may have been the
 * reply to a pending request, every request pending at that moment is rejected with a NetlinkError
 * ENOBUFS saying its outcome is unknown; late replies to those requests are then discarded.
 */
export class GenlSocket {
  /** The family's id (dynamic, from nlctrl). */
  readonly familyId: number;
  /** The family's version, sent in every request. */
  readonly version: number;
  /** Multicast group name → id. */
  readonly groups: ReadonlyMap<string, number>;
  /** Command → CTRL op flags (GENL_ADMIN_PERM 0x1, DO 0x2, DUMP 0x4, HASPOL 0x8, UNS_ADMIN 0x10). */
  readonly ops: ReadonlyMap<number, number>;
  private readonly core: Core;

  private constructor(core: Core, info: FamilyInfo) {
    this.core = core;
    this.familyId = info.id;
    this.version = info.version;
    this.groups = info.groups;
    this.ops = info.ops;
  }

  /**
   * Opens a socket (in `netns` when given) and resolves `familyName` with CTRL_CMD_GETFAMILY.
   * Needs no privilege.
   * @throws NetnsError when the namespace does not exist; NetlinkError ENOENT when the family is
   * not registered (for `mptcp_pm`: the kernel lacks MPTCP); TimeoutError.
   * @example const s = await GenlSocket.open('mptcp_pm', { netns: Netns.open('blue') })
   */
  static async open(familyName: string, opts: GenlSocketOptions = {}): Promise<GenlSocket> {
    const transport = opts.transport ?? openTransport(opts.netns, opts.receiveBufferBytes);
    if (opts.transport && opts.receiveBufferBytes !== undefined) transport.setReceiveBuffer(opts.receiveBufferBytes);
    const core = new Core(transport, familyName, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    try {
      const replies = await core.exchange(GENL_ID_CTRL, Ctrl.CMD_GETFAMILY, Ctrl.VERSION, getFamilyRequest(familyName), {
        op: 'getfamily',
      });
      if (replies.length !== 1) throw new DecodeError('ctrl', `expected 1 GETFAMILY reply, got ${replies.length}`);
      const info = decodeFamily(replies[0]);
      if (info.id < 0) throw new DecodeError('ctrl.family-id', 'missing in GETFAMILY reply');
      core.familyId = info.id;
      return new GenlSocket(core, info);
    } catch (e) {
      core.close();
      if (e instanceof NetlinkError && e.errno === osConstants.errno.ENOENT) {
        throw new NetlinkError(familyName, 'getfamily', e.errno, e.extack, 'generic netlink family not registered: is it built into / loaded in this kernel?');
      }
      throw e;
    }
  }

  /** This socket's netlink port id. */
  get portId(): number {
    return this.core.transport.portId;
  }

  /**
   * Sends family command `cmd` with encoded attributes and resolves with the attribute bytes of
   * every reply message ([] for a plain ACK).
   * @throws NetlinkError (kernel refusal, with extack; EPERM explains the missing CAP_NET_ADMIN;
   * ENOBUFS when replies were dropped), TimeoutError, ClosedError.
   */
  request(cmd: number, attrs: Uint8Array, opts: GenlRequestOptions): Promise<Buffer[]> {
    return this.core.exchange(this.familyId, cmd, this.version, attrs, opts);
  }

  /** Registers a listener for notifications (family messages that answer no request). Returns an unsubscribe function. */
  onNotification(cb: NotificationListener): () => void {
    return addTo(this.core.notify, cb);
  }

  /** Registers a listener for receive overruns (ENOBUFS). Returns an unsubscribe function. */
  onOverrun(cb: OverrunListener): () => void {
    return addTo(this.core.overrun, cb);
  }

  /** Registers a listener for errors that belong to no request. Returns an unsubscribe function. */
  onError(cb: ErrorListener): () => void {
    return addTo(this.core.errors, cb);
  }

  /**
   * Joins multicast group `name` of this family (NETLINK_ADD_MEMBERSHIP). While joined, the socket
   * keeps the event loop alive. `mptcp_pm_events` needs CAP_NET_ADMIN.
   * @throws Error for an unknown group; SysError (errno EPERM) when not permitted.
   */
  joinGroup(name: string): void {
    const id = this.groups.get(name);
    if (id === undefined) throw new Error(`${this.core.family}: no multicast group "${name}" (have: ${[...this.groups.keys()].join(', ')})`);
    if (this.core.closed) throw new ClosedError('generic netlink socket');
    this.core.transport.addMembership(id);
    this.core.joined++;
    this.core.updateRef();
  }

  /** Sets the receive buffer (SO_RCVBUFFORCE as root, else SO_RCVBUF); returns the resulting SO_RCVBUF. */
  setReceiveBuffer(bytes: number): number {
    return this.core.transport.setReceiveBuffer(bytes);
  }

  /** Messages the kernel dropped for this socket so far (the Drops column of /proc/net/netlink). */
  readDrops(): number {
    return this.core.transport.readDrops();
  }

  /**
   * Turns ENOBUFS reporting off (NETLINK_NO_ENOBUFS) so receive overruns are seen only through
   * {@link readDrops}. Returns false when the transport cannot (then ENOBUFS keeps being reported).
   */
  setNoEnobufs(on: boolean): boolean {
    const t = this.core.transport;
    if (!t.setNoEnobufs) return false;
    t.setNoEnobufs(on);
    return true;
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

function openTransport(netns: Netns | string | undefined, receiveBufferBytes: number | undefined): RawTransport {
  if (typeof netns !== 'string') return NetlinkTransport.open({ netns, receiveBufferBytes });
  const ns = Netns.open(netns);
  try {
    return NetlinkTransport.open({ netns: ns, receiveBufferBytes });
  } finally {
    ns.close();
  }
}
