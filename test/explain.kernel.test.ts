// Kernel tests of `explain` on a two-link client/server: each cause made on purpose, named with its
// evidence, and — where the fix is on this side — the printed fix, pasted, makes the missing subflow appear.

import { spawn } from 'node:child_process';
import { afterAll, afterEach, describe, expect } from 'vitest';
import { cli, pasteShell } from './helpers/cli.js';
import { explainConnections, type ConnectionExplanation, type MissingSubflow } from '../src/index.js';
import { kernelIt, waitFor } from './helpers/netns.js';
import { makeTopology, type Peer, type Topology } from './helpers/topology.js';

const it = kernelIt();
const { sh, remove } = pasteShell();
afterAll(remove);

const PORT = 6400;
let t: Topology;
afterEach(async () => {
  await t?.destroy();
});

/** Limits and client routes that make a join from path2 work; each test then breaks one thing. */
async function start(tag: string, opts: { endpoint?: string[] } = {}): Promise<Peer> {
  t = await makeTopology(tag);
  const [p1, p2] = t.paths;
  for (const ns of [t.client, t.server]) await ns.ip('mptcp', 'limits', 'set', 'subflows', '2', 'add_addr_accepted', '2');
  await t.client.ip('route', 'add', 'default', 'via', p1.server, 'dev', p1.ifname, 'metric', '100');
  await t.client.ip('route', 'add', 'default', 'via', p2.server, 'dev', p2.ifname, 'metric', '200');
  if (opts.endpoint) await t.client.ip('mptcp', 'endpoint', 'add', p2.client, 'id', '2', ...opts.endpoint);
  const srv = await t.peer(t.server, ['server', '--addr', '0.0.0.0', '--port', String(PORT), '--echo', '--count', '0']);
  await srv.waitLine(/^READY/);
  return srv;
}

async function connect(send = true): Promise<Peer> {
  const cli = await t.peer(t.client, ['client', '--addr', t.paths[0].server, '--port', String(PORT), '--hold', ...(send ? ['--send', '100'] : [])]);
  current = (await cli.waitLine(/^CONNECTED \S+ (\d+)/))[1];
  return cli;
}
/** Local port of the connection the test looks at (the latest one made). */
let current = '';

const explainClient = async (): Promise<ConnectionExplanation> => {
  const all = await explainConnections({ netns: t.client.name, windowMs: 0 });
  const port = Number(current);
  const c = all.find((x) => x.remote === t.paths[0].server && x.have.some((h) => h.localPort === port));
  expect(c).toBeDefined();
  return c as ConnectionExplanation;
};

/** Waits until explain names `cause` for the path2 address, and returns it. */
async function named(cause: string): Promise<MissingSubflow> {
  const m = await waitFor(async () => (await explainClient()).missing.find((x) => x.cause === cause), { timeoutMs: 10_000, what: `explain to name ${cause}` });
  return m as MissingSubflow;
}

/** Pastes the fix and waits for the subflow from path2's address to be there, with nothing missing. */
async function fixed(m: MissingSubflow, edit = (f: string): string => f): Promise<void> {
  await sh(edit(m.fix));
  const c = await waitFor(async () => {
    const x = await explainClient();
    return x.have.some((s) => s.local === t.paths[1].client && s.state === 'established') && x.missing.length === 0 ? x : undefined;
  }, { timeoutMs: 10_000, what: 'the subflow from the second link, nothing missing' });
  expect(c?.expected.find((e) => e.local === t.paths[1].client)?.present).toBe(true);
}

