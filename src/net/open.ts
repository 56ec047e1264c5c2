// Creating the socket: IPPROTO_MPTCP in the requested network namespace, and what happens when the
// kernel will not make one (fallback to TCP with a warning, or a typed error).

import { Netns, withNetns } from '../os/netns.js';
import { ValidationError } from '../netlink/core/errors.js';
import { AF_INET, AF_INET6, Errno, IPPROTO_MPTCP, IPPROTO_TCP, SocketCallError, closeFd, streamSocket } from '../os/socket.js';

/** What to do when the kernel refuses an MPTCP socket: use plain TCP (and warn), or fail. */
export type Fallback = 'tcp' | 'error';

/** Options shared by servers and clients. */
export interface MptcpSocketOptions {
  /** Network namespace (name under /run/netns or a path) the socket is created in; default: the caller's. */
  netns?: string;
  /** `tcp` (default): a TCP socket and a `warning` when MPTCP is unavailable; `error`: throw MptcpUnavailableError. */
  fallback?: Fallback;
}

/** Why no MPTCP socket could be created. */
export type UnavailableReason = 'disabled' | 'unsupported' | 'refused';

/** The kernel would not create an MPTCP socket and `fallback: 'error'` was asked for. */
export class MptcpUnavailableError extends Error {
  override readonly name = 'MptcpUnavailableError';
  readonly reason: UnavailableReason;
  readonly errno: number;
  readonly netns: string | undefined;
  constructor(reason: UnavailableReason, errno: number, netns: string | undefined) {
    super(`MPTCP socket unavailable${netns ? ` in network namespace ${netns}` : ''}: ${describe(reason, errno)}`);
    this.reason = reason;
    this.errno = errno;
    this.netns = netns;
  }
}

function describe(reason: UnavailableReason, errno: number): string {
  if (reason === 'disabled') return 'net.mptcp.enabled is 0 (socket() returned ENOPROTOOPT)';
  if (reason === 'unsupported') return 'the kernel has no MPTCP (socket() returned EPROTONOSUPPORT)';
  return `socket() with IPPROTO_MPTCP returned errno ${errno}`;
}

/** The warning emitted when a TCP socket is used in place of MPTCP. */
export class MptcpFallbackWarning extends Error {
  override readonly name = 'MptcpFallbackWarning';
  readonly code = 'MPTCP_FALLBACK';
  readonly reason: UnavailableReason;
  constructor(cause: MptcpUnavailableError) {
    super(`${cause.message}; using TCP`);
    this.reason = cause.reason;
  }
}

/** A socket fd ready for Node, and whether it is MPTCP (a fallback also carries the warning). */
export interface OpenedSocket {
  fd: number;
  mptcp: boolean;
  warning?: MptcpFallbackWarning;
}

/** Checks the shared options, naming the field that is wrong. */
export function checkSocketOptions(o: MptcpSocketOptions, where: string): void {
  if (o.netns !== undefined && (typeof o.netns !== 'string' || o.netns.length === 0)) {
    throw new ValidationError(`${where}.netns`, 'must be a non-empty string (a name under /run/netns or a path)');
  }
  if (o.fallback !== undefined && o.fallback !== 'tcp' && o.fallback !== 'error') {
    throw new ValidationError(`${where}.fallback`, `must be 'tcp' or 'error', got ${JSON.stringify(o.fallback)}`);
  }
}

/** Runs `fn` in `netns` (a name, a path or an open handle; the caller's namespace when undefined). */
export function inNetns<T>(netns: string | Netns | undefined, fn: () => T): T {
  if (netns === undefined) return fn();
  if (netns instanceof Netns) return netns.run(fn);
  return withNetns(netns, fn);
}

function classify(errno: number): UnavailableReason | undefined {
  if (errno === Errno.ENOPROTOOPT) return 'disabled';
  if (errno === Errno.EPROTONOSUPPORT) return 'unsupported';
  if (errno === Errno.EINVAL) return 'refused';
  return undefined;
}

/**
 * Creates a non-blocking stream socket of `family` (4 or 6): IPPROTO_MPTCP, or with fallback `tcp`
 * a TCP socket when the kernel refuses MPTCP.
 * @throws MptcpUnavailableError (fallback `error`), NetnsError, SocketCallError (EMFILE, …).
 */
export function openStreamSocket(family: 4 | 6, opts: { netns?: string | Netns; fallback?: Fallback }): OpenedSocket {
  const af = family === 6 ? AF_INET6 : AF_INET;
  const label = opts.netns instanceof Netns ? opts.netns.name : opts.netns;
  return inNetns(opts.netns, () => {
    const fd = streamSocket(af, IPPROTO_MPTCP);
    if (fd >= 0) return { fd, mptcp: true };
    const reason = classify(-fd);
    if (reason === undefined) throw new SocketCallError('socket', -fd, `IPPROTO_MPTCP, family ${family}`);
    const cause = new MptcpUnavailableError(reason, -fd, label);
    if (opts.fallback === 'error') throw cause;
    const tcp = streamSocket(af, IPPROTO_TCP);
    if (tcp < 0) throw new SocketCallError('socket', -tcp, `IPPROTO_TCP, family ${family}`);
    return { fd: tcp, mptcp: false, warning: new MptcpFallbackWarning(cause) };
  });
}

/**
 * Whether the kernel makes MPTCP sockets in `netns` now (one socket created and closed).
 * @throws MptcpUnavailableError naming why not.
 */
export function assertMptcpAvailable(netns: string | Netns | undefined): void {
  const s = openStreamSocket(4, { netns, fallback: 'error' });
  closeFd(s.fd);
}

const warned = new Set<string>();

/**
 * Delivers a fallback warning: as a `warning` event of `target` when someone listens for it,
 * else once per reason and namespace as a process warning.
 */
export function deliverWarning(target: { emit(e: string, w: unknown): boolean; listenerCount(e: string): number }, w: MptcpFallbackWarning): void {
  process.nextTick(() => {
    if (target.listenerCount('warning') > 0) {
      target.emit('warning', w);
      return;
    }
    if (warned.has(w.message)) return;
    warned.add(w.message);
    process.emitWarning(w.message, { type: 'MptcpFallbackWarning', code: w.code });
  });
}

export { AF_INET, AF_INET6 };
