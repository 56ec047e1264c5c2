// OS layer for stream sockets: the libc calls (through koffi) that create, bind and inspect a TCP or
// MPTCP socket, before and after Node takes it over. Buffers are passed by address so the kernel writes into them
// directly (MPTCP_FULL_INFO carries pointers to further arrays inside the same buffer).

import { SOL_SOCKET, addressOf, getOpt, lastErrno, libc as lib, setIntOpt } from './libc.js';
import type { Socket } from 'node:net';
import { AF_INET, AF_INET6, ipToBytes } from './address.js';

export { AF_INET, AF_INET6, SOL_SOCKET, addressOf, getOpt, setIntOpt };
export const IPPROTO_TCP = 6;
export const IPPROTO_MPTCP = 262;
export const SOL_IPV6 = 41;
export const SOL_MPTCP = 284;
export const SO_REUSEADDR = 2;
export const SO_PROTOCOL = 38;
export const IPV6_V6ONLY = 26;
export const TCP_INFO = 11;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;

/** errno values this layer tells apart. */
export const Errno = {
  EINVAL: 22,
  ENOPROTOOPT: 92,
  EPROTONOSUPPORT: 93,
  EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97,
} as const;

/** A failed socket call; `errno` is positive, `code` is its name when known (as Node's errors carry). */
export class SocketCallError extends Error {
  override readonly name = 'SocketCallError';
  readonly errno: number;
  readonly code: string;
  readonly syscall: string;
  constructor(syscall: string, errno: number, detail?: string) {
    const code = ERRNO_NAMES[errno] ?? `E${errno}`;
    super(`${syscall} failed: ${code}${detail ? ` (${detail})` : ''}`);
    this.syscall = syscall;
    this.errno = errno;
    this.code = code;
  }
}

const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM', 9: 'EBADF', 12: 'ENOMEM', 13: 'EACCES', 22: 'EINVAL', 23: 'ENFILE', 24: 'EMFILE', 92: 'ENOPROTOOPT',
  93: 'EPROTONOSUPPORT', 95: 'EOPNOTSUPP', 97: 'EAFNOSUPPORT', 98: 'EADDRINUSE', 99: 'EADDRNOTAVAIL', 105: 'ENOBUFS',
};

/**
 * socket(family, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, protocol) in the calling thread's network
 * namespace. Returns the fd, or a negative errno.
 */
export function streamSocket(family: number, protocol: number): number {
  const fd = lib().socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol) as number;
  return fd < 0 ? -lastErrno() : fd;
}

/** close(2), ignoring errors (used only for fds Node never took over). */
export function closeFd(fd: number): void {
  lib().close(fd);
}

/** sockaddr_in / sockaddr_in6 of `address` (IPv4 text for AF_INET, IPv6 text for AF_INET6). */
export function sockaddr(family: number, address: string, port: number): Buffer {
  const b = Buffer.alloc(family === AF_INET ? 16 : 28);
  b.writeUInt16LE(family === AF_INET ? AF_INET : AF_INET6, 0);
  b.writeUInt16BE(port, 2);
  ipToBytes(address).copy(b, family === AF_INET ? 4 : 8);
  return b;
}

/** bind(2); returns 0 or a positive errno. */
export function bindFd(fd: number, addr: Buffer): number {
  return (lib().bind(fd, addr, addr.length) as number) === 0 ? 0 : lastErrno();
}

/** SO_PROTOCOL of `fd` (262 for an MPTCP socket, 6 for TCP), or a negative errno. */
export function socketProtocol(fd: number): number {
  const b = Buffer.alloc(4);
  const n = getOpt(fd, SOL_SOCKET, SO_PROTOCOL, b);
  return n < 0 ? n : b.readInt32LE(0);
}

interface Handle { fd?: number; _parent?: Handle }

/**
 * The fd behind a Node socket, or -1 when it has none (not connected yet, or destroyed). A TLS
 * socket's handle wraps the TCP handle that holds it.
 */
export function socketFd(sock: Socket): number {
  let h = (sock as unknown as { _handle?: Handle | null } | null)?._handle;
  for (let i = 0; i < 4 && h; i++, h = h._parent) if (typeof h.fd === 'number' && h.fd >= 0) return h.fd;
  return -1;
}

const MPTCP_INFO = 1;
/** Offset of mptcpi_token in struct mptcp_info. */
const TOKEN_OFFSET = 12;

/** The local token of the MPTCP connection on `fd` (MPTCP_INFO, 5.16+), or undefined when it has none. */
export function mptcpToken(fd: number): number | undefined {
  const b = Buffer.alloc(64);
  const n = fd < 0 ? -1 : getOpt(fd, SOL_MPTCP, MPTCP_INFO, b);
  return n >= TOKEN_OFFSET + 4 ? b.readUInt32LE(TOKEN_OFFSET) || undefined : undefined;
}
