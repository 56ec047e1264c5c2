// Transport layer: moves raw datagrams between a netlink socket of any protocol and the kernel. The
// real one wraps the `netlink` package's RawNetlinkSocket; tests inject a fake peer.

// The raw socket only: the package's entry point loads every family it ships (slow to start).
import { createRequire } from 'node:module';
import type { RawNetlinkSocket } from 'netlink/dist/raw.js';
import type { Netns } from '../../os/netns.js';
import { findNetlinkFd } from '../../os/procfs.js';
import {
  NETLINK_CAP_ACK, NETLINK_EXT_ACK, NETLINK_NO_ENOBUFS, SOL_NETLINK, SOL_SOCKET, SO_RCVBUF, SO_RCVBUFFORCE,
  SysError, getIntOption, recvNonBlocking, sendToKernel, sendToKernelOffThread, setIntOption, socketDrops,
} from '../../os/sys.js';

/** Netlink protocol numbers (<linux/netlink.h>) of the protocols this package speaks. */
export const NETLINK_ROUTE = 0;
export const NETLINK_SOCK_DIAG = 4;
export const NETLINK_GENERIC = 16;
/**
 * Receive buffer of request sockets unless asked otherwise: 1 MiB, as iproute2 uses. It sizes the
 * window of requests in flight (about 500 with this); SO_RCVBUFFORCE needs CAP_NET_ADMIN, without
 * it the kernel caps the size at net.core.rmem_max and the window shrinks to match.
 */
export const DEFAULT_RECEIVE_BUFFER_BYTES = 1 << 20;
const EAGAIN = 11;
const ENOBUFS = 105;
const EMSGSIZE = 90;
/** At most this many datagrams are read per drain() call. */
const DRAIN_MAX = 64;
/** Receive buffer of drain(); the kernel sizes dump datagrams to at most 32 KiB here. */
let drainBuf: Buffer | undefined;

/**
 * Calls a receive handler; an exception from user code must not unwind into the native addon
 * (that aborts the process), so it is rethrown on the next tick as an ordinary uncaught exception.
 */
function guard<A>(fn: (a: A) => void, a: A): void {
  try {
    fn(a);
  } catch (e) {
    process.nextTick(() => {
      throw e;
    });
  }
}

/** What a transport reports back. */
export interface TransportHandlers {
  /** One received datagram (may hold several netlink messages). */
  message(datagram: Buffer): void;
  /** A receive-side errno, e.g. ENOBUFS when the kernel dropped messages for this socket. */
  error(errno: number): void;
  /**
   * Optional: the event loop found the socket readable (called before that datagram's message()).
   * Returns whether the rest of the queue may be read at once.
   */
  polled?(): boolean;
}

/** A datagram link to the kernel (or to a fake peer). */
export interface RawTransport {
  /** The socket's netlink port id (nl_pid). */
  readonly portId: number;
  /** Installs the receive handlers; called once, before anything is sent. */
  listen(handlers: TransportHandlers): void;
  /** Sends on the calling thread. Returns 0 or a positive errno. */
  send(datagram: Buffer): number;
  /**
   * Optional: delivers, synchronously, the datagrams already queued on the socket. Called right
   * after a synchronous send, when the kernel has usually queued the answer already, so the reply
   * does not wait for the next event-loop turn. Stops early once `enough()` returns true.
   */
  drain?(enough: () => boolean): void;
  /** Sends from a worker thread; `done` gets 0 or a positive errno. One call in flight at a time. */
  sendOffThread(datagram: Buffer, done: (errno: number) => void): void;
  /** Joins a multicast group by id (NETLINK_ADD_MEMBERSHIP). Throws on failure (EPERM, …). */
  addMembership(groupId: number): void;
  /** Sets the receive buffer; returns the size the kernel reports afterwards. */
  setReceiveBuffer(bytes: number): number;
  /** Optional: the receive buffer the kernel reports now (SO_RCVBUF); sizes the request window. */
  receiveBufferSize?(): number;
  /** Messages the kernel dropped for this socket because its receive queue was full. */
  readDrops(): number;
  /** Optional: NETLINK_NO_ENOBUFS; overruns are then seen only through readDrops(). */
  setNoEnobufs?(on: boolean): void;
  /** Whether an idle socket keeps the Node.js event loop alive. */
  setRef(ref: boolean): void;
  close(): void;
}

/** Options of {@link NetlinkTransport.open}. */
export interface NetlinkTransportOptions {
  /** The netlink protocol (NETLINK_GENERIC when absent). */
  protocol?: number;
  /** Network namespace to create the socket in (the caller's when absent). */
  netns?: Netns;
  /** Receive buffer size in bytes, set at creation (default {@link DEFAULT_RECEIVE_BUFFER_BYTES}). */
  receiveBufferBytes?: number;
}

let rawSocket: typeof RawNetlinkSocket | undefined;

/** The `netlink` package's socket class, required when the first socket opens (its addon costs a few ms at start). */
function rawSocketClass(): typeof RawNetlinkSocket {
  return (rawSocket ??= (createRequire(import.meta.url)('netlink/dist/raw.js') as { RawNetlinkSocket: typeof RawNetlinkSocket }).RawNetlinkSocket);
}

