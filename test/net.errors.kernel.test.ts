// mptcp-pm/net when things go wrong or get big: MPTCP disabled in the namespace (TCP and a warning, or
// the typed error), bad options, no fd left behind after refused / unreachable / reset / destroyed
// connections, and 1 GiB echoed through one connection and verified.

import { afterAll, beforeAll, describe, expect } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import {
  MptcpFallbackWarning, MptcpUnavailableError, ValidationError, connect, createServer, isMptcp,
} from '../src/net/index.js';
import { NetnsError } from '../src/os/netns.js';
import { TIME_SCALE, kernelIt, scaled, waitFor } from './helpers/netns.js';
import { makeTopology, type Topology } from './helpers/topology.js';
import { connected, echo, fdCount, listening } from './helpers/net.js';

const it = kernelIt();
let t: Topology;

beforeAll(async () => {
  t = await makeTopology('neterr');
}, scaled(30_000));
afterAll(async () => {
  await t?.destroy();
});

/** Resolves with the error `sock` fails with (rejects if it connects). */
function failure(sock: Socket, ms = 10_000): Promise<NodeJS.ErrnoException> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no error in time')), scaled(ms));
    sock.once('error', (e) => {
      clearTimeout(timer);
      resolve(e);
    });
    sock.once('connect', () => reject(new Error('connected unexpectedly')));
  });
}

describe('mptcp-pm/net fallback and errors', () => {
  it('with net.mptcp.enabled=0 a client and a server get TCP and a warning, or the typed error', async () => {
    await t.server.exec('sysctl', ['-qw', 'net.mptcp.enabled=0']);
    await t.client.exec('sysctl', ['-qw', 'net.mptcp.enabled=0']);
    try {
      const server = createServer({ netns: t.server.name }, (c) => c.pipe(c));
      const serverWarning = once(server, 'warning');
      const port = await listening(server, t.paths[0].server);
      const sock = connect({ host: t.paths[0].server, port, netns: t.client.name });
      const clientWarning = once(sock, 'warning');
      await connected(sock);
      expect(await echo(sock, 'tcp')).toBe('tcp');
      expect(isMptcp(sock)).toBe(false);
      for (const [w] of [await serverWarning, await clientWarning]) {
        expect(w).toBeInstanceOf(MptcpFallbackWarning);
        expect((w as MptcpFallbackWarning).reason).toBe('disabled');
        expect((w as Error).message).toContain('net.mptcp.enabled is 0');
      }
      sock.destroy();
      server.close();
      const err = (() => {
        try {
          connect({ host: t.paths[0].server, port, netns: t.client.name, fallback: 'error' });
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(MptcpUnavailableError);
      expect((err as MptcpUnavailableError).reason).toBe('disabled');
      expect(() => createServer({ netns: t.server.name, fallback: 'error' })).toThrow(MptcpUnavailableError);
    } finally {
      await t.server.exec('sysctl', ['-qw', 'net.mptcp.enabled=1']);
      await t.client.exec('sysctl', ['-qw', 'net.mptcp.enabled=1']);
    }
  });

  it('bad options are refused naming the field before any socket exists', () => {
    expect(() => connect({ host: '192.0.2.2', port: 1, fallback: 'udp' as never })).toThrow(ValidationError);
    expect(() => connect({ host: '192.0.2.2', port: 1, fallback: 'udp' as never })).toThrow(/connect options\.fallback/);
    expect(() => createServer({ netns: '' })).toThrow(/createServer options\.netns/);
    expect(() => connect({ host: '192.0.2.2', port: 1, netns: 'mptcppm-no-such-ns' })).toThrow(NetnsError);
    expect(() => createServer({ netns: 'mptcppm-no-such-ns' })).toThrow(/mptcppm-no-such-ns/);
  });

  it('no fd is left after refused, unreachable, reset, destroyed-mid-connect and missing-namespace connections', async () => {
    const before = fdCount();
    for (let round = 0; round < 3; round++) {
      // Refused: nothing listens on that port.
      const refused = await failure(connect({ host: t.paths[0].server, port: 9, netns: t.client.name }));
      expect(refused.code).toBe('ECONNREFUSED');
      // Unreachable: no route to 203.0.113.0/24 in the client namespace.
      const unreachable = await failure(connect({ host: '203.0.113.9', port: 80, netns: t.client.name }));
      expect(unreachable.code).toBe('ENETUNREACH');
      // Reset by the server right after accepting.
      const server = createServer({ netns: t.server.name }, (c) => c.resetAndDestroy());
      const port = await listening(server, t.paths[0].server);
      const sock = connect({ host: t.paths[0].server, port, netns: t.client.name });
      const reset = new Promise<unknown>((r) => sock.once('error', r));
      await new Promise((r) => sock.once('close', r));
      expect((await reset as NodeJS.ErrnoException).code).toBe('ECONNRESET');
      server.close();
      // Destroyed while its SYN goes unanswered (a silent address on path 1).
      const pending = connect({ host: '192.0.2.99', port: 80, netns: t.client.name });
      pending.on('error', () => undefined);
      await new Promise((r) => setTimeout(r, 20));
      expect(pending.connecting).toBe(true);
      pending.destroy();
      await new Promise((r) => pending.once('close', r));
      // A namespace that does not exist: the error names it, and nothing was opened.
      expect(() => connect({ host: t.paths[0].server, port, netns: 'mptcppm-no-such-ns' })).toThrow(NetnsError);
    }
    await waitFor(() => fdCount() <= before, { timeoutMs: 5000, what: `fd count back to ${before} (now ${fdCount()})` });
  });

  // 1 GiB on the host; under emulation (the kernel tier, TIME_SCALE > 1) 16 MiB, the same check.
  const total = TIME_SCALE > 1 ? 16 << 20 : 1 << 30;
  it(`${total >> 20} MiB echoed through one MPTCP connection arrive intact`, async () => {
    const server = createServer({ netns: t.server.name }, (c) => c.pipe(c));
    const port = await listening(server, t.paths[0].server6);
    const sock = connect({ host: t.paths[0].server6, port, netns: t.client.name });
    await connected(sock);
    expect(isMptcp(sock)).toBe(true);
    const block = randomBytes(1 << 20);
    const sent = createHash('sha256');
    const got = createHash('sha256');
    let received = 0;
    const done = new Promise<void>((resolve, reject) => {
      sock.on('data', (d: Buffer) => {
        got.update(d);
        received += d.length;
        if (received >= total) resolve();
      });
      sock.once('error', reject);
    });
    for (let off = 0, i = 0; off < total; off += block.length, i++) {
      // Each MiB differs (its index in the first bytes), so a lost or repeated block changes the hash.
      const chunk = Buffer.from(block);
      chunk.writeUInt32LE(i, 0);
      sent.update(chunk);
      if (!sock.write(chunk)) await once(sock, 'drain');
    }
    await done;
    expect(received).toBe(total);
    expect(got.digest('hex')).toBe(sent.digest('hex'));
    sock.destroy();
    server.close();
  }, scaled(180_000));
});