describe('explain', () => {
  it('a healthy connection: the subflow its endpoint calls for is present, nothing missing; the command exits 0', async () => {
    await start('exh', { endpoint: ['dev', 'path2', 'subflow'] });
    await connect();
    await waitFor(async () => (await explainClient()).have.length === 2, { timeoutMs: 10_000, what: 'two subflows' });
    const c = await explainClient();
    expect(c).toMatchObject({ side: 'client', pathManager: 'kernel', missing: [] });
    expect(c.expected).toEqual([expect.objectContaining({ local: '198.51.100.1', remote: '192.0.2.2', endpointId: 2, present: true })]);
    // Many callers at once: each gets what one caller alone gets.
    const shape = (all: ConnectionExplanation[]): unknown => all.map((x) => ({
      token: x.token, side: x.side, expected: x.expected, missing: x.missing.map((m) => m.cause),
      have: x.have.map((h) => `${h.local}:${h.localPort}`).sort(),
    }));
    const alone = shape(await explainConnections({ netns: t.client.name }));
    const many = await Promise.all(Array.from({ length: 30 }, () => explainConnections({ netns: t.client.name })));
    for (const r of many) expect(shape(r)).toEqual(alone);
    const run = await cli(['-n', t.client.name, 'explain']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^token [0-9a-f]{8} 192\.0\.2\.1 -> 192\.0\.2\.2 \(client, kernel path manager\)$/m);
  });

  it('limits-subflows: the connection\'s limit is reached; the fix raises it and re-announces the endpoint', async () => {
    await start('exl', { endpoint: ['dev', 'path2', 'subflow'] });
    await t.client.ip('mptcp', 'limits', 'set', 'subflows', '0', 'add_addr_accepted', '2');
    await connect();
    const m = await named('limits-subflows');
    expect(m).toMatchObject({ local: '198.51.100.1', remote: '192.0.2.2' });
    expect(m.evidence).toContain('0 additional subflow(s) and its limit is 0');
    await fixed(m);
  });

  it('no-endpoint: the second address has no endpoint; adding one opens the subflow on the live connection', async () => {
    await start('exn');
    await connect();
    const m = await named('no-endpoint');
    expect(m.evidence).toBe('198.51.100.1 on path2 is usable but no endpoint names it');
    await fixed(m);
  });

  it('link-down: the endpoint\'s link is down; up and re-announced, the subflow comes', async () => {
    await start('exd', { endpoint: ['dev', 'path2', 'subflow'] });
    await t.client.ip('link', 'set', 'path2', 'down');
    await connect();
    const m = await named('link-down');
    expect(m.evidence).toBe('198.51.100.1 is on path2, which is down');
    await fixed(m);
  });

  it('address-gone: the endpoint\'s address was removed; the fix asks for its prefix length', async () => {
    await start('exa', { endpoint: ['dev', 'path2', 'subflow'] });
    await t.client.ip('addr', 'del', '198.51.100.1/24', 'dev', 'path2');
    await connect();
    const m = await named('address-gone');
    expect(m.fix).toMatch(/addr add 198\.51\.100\.1\/PREFIXLEN dev path2 .*# replace PREFIXLEN/);
    await t.client.ip('route', 'add', 'default', 'via', '198.51.100.2', 'dev', 'path2', 'metric', '200').catch(() => undefined);
    await fixed(m, (f) => `${f.replace('PREFIXLEN', '24')} && ip -n ${t.client.name} route replace default via 198.51.100.2 dev path2 metric 200`);
  });

  it('no-source-route: packets from the endpoint leave by the other link and the peer drops them (rp_filter)', async () => {
    await start('exr', { endpoint: ['subflow'] });
    await t.server.exec('sysctl', ['-qw', 'net.ipv4.conf.all.rp_filter=1']);
    await connect();
    const m = await named('no-source-route');
    expect(m.evidence).toBe('a packet from 198.51.100.1 to 192.0.2.2 leaves by path1 (ip route get 192.0.2.2 from 198.51.100.1), but 198.51.100.1 is on path2');
    expect(m.fix).toContain('route add 198.51.100.1 dev path2 via 198.51.100.2 && ');
    await fixed(m);
  });

  it('join-refused: the peer refuses joins (its subflows limit is 0); with the peer fixed, the next connection has it', async () => {
    await start('exj', { endpoint: ['dev', 'path2', 'subflow'] });
    await t.server.ip('mptcp', 'limits', 'set', 'subflows', '0', 'add_addr_accepted', '0');
    await connect();
    const m = await named('join-refused');
    expect(m.evidence).toBe('address, link, limit and route are right, yet there is no subflow from 198.51.100.1: the peer refused or reset the join');
    expect(m.fix).toMatch(/^# on the peer: ip mptcp limits set subflows 2/);
    await t.server.ip('mptcp', 'limits', 'set', 'subflows', '2', 'add_addr_accepted', '2');
    await connect();
    await fixed(m);
  });

  it('join-in-progress: no data has flowed, so the connection is not fully established yet', async () => {
    await start('exp', { endpoint: ['dev', 'path2', 'subflow'] });
    const cli = await connect(false);
    const m = await named('join-in-progress');
    expect(m.evidence).toContain('not fully established');
    cli.send('send 100');
    await waitFor(async () => (await explainClient()).missing.length === 0, { timeoutMs: 10_000, what: 'the join once data flowed' });
  });

  it('userspace-pm-unmanaged: userspace path manager and nobody managing it', async () => {
    await start('exu', { endpoint: ['dev', 'path2', 'subflow'] });
    await t.client.exec('sysctl', ['-qw', 'net.mptcp.path_manager=userspace']);
    await connect();
    const m = await named('userspace-pm-unmanaged');
    expect(m).toMatchObject({ local: '198.51.100.1', remote: '192.0.2.2' });
    expect(m.evidence).toContain('no program in this namespace listens to mptcp_pm_events');
  });

  it('fallback: the peer does not speak MPTCP, said on the client side', async () => {
    t = await makeTopology('exf');
    const tcp = spawn('ip', ['netns', 'exec', t.server.name, 'python3', '-c',
      'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0",6401)); s.listen(); print("up", flush=True); c,_=s.accept(); sys.stdin.read()']);
    try {
      let up = '';
      tcp.stdout.on('data', (d: Buffer) => (up += d.toString()));
      await waitFor(() => up.includes('up'), { timeoutMs: 10_000, what: 'a plain TCP server' });
      const cli = await t.peer(t.client, ['client', '--addr', t.paths[0].server, '--port', '6401', '--hold']);
      current = (await cli.waitLine(/^CONNECTED \S+ (\d+)/))[1];
      const m = await named('fallback');
      expect(m.evidence).toBe('this side connected and the peer\'s SYN-ACK carried no MP_CAPABLE: the peer does not speak MPTCP, or the path strips TCP option 30');
    } finally {
      tcp.kill();
    }
  });
});
