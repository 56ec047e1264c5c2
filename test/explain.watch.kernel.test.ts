// Kernel tests of `explain` for the causes it sees only while it watches or from the connection's own
// flags: an address the peer announces past the limit, fallback on each side (a path that strips
// TCP option 30), the MPTCP blackhole pause (6.12+), and a join reset by the peer with its reason.

import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect } from 'vitest';
import { explainConnections, type ConnectionExplanation, type ExplainOptions } from '../src/index.js';
import { findSubscribers } from '../src/doctor/events-listeners.js';
import { GenlSocket } from '../src/netlink/genl/socket.js';
import { Netns } from '../src/os/netns.js';
import { parseMptcpCounters, readNetstat } from '../src/mptcp/proc/counters.js';
import { kernelIt, scaled, waitFor, type TestNetns } from './helpers/netns.js';
import { makeTopology, type Peer, type Topology } from './helpers/topology.js';

const it = kernelIt();
const MAIN = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const PORT = 6500;
let t: Topology;
afterEach(async () => {
  await t?.destroy();
});

/** Two links, limits for two subflows on both ends, a default route per link on the client. */
async function start(tag: string, clientLimits = ['subflows', '2', 'add_addr_accepted', '2']): Promise<Peer> {
  t = await makeTopology(tag);
  const [p1, p2] = t.paths;
  await t.client.ip('mptcp', 'limits', 'set', ...clientLimits);
  await t.server.ip('mptcp', 'limits', 'set', 'subflows', '2', 'add_addr_accepted', '2');
  await t.client.ip('route', 'add', 'default', 'via', p1.server, 'dev', p1.ifname, 'metric', '100');
  await t.client.ip('route', 'add', 'default', 'via', p2.server, 'dev', p2.ifname, 'metric', '200');
  const srv = await t.peer(t.server, ['server', '--addr', '0.0.0.0', '--port', String(PORT), '--echo', '--count', '0']);
  await srv.waitLine(/^READY/);
  return srv;
}

/** A held client connection that sent 100 bytes (echoed back); resolves with its local port. */
async function connect(): Promise<number> {
  const cli = await t.peer(t.client, ['client', '--addr', t.paths[0].server, '--port', String(PORT), '--hold', '--send', '100']);
  return Number((await cli.waitLine(/^CONNECTED \S+ (\d+)/))[1]);
}

async function explainAt(ns: TestNetns, port: number, opts: ExplainOptions = { windowMs: 0 }): Promise<ConnectionExplanation | undefined> {
  const all = await explainConnections({ netns: ns.name, ...opts });
  return all.find((c) => c.have.some((h) => h.localPort === port || h.remotePort === port));
}

const counter = (ns: TestNetns, name: string): number => {
  const h = Netns.open(ns.name);
  try {
    return parseMptcpCounters(readNetstat(h))[name] ?? 0;
  } finally {
    h.close();
  }
};

/** Runs explain with a window in `ns`, does `act` once explain's event subscription is open, returns what explain found. */
async function explainWhile(ns: TestNetns, act: () => Promise<void>, windowMs = 4000): Promise<ConnectionExplanation[]> {
  const genl = await GenlSocket.open('mptcp_pm', { netns: ns.name });
  const group = genl.groups.get('mptcp_pm_events') as number;
  genl.close();
  const h = Netns.open(ns.name);
  const id = h.id;
  h.close();
  const before = findSubscribers(group).byNamespace.get(id) ?? 0;
  const running = explainConnections({ netns: ns.name, windowMs: scaled(windowMs) });
  await waitFor(() => (findSubscribers(group).byNamespace.get(id) ?? 0) > before, { timeoutMs: 5000, what: 'explain watching the events' });
  await act();
  return running;
}

