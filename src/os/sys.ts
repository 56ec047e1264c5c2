// System-call layer: the few libc calls (through koffi) that the `netlink` package does not offer:
// socket options, a plain sendto that can also run on a worker thread, setns, and SO_MEMINFO.

import { SOL_SOCKET, getOpt, lastErrno, libc as lib, setIntOpt } from './libc.js';

/** Constants from <sys/socket.h>, <linux/netlink.h> and <sched.h>. */
export { SOL_SOCKET };
export const SOL_NETLINK = 270;
export const SO_RCVBUF = 8;
export const SO_RCVBUFFORCE = 33;
export const SO_MEMINFO = 55;
export const NETLINK_CAP_ACK = 10;
export const NETLINK_EXT_ACK = 11;
/** Stop reporting ENOBUFS on receive overruns (the drop counter still counts them). */
export const NETLINK_NO_ENOBUFS = 5;
export const CLONE_NEWNET = 0x40000000;
/** Index of the drop counter in the SO_MEMINFO array (`SK_MEMINFO_DROPS`). */
const SK_MEMINFO_DROPS = 8;
const SK_MEMINFO_VARS = 9;
const MSG_DONTWAIT = 0x40;
const MSG_TRUNC = 0x20;
const AF_NETLINK = 16;

/** `sockaddr_nl` of the kernel (port 0, no groups): the destination of every request. */
const KERNEL_ADDR = (() => {
  const b = Buffer.alloc(12);
  b.writeUInt16LE(AF_NETLINK, 0);
  return b;
})();

/** A failed system call: `errno` is positive. */
export class SysError extends Error {
  override readonly name = 'SysError';
  readonly errno: number;
  readonly syscall: string;
  constructor(syscall: string, errno: number, detail?: string) {
    super(`${syscall}${detail ? ` (${detail})` : ''} failed: errno ${errno}`);
    this.syscall = syscall;
    this.errno = errno;
  }
}

/** setsockopt with an int value; throws SysError. */
export function setIntOption(fd: number, level: number, name: number, value: number, what: string): void {
  const e = setIntOpt(fd, level, name, value);
  if (e !== 0) throw new SysError('setsockopt', e, what);
}

/** getsockopt with an int value; throws SysError. */
export function getIntOption(fd: number, level: number, name: number, what: string): number {
  const v = Buffer.alloc(4);
  const n = getOpt(fd, level, name, v);
  if (n < 0) throw new SysError('getsockopt', -n, what);
  return v.readInt32LE(0);
}

const MEMINFO = Buffer.alloc(4 * SK_MEMINFO_VARS);

/** The socket's drop counter (`sk_drops`, the Drops column of /proc/net/netlink) via SO_MEMINFO. */
export function socketDrops(fd: number): number {
  // Read after every batch of events: one buffer for every call (the JS thread runs one at a time).
  const n = getOpt(fd, SOL_SOCKET, SO_MEMINFO, MEMINFO);
  if (n < 0) throw new SysError('getsockopt', -n, 'SO_MEMINFO');
  return MEMINFO.readUInt32LE(4 * SK_MEMINFO_DROPS);
}

/** Sends one datagram to the kernel on the calling (JS) thread. Returns 0 or a positive errno. */
export function sendToKernel(fd: number, data: Buffer): number {
  const n = lib().sendto(fd, data, data.length, MSG_DONTWAIT, KERNEL_ADDR, KERNEL_ADDR.length) as number;
  return n < 0 ? lastErrno() : 0;
}

/**
 * Sends one datagram to the kernel from a koffi worker thread; `done` gets 0 or a positive errno.
 * `data` must stay untouched until `done` runs. Only one such call may be in flight per caller
 * that reads errno (the value is taken right when the callback runs).
 */
export function sendToKernelOffThread(fd: number, data: Buffer, done: (errno: number) => void): void {
  lib().sendto.async(fd, data, data.length, MSG_DONTWAIT, KERNEL_ADDR, KERNEL_ADDR.length, (err: unknown, n: number) => {
    // A koffi-level failure (not a syscall error) is reported as EIO.
    if (err) done(5);
    else done(n < 0 ? lastErrno() : 0);
  });
}

/**
 * Non-blocking recv into `buf` (MSG_TRUNC: the result is the datagram's full size even when it did
 * not fit). Returns the size, or a negative errno (-EAGAIN when the queue is empty).
 */
export function recvNonBlocking(fd: number, buf: Buffer): number {
  const n = lib().recv(fd, buf, buf.length, MSG_DONTWAIT | MSG_TRUNC) as number;
  return n < 0 ? -lastErrno() : n;
}

/** ioctl NS_GET_NSTYPE (_IO(0xb7, 0x3)): the CLONE_NEW* type of a namespace fd, or -errno. */
export function namespaceType(fd: number): number {
  const r = lib().ioctl(fd, 0xb703) as number;
  return r < 0 ? -lastErrno() : r;
}

/** setns(2) on the calling thread; throws SysError. */
export function setns(fd: number, nstype: number, what: string): void {
  if ((lib().setns(fd, nstype) as number) !== 0) throw new SysError('setns', lastErrno(), what);
}

/** if_nametoindex(3) in the calling thread's network namespace; 0 when there is no such interface. */
export function ifNameToIndex(name: string): number {
  if (name.length === 0 || name.length >= 16) return 0;
  return lib().nametoindex(name) as number;
}

/** if_indextoname(3) in the calling thread's network namespace; undefined when absent. */
export function ifIndexToName(index: number): string | undefined {
  const out = Buffer.alloc(16);
  if (lib().indextoname(index >>> 0, out) === null) return undefined;
  const nul = out.indexOf(0);
  return out.toString('utf8', 0, nul < 0 ? out.length : nul);
}
