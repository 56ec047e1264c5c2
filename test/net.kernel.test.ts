// mptcp-pm/net against the real kernel, both ends in namespaces joined by two veth paths: our server
// and client over IPv4 and IPv6, against python3 peers (MPTCP, and plain TCP under `mptcpize run`),
// a plain-TCP peer, and the second subflow as the socket, MptcpDiag and `ss` each see it.

import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
import type { Server, Socket } from 'node:net';
import { connect, createServer, isMptcp, mptcpInfo, subflows, type SocketSubflow } from '../src/net/index.js';
import { MptcpDiag } from '../src/mptcp/diag/diag.js';
import { TIME_SCALE, kernelIt, scaled, waitFor } from './helpers/netns.js';
import { makeTopology, type Topology } from './helpers/topology.js';
import { connected, echo, listening, pythonPeer, type PyPeer } from './helpers/net.js';

const it = kernelIt();
let t: Topology;
const open: (Socket | Server)[] = [];
const peers: PyPeer[] = [];

beforeAll(async () => {
  t = await makeTopology('net');
}, scaled(30_000));
afterEach(() => {
  for (const s of open.splice(0)) 'destroy' in s ? s.destroy() : s.close();
  for (const p of peers.splice(0)) p.kill();
});
afterAll(async () => {
  await t?.destroy();
});

function track<T extends Socket | Server>(s: T): T {
  open.push(s);
  return s;
}

/** Our echo server in the server namespace; resolves with it, its port and its accepted sockets. */
async function echoServer(host: string): Promise<{ port: number; accepted: Socket[] }> {
  const accepted: Socket[] = [];
  const server = track(createServer({ netns: t.server.name }, (c) => {
    accepted.push(track(c));
    c.pipe(c);
  }));
  return { port: await listening(server, host), accepted };
}

