// MPTCP servers and clients: ordinary net.Server / net.Socket objects whose sockets are IPPROTO_MPTCP.

import net from 'node:net';
import { configureHandle, withHandleConfig } from './hook.js';
import { Netns } from '../os/netns.js';
import { assertMptcpAvailable, checkSocketOptions, inNetns, type MptcpSocketOptions } from './open.js';

/** Options of {@link createServer}: node:net's server options plus `netns` and `fallback`. */
export interface MptcpServerOptions extends net.ServerOpts, MptcpSocketOptions {}

/** Options of {@link connect}: node:net's TCP connect options plus `netns` and `fallback`. */
export type MptcpConnectOptions = net.TcpSocketConnectOpts & MptcpSocketOptions & { timeout?: number };

type ConnListener = (socket: net.Socket) => void;

/**
 * A net.Server whose listening sockets are IPPROTO_MPTCP (so every accepted connection is MPTCP
 * when the client speaks it, and plain TCP otherwise). `listen()` takes node:net's arguments.
 * With `fallback: 'tcp'` (default) a kernel without MPTCP, or `net.mptcp.enabled=0`, gives a TCP
 * listener and a `warning` event on the server.
 * @throws MptcpUnavailableError at once with `fallback: 'error'` when MPTCP is unavailable;
 *   NetnsError when `netns` does not exist; ValidationError for a bad `netns` or `fallback`.
 */
export function createServer(options?: MptcpServerOptions | ConnListener, listener?: ConnListener): net.Server {
  const opts: MptcpServerOptions = typeof options === 'function' ? {} : { ...(options ?? {}) };
  const onConnection = typeof options === 'function' ? options : listener;
  checkSocketOptions(opts, 'createServer options');
  const { netns, fallback, ...serverOpts } = opts;
  // The namespace is checked now (a typed NetnsError), and opened again at each listen().
  inNetns(netns, () => (fallback === 'error' ? assertMptcpAvailable(undefined) : undefined));
  const server = net.createServer(serverOpts, onConnection);
  const cfg = { netns, fallback, target: server };
  // listen() binds in `_listen2` (node:net's setupListenHandle), after any name lookup: the handle it
  // creates there gets the MPTCP socket.
  const inner = server as unknown as { _listen2: (...a: unknown[]) => unknown };
  const listen2 = inner._listen2;
  inner._listen2 = function mptcpListen2(this: net.Server, ...args: unknown[]): unknown {
    return withHandleConfig(cfg, () => listen2.apply(this, args));
  };
  return server;
}

/**
 * Opens an MPTCP connection: a net.Socket, connecting (as node:net's `connect`). `host` may be a
 * name; the connection uses the first address it resolves to (no Happy Eyeballs). When the peer
 * does not speak MPTCP the connection works as TCP and {@link isMptcp} says so.
 * @throws MptcpUnavailableError at once with `fallback: 'error'` when MPTCP is unavailable;
 *   NetnsError when `netns` does not exist; ValidationError for a bad `netns` or `fallback`.
 */
export function connect(options: MptcpConnectOptions, connectListener?: () => void): net.Socket {
  if (options === null || typeof options !== 'object') throw new TypeError('connect: options must be an object');
  checkSocketOptions(options, 'connect options');
  const { netns, fallback, ...netOpts } = options;
  // Opened now, so a missing namespace is a NetnsError here; released once the socket exists.
  const ns = netns === undefined ? undefined : Netns.open(netns);
  try {
    if (fallback === 'error') assertMptcpAvailable(ns);
  } catch (e) {
    ns?.close();
    throw e;
  }
  const sock = new net.Socket(netOpts as net.SocketConstructorOpts);
  if (netOpts.timeout) sock.setTimeout(netOpts.timeout);
  sock.connect({ ...netOpts, autoSelectFamily: false } as net.TcpSocketConnectOpts, connectListener);
  // connect() has made the handle; it binds and connects only on a later tick.
  const release = (): void => ns?.close();
  configureHandle((sock as unknown as { _handle: unknown })._handle, { netns: ns, fallback, target: sock, onOpened: release });
  if (ns) sock.once('close', release);
  return sock;
}

/** {@link connect} under node:net's other name. */
export const createConnection = connect;
