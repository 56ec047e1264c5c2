// OS layer: the one table of libc functions the library calls through koffi (loaded on first use),
// and the two socket-option calls every socket kind shares.

import { createRequire } from 'node:module';

type Koffi = typeof import('koffi');
let ffi: Koffi | undefined;

/**
 * koffi, required on first use: its native library costs ~10 ms and ~5 MiB at start, which a
 * process that only imports the package, prints usage or refuses its input never needs.
 */
function koffi(): Koffi {
  return (ffi ??= createRequire(import.meta.url)('koffi') as Koffi);
}

/** A libc function as koffi returns it: call it, or `.async(…, callback)` to run it on a worker thread. */
export type LibcFn = ((...args: unknown[]) => unknown) & { async: (...args: unknown[]) => void };

export interface Libc {
  socket: LibcFn;
  bind: LibcFn;
  close: LibcFn;
  setsockopt: LibcFn;
  /** The value is passed by address (uintptr_t), so a struct may point into its own buffer. */
  getsockopt: LibcFn;
  sendto: LibcFn;
  recv: LibcFn;
  setns: LibcFn;
  ioctl: LibcFn;
  nametoindex: LibcFn;
  indextoname: LibcFn;
}

/** <sys/socket.h>: the level of options every socket kind has. */
export const SOL_SOCKET = 1;

let table: Libc | undefined;

/** The libc functions, declared once. */
export function libc(): Libc {
  if (table) return table;
  const l = koffi().load('libc.so.6');
  const fn = (decl: string): LibcFn => l.func(decl) as LibcFn;
  table = {
    socket: fn('int socket(int domain, int type, int protocol)'),
    bind: fn('int bind(int fd, const void *addr, uint32_t len)'),
    close: fn('int close(int fd)'),
    setsockopt: fn('int setsockopt(int fd, int level, int name, const void *val, uint32_t len)'),
    getsockopt: fn('int getsockopt(int fd, int level, int name, uintptr_t val, _Inout_ uint32_t *len)'),
    sendto: fn('intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t alen)'),
    recv: fn('intptr_t recv(int fd, _Out_ void *buf, size_t len, int flags)'),
    setns: fn('int setns(int fd, int nstype)'),
    ioctl: fn('int ioctl(int fd, unsigned long request)'),
    nametoindex: fn('unsigned int if_nametoindex(const char *name)'),
    indextoname: fn('char *if_indextoname(unsigned int index, _Out_ uint8_t *name)'),
  };
  return table;
}

/** errno of the last failed libc call on this thread (positive). */
export function lastErrno(): number {
  return koffi().errno();
}

/** Address of a Buffer's first byte, for structs that hold pointers into the same buffer. */
export function addressOf(buf: Buffer): bigint {
  return koffi().address(buf);
}

/** setsockopt with an int value; returns 0 or a positive errno. */
export function setIntOpt(fd: number, level: number, name: number, value: number): number {
  const v = Buffer.alloc(4);
  v.writeInt32LE(value, 0);
  return (libc().setsockopt(fd, level, name, v, 4) as number) === 0 ? 0 : koffi().errno();
}

/**
 * getsockopt into `buf` (passed by address: the kernel may also write to memory that `buf`'s own
 * contents point at). Returns the length the kernel reported, or a negative errno.
 */
export function getOpt(fd: number, level: number, name: number, buf: Buffer, len = buf.length): number {
  const l = [len];
  const r = libc().getsockopt(fd, level, name, koffi().address(buf), l) as number;
  return r === 0 ? l[0] : -koffi().errno();
}