describe('mptcp-pm/net between two namespaces', () => {
  for (const v of [4, 6] as const) {
    it(`our server and our client speak MPTCP over IPv${v}, and each side reads its own token`, async () => {
      const [host, any] = v === 4 ? [t.paths[0].server, '0.0.0.0'] : [t.paths[0].server6, '::'];
      const { port, accepted } = await echoServer(any);
      const sock = track(connect({ host, port, netns: t.client.name }));
      await connected(sock);
      expect(await echo(sock, 'hello over mptcp')).toBe('hello over mptcp');
      expect(isMptcp(sock)).toBe(true);
      expect(isMptcp(accepted[0])).toBe(true);
      const info = mptcpInfo(sock);
      expect(info?.fallback).toBe(false);
      expect(info?.token).toBeGreaterThan(0);
      // The client namespace's sock_diag knows the connection by the same token and ports.
      const diag = await MptcpDiag.open({ netns: t.client.name });
      try {
        const [conn] = await diag.connections({ token: info?.token });
        expect(conn?.local.port).toBe(sock.localPort);
        expect(conn?.remote).toEqual({ address: host, port });
      } finally {
        diag.close();
      }
      const [sub] = subflows(sock);
      expect(sub.local).toEqual({ address: sock.localAddress, port: sock.localPort });
      expect(sub.remote).toEqual({ address: host, port });
      expect(sub.tcpInfo.state).toBe(1);
    });
  }

  it('a second subflow appears in subflows(sock) and equals what MptcpDiag and ss show for the token', async () => {
    for (const ns of [t.client, t.server]) await ns.ip('mptcp', 'limits', 'set', 'subflows', '2', 'add_addr_accepted', '2');
    await t.client.ip('mptcp', 'endpoint', 'add', t.paths[1].client, 'dev', t.paths[1].ifname, 'subflow');
    try {
      const { port } = await echoServer('0.0.0.0');
      const sock = track(connect({ host: t.paths[0].server, port, netns: t.client.name }));
      await connected(sock);
      await echo(sock, 'x');
      const subs: SocketSubflow[] = await waitFor(() => (subflows(sock).length === 2 ? subflows(sock) : undefined) as SocketSubflow[], { timeoutMs: 10_000, what: 'the second subflow' });
      const token = mptcpInfo(sock)?.token ?? 0;
      expect(mptcpInfo(sock)?.subflows).toBe(1);
      const key = (s: { local: { address: string; port: number }; remote: { address: string; port: number } }): string =>
        `${s.local.address}:${s.local.port}>${s.remote.address}:${s.remote.port}`;
      const mine = subs.map(key).sort();
      expect(mine.some((k) => k.startsWith(`${t.paths[1].client}:`))).toBe(true);
      const diag = await MptcpDiag.open({ netns: t.client.name });
      try {
        const [conn] = await diag.connections({ token });
        expect(conn.subflows.map(key).sort()).toEqual(mine);
      } finally {
        diag.close();
      }
      // ss: subflow lines carry token:<remote>(id)/<local>(id); the local one is this connection's.
      const lines = (await t.client.exec('ss', ['-tniH'])).split('\n');
      const hex = token.toString(16).padStart(4, '0');
      const fromSs: string[] = [];
      for (let i = 0; i + 1 < lines.length; i++) {
        if (/^\s/.test(lines[i]) || !new RegExp(`token:[0-9a-f]+\\(id:\\d+\\)/${hex}\\(`).test(lines[i + 1])) continue;
        const [, , , local, peer] = lines[i].trim().split(/\s+/);
        fromSs.push(`${local.replace(/%[^:]+/, '')}>${peer}`);
      }
      expect(fromSs.sort()).toEqual(mine);
      const msk = (await t.client.exec('ss', ['-MniH'])).includes(`token:${token.toString(16)}`);
      expect(msk).toBe(true);
      if (subs[0].id !== undefined) expect(subs.map((s) => s.id).sort()).toEqual([1, 2]);
    } finally {
      await t.client.ip('mptcp', 'endpoint', 'flush');
    }
  });

  it('our client talks MPTCP to a python3 IPPROTO_MPTCP server and to a TCP server under mptcpize run', async () => {
    const mptcpPeer = await t.peer(t.server, ['server', '--addr', t.paths[0].server, '--echo']);
    const [, p1] = await mptcpPeer.waitLine(/^READY (\d+)/);
    const a = track(connect({ host: t.paths[0].server, port: Number(p1), netns: t.client.name }));
    await connected(a);
    expect(await echo(a, 'to python')).toBe('to python');
    expect(isMptcp(a)).toBe(true);
    const shim = pythonPeer(t.server, 'server', t.paths[0].server6, { mptcpize: true });
    peers.push(shim);
    const [, p2] = await shim.waitLine(/^READY (\d+)/);
    const b = track(connect({ host: t.paths[0].server6, port: Number(p2), netns: t.client.name }));
    await connected(b);
    expect(await echo(b, 'to mptcpize')).toBe('to mptcpize');
    expect(isMptcp(b)).toBe(true);
  });

  it('python3 MPTCP clients and mptcpize-run TCP clients reach our server over MPTCP', async () => {
    const { port, accepted } = await echoServer('::');
    const py = await t.peer(t.client, ['client', '--addr', t.paths[0].server, '--port', String(port), '--hold']);
    await py.waitLine(/^CONNECTED/);
    const shim = pythonPeer(t.client, 'client', t.paths[1].server6, { port, mptcpize: true });
    peers.push(shim);
    expect((await shim.waitLine(/^GOT (\w+)/))[1]).toBe('ping');
    await waitFor(() => accepted.length === 2, { timeoutMs: 5000, what: 'two accepted connections' });
    expect(accepted.map((s) => isMptcp(s))).toEqual([true, true]);
    py.send('close');
  });

  it('a plain-TCP peer gives a working TCP connection: isMptcp false, mptcpInfo null, one path', async () => {
    const plain = pythonPeer(t.server, 'server', t.paths[0].server);
    peers.push(plain);
    const [, port] = await plain.waitLine(/^READY (\d+)/);
    const sock = track(connect({ host: t.paths[0].server, port: Number(port), netns: t.client.name }));
    await connected(sock);
    expect(await echo(sock, 'plain')).toBe('plain');
    expect(isMptcp(sock)).toBe(false);
    expect(mptcpInfo(sock)).toBeNull();
    const subs = subflows(sock);
    expect(subs).toHaveLength(1);
    expect(subs[0].id).toBeUndefined();
    expect(subs[0].remote).toEqual({ address: t.paths[0].server, port: Number(port) });
  });

  // 1,000 on the host; 200 under emulation (the kernel tier, TIME_SCALE > 1), where each costs 10–15 times more.
  const n = TIME_SCALE > 1 ? 200 : 1000;
  it(`${n} concurrent connections are all MPTCP and all echo`, async () => {
    const { port, accepted } = await echoServer('0.0.0.0');
    const socks = Array.from({ length: n }, () => track(connect({ host: t.paths[0].server, port, netns: t.client.name })));
    await Promise.all(socks.map((s) => connected(s, 20_000)));
    const replies = await Promise.all(socks.map((s, i) => echo(s, `conn-${i}`, 20_000)));
    expect(replies).toEqual(socks.map((_, i) => `conn-${i}`));
    expect(socks.filter((s) => isMptcp(s))).toHaveLength(n);
    expect(accepted).toHaveLength(n);
    const diag = await MptcpDiag.open({ netns: t.server.name });
    try {
      const tokens = new Set(accepted.map((s) => mptcpInfo(s)?.token));
      const seen = (await diag.connections()).filter((c) => tokens.has(c.token));
      expect(seen).toHaveLength(n);
    } finally {
      diag.close();
    }
  }, scaled(60_000));
});
