// The point where Node's TCP handles get an MPTCP fd: a libuv TCP handle creates its socket lazily, at
// its first bind() or connect(). Wrapping those four methods of the handle class lets a handle be
// given an IPPROTO_MPTCP socket first (handle.open(fd)); everything after it (DNS, Happy Eyeballs off,
// TLS, http) is Node's own code. A handle is MPTCP when it carries a config: set on one handle by
// connect(), for the handles of one listen() call by createServer(), or for all of them by register.

import type { Netns } from '../os/netns.js';
import { closeFd } from '../os/socket.js';
import { deliverWarning, openStreamSocket, type MptcpFallbackWarning, type MptcpSocketOptions } from './open.js';

/** Where a handle's socket comes from, and who hears about a fallback. */
export interface HandleConfig {
  /** Namespace to create the socket in: a name or path (opened for each socket) or an open handle. */
  netns?: string | Netns;
  fallback?: MptcpSocketOptions['fallback'];
  /** Runs once the handle has its socket (or failed to get one). */
  onOpened?: () => void;
  /** Gets the `warning` event (or the process warning when it has no listener). */
  target?: { emit(e: string, w: unknown): boolean; listenerCount(e: string): number };
}

interface TcpHandle {
  fd: number;
  open(fd: number): number;
  [kConfig]?: HandleConfig;
}

const kConfig = Symbol('mptcp-pm.config');
let installed = false;
let globalConfig: HandleConfig | undefined;
let pendingConfig: HandleConfig | undefined;

/** libuv's negative errno for a failure inside the hook that has no errno of its own. */
const UV_EINVAL = -22;

function tcpPrototype(): Record<string, unknown> {
  // process.binding is the only route to the handle class; loaded lazily, once.
  const binding = (process as unknown as { binding(name: string): { TCP: { prototype: Record<string, unknown> } } }).binding('tcp_wrap');
  return binding.TCP.prototype;
}

function install(): void {
  if (installed) return;
  installed = true;
  const proto = tcpPrototype();
  for (const name of ['bind', 'bind6', 'connect', 'connect6'] as const) {
    const original = proto[name] as (this: TcpHandle, ...a: unknown[]) => number;
    const family = name.endsWith('6') ? 6 : 4;
    proto[name] = function hooked(this: TcpHandle, ...args: unknown[]): number {
      const cfg = this[kConfig] ?? pendingConfig ?? globalConfig;
      if (cfg !== undefined && this.fd < 0) {
        const err = openInto(this, family, cfg);
        if (err !== 0) return err;
      }
      return original.apply(this, args);
    };
  }
}

function openInto(handle: TcpHandle, family: 4 | 6, cfg: HandleConfig): number {
  let opened: { fd: number; warning?: MptcpFallbackWarning };
  try {
    opened = openStreamSocket(family, cfg);
  } catch (e) {
    cfg.onOpened?.();
    // Under a single connect() the error is typed and thrown by the caller's own check first; here
    // (a race with a sysctl change, or EMFILE) Node turns the errno into its usual error.
    const errno = (e as { errno?: number }).errno;
    if (cfg === pendingConfig) throw e;
    return typeof errno === 'number' && errno > 0 ? -errno : UV_EINVAL;
  }
  cfg.onOpened?.();
  const err = handle.open(opened.fd);
  if (err !== 0) {
    closeFd(opened.fd);
    return err;
  }
  if (opened.warning) deliverWarning(cfg.target ?? process, opened.warning);
  return 0;
}

/** Makes `handle` (a net.Socket's `_handle`, before it binds or connects) open an MPTCP socket. */
export function configureHandle(handle: unknown, cfg: HandleConfig): void {
  install();
  if (handle !== null && typeof handle === 'object') (handle as TcpHandle)[kConfig] = cfg;
}

/** Runs `fn` (synchronous) with every TCP handle it binds or connects made MPTCP per `cfg`. */
export function withHandleConfig<T>(cfg: HandleConfig, fn: () => T): T {
  install();
  const prev = pendingConfig;
  pendingConfig = cfg;
  try {
    return fn();
  } finally {
    pendingConfig = prev;
  }
}

/** Makes every TCP handle of the process MPTCP per `cfg` (undefined turns it off again). */
export function setGlobalConfig(cfg: HandleConfig | undefined): void {
  install();
  globalConfig = cfg;
}
