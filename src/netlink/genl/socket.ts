// Generic-netlink layer: a NETLINK_GENERIC socket bound to one family. Resolves the family through
// nlctrl, adds the genlmsghdr to requests, strips it from replies and notifications.

import { constants as osConstants } from 'node:os';
import { DecodeError, NetlinkError, type ExtAck } from '../core/errors.js';
import { NetlinkSocket, type ErrorListener, type OverrunListener, type RawTransport, type Subscription, type SubscriptionHandlers } from '../core/socket.js';
import { NETLINK_GENERIC } from '../core/transport.js';
import { explainExtAck } from '../core/explain.js';
import type { FamilyDesc } from '../core/spec-types.js';
import type { Netns } from '../../os/netns.js';
import { CTRL_CMD_GETFAMILY, CTRL_VERSION, decodeFamily, getFamilyRequest, type FamilyInfo } from './ctrl.js';

export type { RawTransport, TransportHandlers, ErrorListener, OverrunListener, Subscription } from '../core/socket.js';

/** Size of `struct genlmsghdr`. */
export const GENL_HDRLEN = 4;
/** Id of the generic-netlink controller family (`nlctrl`). */
export const GENL_ID_CTRL = 0x10;

/** Receives a family notification: its command, version and the attribute bytes after the genl header. */
export type GenlNotificationListener = (cmd: number, version: number, attrs: Buffer) => void;

/** What a {@link GenlSocket.subscribe} subscription is told. */
export interface GenlSubscriptionHandlers extends Omit<SubscriptionHandlers, 'message'> {
  message: GenlNotificationListener;
}

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
   * Run the sendto on a worker thread, keeping the order of requests (see ExchangeOptions);
   * `'auto'` moves there once a send on this socket blocked for more than 1 ms.
   */
  offThread?: boolean | 'auto';
  /** The kernel answers this do-request with exactly one message: sent without NLM_F_ACK. */
  reply?: boolean;
  /** Tables and attribute set of the request, to name the attribute an extended ACK points at. */
  attributes?: { family: FamilyDesc; set: string };
}

const explainers = new WeakMap<FamilyDesc, Map<string, (request: Buffer, extack: ExtAck) => string | undefined>>();
/** One extack explainer per family and attribute set (requests share it instead of making one each). */
function explainerFor(family: FamilyDesc, set: string): (request: Buffer, extack: ExtAck) => string | undefined {
  let bySet = explainers.get(family);
  if (!bySet) explainers.set(family, (bySet = new Map()));
  let fn = bySet.get(set);
  if (!fn) bySet.set(set, (fn = (request, extack) => explainExtAck(family, set, request, GENL_HDRLEN, extack)));
  return fn;
}

const heads = new Map<number, Buffer>();
/** The 4-byte genlmsghdr for `cmd` and `version` (cached: requests reuse it). */
function genlHead(cmd: number, version: number): Buffer {
  const key = (cmd << 8) | version;
  let h = heads.get(key);
  if (!h) heads.set(key, (h = Buffer.from([cmd, version, 0, 0])));
  return h;
}

/** Strips the genlmsghdr from each reply payload (the core has checked it is there). */
function attrsOf(parts: Buffer[]): Buffer[] {
  for (let i = 0; i < parts.length; i++) parts[i] = parts[i].subarray(GENL_HDRLEN);
  return parts;
}

