// events.forSocket: one connection's events out of a namespace's MptcpEvents, joined by the token the
// socket's own mptcp_info reports; another connection's events in the same namespace stay out.

import { afterAll, beforeAll, describe, expect } from 'vitest';
import { connect, createServer, mptcpInfo } from '../src/net/index.js';
import { MptcpEvents, type MptcpEvent } from '../src/mptcp/events/events.js';
import { ValidationError } from '../src/netlink/core/errors.js';
import { kernelIt, scaled, waitFor } from './helpers/netns.js';
import { makeTopology, type Topology } from './helpers/topology.js';
import { connected, echo, listening, pythonPeer } from './helpers/net.js';

const it = kernelIt();
let t: Topology;

beforeAll(async () => {
  t = await makeTopology('netev');
}, scaled(30_000));
afterAll(async () => {
  await t?.destroy();
});

describe('events.forSocket', () => {
  it('delivers the join and the close of this connection only', async () => {
    for (const ns of [t.client, t.server]) await ns.ip('mptcp', 'limits', 'set', 'subflows', '2', 'add_addr_accepted', '2');
    const server = createServer({ netns: t.server.name }, (c) => c.pipe(c));
    const events = await MptcpEvents.open({ netns: t.client.name });
    try {
      const port = await listening(server, t.paths[0].server);
      const [mine, other] = [0, 1].map(() => connect({ host: t.paths[0].server, port, netns: t.client.name }));
      await Promise.all([connected(mine), connected(other)]);
      await Promise.all([echo(mine, 'a'), echo(other, 'b')]);
      const view = events.forSocket(mine);
      expect(view.token).toBe(mptcpInfo(mine)?.token);
      const seen: MptcpEvent[] = [];
      view.on('event', (e) => seen.push(e));
      const all: MptcpEvent[] = [];
      events.on('event', (e) => all.push(e));
      // A new subflow endpoint makes the in-kernel PM open a subflow on every connection.
      await t.client.ip('mptcp', 'endpoint', 'add', t.paths[1].client, 'dev', t.paths[1].ifname, 'subflow');
      await waitFor(() => all.filter((e) => e.type === 'subEstablished').length === 2, { timeoutMs: 10_000, what: 'two joins' });
      mine.destroy();
      await waitFor(() => view.closed, { timeoutMs: 10_000, what: 'the closed event of the connection' });
      expect(seen.map((e) => e.type)).toEqual(['subEstablished', 'closed']);
      expect(seen.every((e) => 'token' in e && e.token === view.token)).toBe(true);
      expect(seen[0]).toMatchObject({ localAddress: t.paths[1].client, remoteAddress: t.paths[0].server });
      other.destroy();
    } finally {
      events.close();
      server.close();
      await t.client.ip('mptcp', 'endpoint', 'flush');
    }
  });

  it('refuses a socket that is not MPTCP', async () => {
    const plain = pythonPeer(t.server, 'server', t.paths[0].server);
    const events = await MptcpEvents.open({ netns: t.client.name });
    try {
      const [, port] = await plain.waitLine(/^READY (\d+)/);
      const sock = connect({ host: t.paths[0].server, port: Number(port), netns: t.client.name });
      await connected(sock);
      expect(() => events.forSocket(sock)).toThrow(ValidationError);
      sock.destroy();
    } finally {
      events.close();
      plain.kill();
    }
  });
});
