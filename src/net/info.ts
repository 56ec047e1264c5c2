// The per-socket view: whether a connection is MPTCP, its mptcp_info and its subflows, read from the
// socket's own fd with getsockopt(SOL_MPTCP, …) — no dump of the namespace.

import type { Socket } from 'node:net';
import { release } from 'node:os';
import { UnsupportedError } from '../netlink/core/errors.js';
import { decodeMptcpInfo, decodeTcpInfo } from '../netlink/diag/reply.js';
import { formatInetAddress } from '../netlink/diag/inet.js';
import { connectionInfo, tcpSubflowInfo, type MptcpConnectionInfo, type SocketAddress, type TcpSubflowInfo } from '../mptcp/diag/model.js';
import { AF_INET, Errno, socketFd, IPPROTO_MPTCP, IPPROTO_TCP, SOL_MPTCP, SocketCallError, TCP_INFO, addressOf, getOpt, socketProtocol } from '../os/socket.js';

const MPTCP_INFO = 1;
const MPTCP_TCPINFO = 2;
const MPTCP_SUBFLOW_ADDRS = 3;
const MPTCP_FULL_INFO = 4;
/** struct mptcp_subflow_data: size_subflow_data, num_subflows, size_kernel, size_user. */
const SUBFLOW_DATA = 16;
/** struct mptcp_subflow_addrs: two sockaddr_storage unions. */
const ADDRS_SIZE = 256;
/** struct mptcp_subflow_info: u32 id, 4 bytes of padding, mptcp_subflow_addrs. */
const SFINFO_SIZE = 264;
/** struct mptcp_full_info up to mptcp_info. */
const FULL_HEADER = 40;
/** Room for mptcp_info and tcp_info beyond today's sizes (96 and 280 bytes on 6.18). */
const INFO_ROOM = 256;
const TCPINFO_ROOM = 512;
const MAX_SUBFLOWS = 256;

/** One subflow of a connection as its own socket reports it. */
export interface SocketSubflow {
  local: SocketAddress;
  remote: SocketAddress;
  /** The kernel's subflow id within the connection (1 = the initial subflow; MPTCP_FULL_INFO, Linux 6.5+). */
  id?: number;
  /** tcp_info of the subflow, as MptcpDiag reports it. */
  tcpInfo: TcpSubflowInfo;
}

function fdOf(sock: Socket, what: string): number {
  const fd = socketFd(sock);
  if (fd < 0) throw new SocketCallError('getsockopt', 9, `${what}: the socket has no fd (not connected, or destroyed)`);
  return fd;
}

let kernelVersion: number | undefined;
/** major*1000+minor of the running kernel. */
function kernelAtLeast(major: number, minor: number): boolean {
  if (kernelVersion === undefined) {
    const m = /^(\d+)\.(\d+)/.exec(release());
    kernelVersion = m ? Number(m[1]) * 1000 + Number(m[2]) : 0;
  }
  return kernelVersion >= major * 1000 + minor;
}

/**
 * Reads MPTCP_INFO. Returns the bytes, or null when the socket is not (or no longer) MPTCP.
 * @throws UnsupportedError on kernels before 5.16 (no MPTCP socket options).
 */
function readInfo(fd: number, what: string): Buffer | null {
  const buf = Buffer.alloc(INFO_ROOM);
  const n = getOpt(fd, SOL_MPTCP, MPTCP_INFO, buf);
  if (n >= 0) return buf.subarray(0, n);
  const errno = -n;
  // A fallback connection answers with TCP's own getsockopt (EOPNOTSUPP), as a plain TCP socket does.
  if (errno === Errno.EOPNOTSUPP || errno === Errno.ENOPROTOOPT) {
    if (socketProtocol(fd) === IPPROTO_MPTCP && !kernelAtLeast(5, 16)) {
      throw new UnsupportedError('MPTCP_INFO socket option', '5.16', what);
    }
    return null;
  }
  throw new SocketCallError('getsockopt', errno, `MPTCP_INFO, ${what}`);
}

/**
 * Whether `sock` is an MPTCP connection now: false for a TCP socket (fallback at creation) and for an
 * MPTCP socket that fell back to TCP (the peer or a middlebox did not take MPTCP).
 * @throws UnsupportedError on kernels before 5.16; SocketCallError when the socket has no fd.
 */
export function isMptcp(sock: Socket): boolean {
  return readInfo(fdOf(sock, 'isMptcp'), 'isMptcp') !== null;
}

/**
 * The connection's mptcp_info (the type MptcpDiag reports; `token` included), or null when the
 * socket is not MPTCP or fell back to TCP. Fields the running kernel lacks are absent.
 * @throws UnsupportedError on kernels before 5.16; SocketCallError when the socket has no fd.
 */
export function mptcpInfo(sock: Socket): MptcpConnectionInfo | null {
  const raw = readInfo(fdOf(sock, 'mptcpInfo'), 'mptcpInfo');
  return raw === null ? null : connectionInfo(decodeMptcpInfo(raw));
}

function sockAddress(b: Buffer, off: number): SocketAddress {
  const family = b.readUInt16LE(off);
  const port = b.readUInt16BE(off + 2);
  const bytes = family === AF_INET ? b.subarray(off + 4, off + 8) : b.subarray(off + 8, off + 24);
  return { address: formatInetAddress(family, bytes), port };
}

let fullInfoMissing = false;