/**
 * A generic-netlink socket for one family. Every request asks for an ACK, except do-requests
 * answered by one message; any number may be in flight (see NetlinkSocket for flow control).
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
  /** The socket below, for what is not specific to generic netlink. */
  readonly socket: NetlinkSocket;
  private readonly family: string;

  private constructor(socket: NetlinkSocket, info: FamilyInfo, family: string) {
    this.socket = socket;
    this.family = family;
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
   * @example const s = await GenlSocket.open('mptcp_pm', { netns: 'blue' })
   */
  static async open(familyName: string, opts: GenlSocketOptions = {}): Promise<GenlSocket> {
    const socket = NetlinkSocket.open({ protocol: NETLINK_GENERIC, name: familyName, header: { name: 'genlmsghdr', length: GENL_HDRLEN }, ...opts });
    try {
      const replies = await socket.request(GENL_ID_CTRL, genlHead(CTRL_CMD_GETFAMILY, CTRL_VERSION), getFamilyRequest(familyName), {
        op: 'getfamily',
      });
      if (replies.length !== 1) throw new DecodeError('ctrl', `expected 1 GETFAMILY reply, got ${replies.length}`);
      const info = decodeFamily(attrsOf(replies)[0]);
      if (info.id < 0) throw new DecodeError('ctrl.family-id', 'missing in GETFAMILY reply');
      return new GenlSocket(socket, info, familyName);
    } catch (e) {
      socket.close();
      if (e instanceof NetlinkError && e.errno === osConstants.errno.ENOENT) {
        throw new NetlinkError(familyName, 'getfamily', e.errno, e.extack, 'generic netlink family not registered: is it built into / loaded in this kernel?');
      }
      throw e;
    }
  }

  /** This socket's netlink port id. */
  get portId(): number {
    return this.socket.portId;
  }

  /**
   * Sends family command `cmd` with encoded attributes and resolves with the attribute bytes of
   * every reply message ([] for a plain ACK).
   * @throws NetlinkError (kernel refusal, with extack and the attribute it names; EPERM explains
   * the missing CAP_NET_ADMIN; ENOBUFS when replies were dropped), TimeoutError, ClosedError.
   */
  request(cmd: number, attrs: Uint8Array, opts: GenlRequestOptions): Promise<Buffer[]> {
    const explain = opts.attributes ? explainerFor(opts.attributes.family, opts.attributes.set) : undefined;
    return this.socket.request(this.familyId, genlHead(cmd, this.version), attrs, {
      op: opts.op, dump: opts.dump, timeoutMs: opts.timeoutMs, offThread: opts.offThread, reply: opts.reply, explain, stripHeader: true,
    });
  }

  /**
   * Sends nlctrl command `cmd` on this socket (nlctrl's family id is the constant 0x10, so no
   * lookup is needed) and resolves with the attribute bytes of every reply message.
   * @throws NetlinkError, TimeoutError, ClosedError.
   */
  async ctrlRequest(cmd: number, attrs: Uint8Array, opts: { op: string; dump?: boolean; timeoutMs?: number }): Promise<Buffer[]> {
    const parts = await this.socket.request(GENL_ID_CTRL, genlHead(cmd, CTRL_VERSION), attrs, opts);
    return attrsOf(parts);
  }

  /** Registers a listener for family notifications. Returns an unsubscribe function. */
  onNotification(cb: GenlNotificationListener): () => void {
    return this.socket.onNotification((header, payload) => {
      if (header.type !== this.familyId) return;
      cb(payload[0], payload[1], payload.subarray(GENL_HDRLEN));
    });
  }

  /**
   * Joins the family's multicast groups `names` and hands their notifications (command, version,
   * attribute bytes) to `handlers.message`; drops are reported as `handlers.overrun(lost)` (see
   * NetlinkSocket.subscribe).
   * @throws Error for an unknown group; SysError (errno EPERM) when not permitted.
   */
  subscribe(names: readonly string[], handlers: GenlSubscriptionHandlers): Subscription {
    const ids = names.map((name) => this.groupId(name));
    return this.socket.subscribe(ids, {
      message: (header, payload) => {
        if (header.type === this.familyId) handlers.message(payload[0], payload[1], payload.subarray(GENL_HDRLEN));
      },
      overrun: handlers.overrun,
      error: handlers.error,
    });
  }

  /** Registers a listener for receive overruns. Returns an unsubscribe function. */
  onOverrun(cb: OverrunListener): () => void {
    return this.socket.onOverrun(cb);
  }

  /** Registers a listener for errors that belong to no request. Returns an unsubscribe function. */
  onError(cb: ErrorListener): () => void {
    return this.socket.onError(cb);
  }

  /**
   * Joins multicast group `name` of this family. `mptcp_pm_events` needs CAP_NET_ADMIN.
   * @throws Error for an unknown group; SysError (errno EPERM) when not permitted.
   */
  joinGroup(name: string): void {
    this.socket.joinGroup(this.groupId(name));
  }

  private groupId(name: string): number {
    const id = this.groups.get(name);
    if (id === undefined) throw new Error(`${this.family}: no multicast group "${name}" (have: ${[...this.groups.keys()].join(', ')})`);
    return id;
  }

  /** Sets the receive buffer (SO_RCVBUFFORCE as root, else SO_RCVBUF); returns the resulting SO_RCVBUF. */
  setReceiveBuffer(bytes: number): number {
    return this.socket.setReceiveBuffer(bytes);
  }

  /** Messages the kernel dropped for this socket so far. */
  readDrops(): number {
    return this.socket.readDrops();
  }

  /** NETLINK_NO_ENOBUFS; returns false when the transport cannot. */
  setNoEnobufs(on: boolean): boolean {
    return this.socket.setNoEnobufs(on);
  }

  /** Closes the socket; pending requests reject with ClosedError. Idempotent. */
  close(): void {
    this.socket.close();
  }
}