describe('explain: causes seen while watching', () => {
  it('limits-add-addr-accepted: the peer announces an address the client may not accept; raised, the next connection uses it', async () => {
    await start('explainaa', ['subflows', '2', 'add_addr_accepted', '0']);
    const port = await connect();
    const found = await explainWhile(t.client, async () => { await t.server.ip('mptcp', 'endpoint', 'add', '198.51.100.2', 'dev', 'path2', 'signal'); });
    const c = found.find((x) => x.have.some((h) => h.localPort === port));
    const m = c?.missing.find((x) => x.cause === 'limits-add-addr-accepted');
    expect(m).toMatchObject({ local: '192.0.2.1', remote: '198.51.100.2' });
    expect(m?.evidence).toMatch(/^the peer announced 198\.51\.100\.2 \(id \d+\) in the last [\d.]+ s and this connection has accepted 0 of the 0 announced address\(es\) it may \(limits: add_addr_accepted 0\); AddAddr \+1/);
    expect(c?.expected).toContainEqual(expect.objectContaining({ remote: '198.51.100.2', flags: ['announced'], present: false }));
    // The fix, for connections made from now on: one to the announced address follows.
    const fix = (m?.fix ?? '').replace(/\s+#.*$/, '');
    expect(fix).toBe(`ip -n ${t.client.name} mptcp limits set subflows 2 add_addr_accepted 1`);
    await t.client.ip(...fix.split(' ').slice(3));
    const next = await connect();
    await waitFor(async () => (await explainAt(t.client, next))?.have.some((h) => h.remote === '198.51.100.2' && h.state === 'established'),
      { timeoutMs: 10_000, what: 'a subflow to the announced address' });
  });

  it('join-refused: a join the peer resets while explain watches is named with the reset reason; counters only as growth', async () => {
    await start('explainrr');
    await t.client.ip('mptcp', 'endpoint', 'add', '198.51.100.1', 'id', '2', 'dev', 'path2', 'subflow');
    const port = await connect();
    await waitFor(async () => (await explainAt(t.client, port))?.have.length === 2, { timeoutMs: 10_000, what: 'two subflows' });
    const found = await explainWhile(t.client, async () => {
      await t.server.exec('ss', ['-K', '-t', 'dst', '198.51.100.1']);
    });
    const m = found.find((x) => x.have.some((h) => h.localPort === port))?.missing.find((x) => x.cause === 'join-refused');
    expect(m?.local).toBe('198.51.100.1');
    expect(m?.evidence).toMatch(/; subflow 198\.51\.100\.1:\d+ -> 192\.0\.2\.2:6500 closed \(ECONNRESET, reset by the peer: MP_TCPRST reason eunspec \(0\)\); /);
    expect(m?.evidence).toMatch(/MPRstRx \+1 in the last [\d.]+ s: the peer refused or reset the join$/);
    // Watched again with nothing happening: no counter is quoted, only what was not tried meanwhile.
    const later = (await explainAt(t.client, port, { windowMs: 300 }))?.missing.find((x) => x.cause === 'join-refused');
    expect(later?.evidence).toMatch(/; no join from 198\.51\.100\.1 was tried in the last [\d.]+ s \(the in-kernel path manager does not retry\): /);
    expect(later?.evidence).not.toMatch(/MPJoinSynTx|MPRstRx/);
  });

  it('fallback on both sides: a path that strips TCP option 30 from data; without it, new connections keep MPTCP', async () => {
    await start('explainfb');
    await t.client.ip('mptcp', 'endpoint', 'add', '198.51.100.1', 'id', '2', 'dev', 'path2', 'subflow');
    // Data segments towards the server lose their MPTCP options; the handshake keeps them.
    const rule = ['-t', 'mangle', 'PREROUTING', '-p', 'tcp', '--dport', String(PORT), '-m', 'length', '--length', '150:65535', '-j', 'TCPOPTSTRIP', '--strip-options', '30'];
    await t.server.exec('iptables', [rule[0], rule[1], '-A', ...rule.slice(2)]);
    const port = await connect();
    const server = await waitFor(async () => (await explainAt(t.server, port))?.missing.find((x) => x.cause === 'fallback'), { timeoutMs: 10_000, what: 'fallback on the server' });
    expect(server?.evidence).toMatch(/^this side accepted a connection whose SYN asked for MPTCP, then data came without MPTCP options/);
    expect((await explainAt(t.server, port))?.side).toBe('server');
    const client = await waitFor(async () => (await explainAt(t.client, port))?.missing.find((x) => x.cause === 'fallback'), { timeoutMs: 10_000, what: 'fallback on the client' });
    expect(client?.evidence).toMatch(/^this side connected and the handshake carried MP_CAPABLE both ways, then data came without MPTCP options/);
    expect(client?.fix).toContain('nothing on the path may strip TCP option 30; new connections then keep MPTCP');
    await t.server.exec('iptables', [rule[0], rule[1], '-D', ...rule.slice(2)]);
    const next = await connect();
    const c = await waitFor(async () => {
      const x = await explainAt(t.client, next);
      return x?.have.length === 2 && x.missing.length === 0 ? x : undefined;
    }, { timeoutMs: 10_000, what: 'a new MPTCP connection with both subflows' });
    expect(c?.side).toBe('client');
  });

  it('fallback on the client: the peer\'s SYN-ACK loses MP_CAPABLE on the way', async () => {
    await start('explainfs');
    await t.server.exec('iptables', ['-t', 'mangle', '-A', 'OUTPUT', '-p', 'tcp', '--sport', String(PORT), '-j', 'TCPOPTSTRIP', '--strip-options', '30']);
    const port = await connect();
    const m = await waitFor(async () => (await explainAt(t.client, port))?.missing.find((x) => x.cause === 'fallback'), { timeoutMs: 10_000, what: 'fallback on the client' });
    expect(m?.evidence).toBe('this side connected and the peer\'s SYN-ACK carried no MP_CAPABLE: the peer does not speak MPTCP, or the path strips TCP option 30');
  });

  it('fallback on the server: a plain TCP client on the MPTCP listener is listed with no token; the MPTCP one beside it is not', async () => {
    await start('explainpt');
    const mptcp = await connect();
    const tcp = spawn('ip', ['netns', 'exec', t.client.name, 'python3', '-c',
      `import socket,sys; s=socket.create_connection(("${t.paths[0].server}", ${PORT})); s.sendall(b"x"*100); print(s.getsockname()[1], flush=True); sys.stdin.read()`]);
    try {
      let out = '';
      tcp.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const port = Number(await waitFor(() => /^(\d+)\n/.exec(out)?.[1], { timeoutMs: 10_000, what: 'a plain TCP client' }));
      const c = await waitFor(() => explainAt(t.server, port), { timeoutMs: 10_000, what: 'the plain TCP connection explained' });
      expect(c).toMatchObject({ token: '', side: 'server', local: '192.0.2.2', remote: '192.0.2.1' });
      expect(c?.missing).toEqual([expect.objectContaining({ cause: 'fallback' })]);
      expect(c?.missing[0].evidence).toMatch(/^accepted on the MPTCP listener 0\.0\.0\.0:6500, yet a plain TCP connection with no MPTCP socket: the client's SYN did not ask for MPTCP/);
      const other = await explainAt(t.server, mptcp);
      expect(other?.token).toMatch(/^[0-9a-f]{8}$/);
      expect(other?.missing).toEqual([]);
      const text = await new Promise<string>((resolve) => {
        execFile(process.execPath, [MAIN, '-n', t.server.name, 'explain', 'window', '0'], { encoding: 'utf8', timeout: 15_000 }, (_e, o) => resolve(o));
      });
      expect(text).toMatch(new RegExp(`^plain TCP 192\\.0\\.2\\.2 -> 192\\.0\\.2\\.1 \\(server, kernel path manager\\)\\n  has     192\\.0\\.2\\.2:6500 -> 192\\.0\\.2\\.1:${port} established\\n  MISSING 192\\.0\\.2\\.2 -> 192\\.0\\.2\\.1: fallback$`, 'm'));
    } finally {
      tcp.kill();
    }
  });

  it('blackhole: MPTCP SYNs dropped on the path pause MPTCP; writing the sysctl, as printed, ends the pause', async () => {
    await start('explainbh');
    await t.client.ip('mptcp', 'endpoint', 'add', '198.51.100.1', 'id', '2', 'dev', 'path2', 'subflow');
    const drop = ['INPUT', '-p', 'tcp', '--syn', '-m', 'tcp', '--tcp-option', '30', '-j', 'DROP'];
    await t.server.exec('iptables', ['-A', ...drop]);
    // The kernel falls back after two lost MPTCP SYNs, then pauses MPTCP: try until it counts it.
    let port = 0;
    for (let i = 0; i < 3 && counter(t.client, 'Blackhole') === 0; i++) port = await connect();
    expect(counter(t.client, 'Blackhole')).toBeGreaterThan(0);
    const m = await waitFor(async () => (await explainAt(t.client, port))?.missing.find((x) => x.cause === 'blackhole'), { timeoutMs: 10_000, what: 'blackhole named' });
    expect(m?.evidence).toMatch(/^this side connected without MP_CAPABLE in the end: MPTCP SYNs were lost on the path \(or were before\), so this namespace opens connections without MPTCP for a while \(net\.mptcp\.blackhole_timeout \d+ s\)/);
    // The path is repaired, yet new connections stay plain TCP until the pause ends.
    await t.server.exec('iptables', ['-D', ...drop]);
    const disabled = counter(t.client, 'MPCapableSYNTXDisabled');
    await connect();
    expect(counter(t.client, 'MPCapableSYNTXDisabled')).toBe(disabled + 1);
    await t.client.exec('sh', ['-c', (m?.fix ?? '').replace(/\s+#.*$/, '')]);
    const next = await connect();
    await waitFor(async () => {
      const x = await explainAt(t.client, next);
      return x?.have.length === 2 && x.missing.length === 0;
    }, { timeoutMs: 10_000, what: 'a new MPTCP connection with both subflows' });
  });
});