/**
 * The real transport: a netlink socket from the `netlink` package with NETLINK_EXT_ACK and
 * NETLINK_CAP_ACK on. Sending uses its fd directly (found through /proc).
 */
export class NetlinkTransport implements RawTransport {
  readonly portId: number;
  private readonly sock: RawNetlinkSocket;
  private readonly fd: number;
  private closed = false;
  private handlers: TransportHandlers | undefined;

  private constructor(sock: RawNetlinkSocket, fd: number) {
    this.sock = sock;
    this.fd = fd;
    this.portId = sock.address().port;
  }

  /**
   * Creates and binds the socket, inside `netns` when given (the JS thread enters it only for the
   * duration of this synchronous call). Throws NetnsError for a missing namespace.
   */
  static open(opts: NetlinkTransportOptions = {}): NetlinkTransport {
    const protocol = opts.protocol ?? NETLINK_GENERIC;
    const create = (): NetlinkTransport => {
      const sock = new (rawSocketClass())(protocol);
      try {
        const fd = findNetlinkFd(protocol, sock.address().port);
        setIntOption(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1, 'NETLINK_EXT_ACK');
        setIntOption(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1, 'NETLINK_CAP_ACK');
        // The `netlink` package aborts the process when recvmsg fails with ENOBUFS (its native
        // error path throws before any JS listener runs). Overruns are therefore never raised as
        // a receive error on our sockets: the kernel's drop counter (readDrops) reports them.
        setIntOption(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, 1, 'NETLINK_NO_ENOBUFS');
        const t = new NetlinkTransport(sock, fd);
        t.setReceiveBuffer(opts.receiveBufferBytes ?? DEFAULT_RECEIVE_BUFFER_BYTES);
        return t;
      } catch (e) {
        sock.close();
        throw e;
      }
    };
    return opts.netns === undefined ? create() : opts.netns.run(create);
  }

  listen(h: TransportHandlers): void {
    this.handlers = h;
    this.sock.on('message', (msg) => {
      const more = h.polled?.() ?? true;
      guard(h.message, msg);
      // The addon peeks at each datagram's size before reading it into a buffer of its own: read the
      // rest of the queue here instead, one recv per datagram into one reused buffer (while the
      // receiver's time budget for this loop iteration lasts; the addon reads on after that).
      if (more) this.drain(() => false);
    });
    // With message peeking on, truncation means a datagram did not fit: report it, never drop it.
    this.sock.on('truncatedMessage', () => guard(h.error, EMSGSIZE));
    this.sock.on('error', (err) => guard(h.error, Math.abs(err.errno ?? 5)));
  }

  drain(enough: () => boolean): void {
    const h = this.handlers;
    if (!h || this.closed) return;
    const buf = (drainBuf ??= Buffer.alloc(65536));
    for (let i = 0; i < DRAIN_MAX && !this.closed; i++) {
      const n = recvNonBlocking(this.fd, buf);
      if (n === -EAGAIN) return;
      if (n < 0) {
        guard(h.error, -n);
        if (-n !== ENOBUFS) return;
      } else if (n > buf.length) guard(h.error, EMSGSIZE);
      else {
        const datagram = Buffer.allocUnsafe(n);
        buf.copy(datagram, 0, 0, n);
        guard(h.message, datagram);
        if (enough()) return;
      }
    }
  }

  send(datagram: Buffer): number {
    if (this.closed) return 9; // EBADF
    return sendToKernel(this.fd, datagram);
  }

  sendOffThread(datagram: Buffer, done: (errno: number) => void): void {
    if (this.closed) {
      queueMicrotask(() => done(9));
      return;
    }
    sendToKernelOffThread(this.fd, datagram, done);
  }

  addMembership(groupId: number): void {
    try {
      this.sock.addMembership(groupId);
    } catch (e) {
      throw new SysError('setsockopt', Math.abs((e as { errno?: number }).errno ?? 5), `NETLINK_ADD_MEMBERSHIP ${groupId}`);
    }
  }

  /** SO_RCVBUFFORCE (needs CAP_NET_ADMIN), falling back to SO_RCVBUF (capped by rmem_max). */
  setReceiveBuffer(bytes: number): number {
    try {
      setIntOption(this.fd, SOL_SOCKET, SO_RCVBUFFORCE, bytes, 'SO_RCVBUFFORCE');
    } catch (e) {
      if (!(e instanceof SysError) || e.errno !== 1) throw e;
      setIntOption(this.fd, SOL_SOCKET, SO_RCVBUF, bytes, 'SO_RCVBUF');
    }
    return this.receiveBufferSize();
  }

  receiveBufferSize(): number {
    return getIntOption(this.fd, SOL_SOCKET, SO_RCVBUF, 'SO_RCVBUF');
  }

  readDrops(): number {
    return socketDrops(this.fd);
  }

  setNoEnobufs(on: boolean): void {
    setIntOption(this.fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, on ? 1 : 0, 'NETLINK_NO_ENOBUFS');
  }

  setRef(ref: boolean): void {
    if (this.closed) return;
    if (ref) this.sock.ref();
    else this.sock.unref();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.close();
  }
}