/** MPTCP_FULL_INFO (6.5+): every subflow's id, addresses and tcp_info in one call; null when absent. */
function fullInfo(fd: number, room = 8): SocketSubflow[] | null {
  const sfOff = FULL_HEADER + INFO_ROOM;
  const tcpOff = sfOff + room * SFINFO_SIZE;
  const buf = Buffer.alloc(tcpOff + room * TCPINFO_ROOM);
  const base = addressOf(buf);
  buf.writeUInt32LE(TCPINFO_ROOM, 4);
  buf.writeUInt32LE(SFINFO_SIZE, 12);
  buf.writeUInt32LE(room, 20);
  buf.writeBigUInt64LE(base + BigInt(sfOff), 24);
  buf.writeBigUInt64LE(base + BigInt(tcpOff), 32);
  const n = getOpt(fd, SOL_MPTCP, MPTCP_FULL_INFO, buf, FULL_HEADER + INFO_ROOM);
  if (n < 0) {
    if (-n === Errno.EOPNOTSUPP) return null;
    throw new SocketCallError('getsockopt', -n, 'MPTCP_FULL_INFO');
  }
  const count = buf.readUInt32LE(16);
  if (count > room && room < MAX_SUBFLOWS) return fullInfo(fd, Math.min(MAX_SUBFLOWS, count + 4));
  const tcpStride = buf.readUInt32LE(4);
  const sfStride = buf.readUInt32LE(12);
  const out: SocketSubflow[] = [];
  for (let i = 0; i < Math.min(count, room); i++) {
    const s = sfOff + i * sfStride;
    const t = tcpOff + i * tcpStride;
    out.push({
      id: buf.readUInt32LE(s),
      local: sockAddress(buf, s + 8),
      remote: sockAddress(buf, s + 8 + 128),
      tcpInfo: tcpSubflowInfo(decodeTcpInfo(buf.subarray(t, t + tcpStride))),
    });
  }
  return out;
}

/** MPTCP_TCPINFO or MPTCP_SUBFLOW_ADDRS (5.16+): the element array after struct mptcp_subflow_data. */
function subflowArray(fd: number, name: number, elem: number, room = 8): { count: number; stride: number; data: Buffer } {
  const buf = Buffer.alloc(SUBFLOW_DATA + room * elem);
  buf.writeUInt32LE(SUBFLOW_DATA, 0);
  buf.writeUInt32LE(elem, 12);
  const n = getOpt(fd, SOL_MPTCP, name, buf);
  if (n < 0) throw new SocketCallError('getsockopt', -n, name === MPTCP_TCPINFO ? 'MPTCP_TCPINFO' : 'MPTCP_SUBFLOW_ADDRS');
  const count = buf.readUInt32LE(4);
  if (count > room && room < MAX_SUBFLOWS) return subflowArray(fd, name, elem, Math.min(MAX_SUBFLOWS, count + 4));
  return { count: Math.min(count, room), stride: buf.readUInt32LE(12), data: buf.subarray(SUBFLOW_DATA) };
}

/** Older kernels (5.16–6.4): addresses and tcp_info in two calls, paired by position. */
function pairedInfo(fd: number): SocketSubflow[] {
  const addrs = subflowArray(fd, MPTCP_SUBFLOW_ADDRS, ADDRS_SIZE);
  const tcp = subflowArray(fd, MPTCP_TCPINFO, TCPINFO_ROOM);
  const out: SocketSubflow[] = [];
  // A subflow may come or go between the two calls: only positions both saw are paired.
  for (let i = 0; i < Math.min(addrs.count, tcp.count); i++) {
    const a = i * addrs.stride;
    const t = i * tcp.stride;
    out.push({
      local: sockAddress(addrs.data, a),
      remote: sockAddress(addrs.data, a + 128),
      tcpInfo: tcpSubflowInfo(decodeTcpInfo(tcp.data.subarray(t, t + tcp.stride))),
    });
  }
  return out;
}

/**
 * This connection's subflows, from its own fd. A TCP socket, or an MPTCP one that fell back, has one
 * path: the TCP connection itself (no `id`).
 * @throws UnsupportedError on kernels before 5.16; SocketCallError when the socket has no fd.
 */
export function subflows(sock: Socket): SocketSubflow[] {
  const fd = fdOf(sock, 'subflows');
  if (readInfo(fd, 'subflows') === null) return [plainTcp(sock, fd)];
  if (!fullInfoMissing) {
    const full = fullInfo(fd);
    if (full !== null) return full;
    // EOPNOTSUPP: the option is missing (before 6.5), or the connection fell back in between.
    if (!kernelAtLeast(6, 5)) fullInfoMissing = true;
    else if (readInfo(fd, 'subflows') === null) return [plainTcp(sock, fd)];
  }
  return pairedInfo(fd);
}

function plainTcp(sock: Socket, fd: number): SocketSubflow {
  const buf = Buffer.alloc(TCPINFO_ROOM);
  const n = getOpt(fd, IPPROTO_TCP, TCP_INFO, buf);
  if (n < 0) throw new SocketCallError('getsockopt', -n, 'TCP_INFO');
  return {
    local: { address: sock.localAddress ?? '', port: sock.localPort ?? 0 },
    remote: { address: sock.remoteAddress ?? '', port: sock.remotePort ?? 0 },
    tcpInfo: tcpSubflowInfo(decodeTcpInfo(buf.subarray(0, n))),
  };
}
