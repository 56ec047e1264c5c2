// Sockets on the fake peer for the socket-layer tests: each test opens what it needs, and every
// socket opened is closed after the test.

import { afterEach } from 'vitest';
import { GenlSocket } from '../../src/netlink/genl/socket.js';
import { FakeGenl, type FakeFamily } from './fake-genl.js';

/**
 * Opens `GenlSocket`s for `family.name` on fresh fake peers announcing `family`, and closes every
 * one after each test. Call at the top level of a test file; `open()` per test. `receiveBuffer` is
 * the fake peer's starting buffer, `receiveBufferBytes` what the socket asks for.
 */
export function fakeSockets(family: FakeFamily): (opts?: { receiveBuffer?: number; receiveBufferBytes?: number; timeoutMs?: number }) => Promise<{ sock: GenlSocket; peer: FakeGenl }> {
  const opened: GenlSocket[] = [];
  afterEach(() => {
    for (const s of opened.splice(0)) s.close();
  });
  return async (opts = {}) => {
    const peer = new FakeGenl(family);
    if (opts.receiveBuffer !== undefined) peer.receiveBuffer = opts.receiveBuffer;
    const sock = await GenlSocket.open(family.name, { transport: peer, timeoutMs: opts.timeoutMs ?? 2000, receiveBufferBytes: opts.receiveBufferBytes });
    opened.push(sock);
    return { sock, peer };
  };
}
