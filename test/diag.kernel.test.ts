// MptcpDiag, counters and status on the real kernel: two namespaces, two paths, MPTCP connections with
// a join over path 2, IPv6, a fallback to plain TCP, listeners; compared with `ss -Mtnai` and `nstat -asz`.

import { spawn } from 'node:child_process';
import { describe, expect } from 'vitest';
import { MptcpDiag } from '../src/mptcp/diag/diag.js';
import { countConnections } from '../src/exporter/connections-source.js';
import type { MptcpConnection } from '../src/mptcp/diag/model.js';
import { parseMptcpCounters, readMptcpCounters } from '../src/mptcp/proc/counters.js';
import { readMptcpStatus } from '../src/mptcp/proc/status.js';
import { kernelIt, waitFor, type TestNetns } from './helpers/netns.js';
import { pathManagerSetting } from './helpers/features.js';
import { parseSs, ssEndpoint } from './helpers/ss.js';
import { testResources, type Topology } from './helpers/topology.js';

const it = kernelIt();
const { cleanup, topology } = testResources();

async function openDiag(ns: TestNetns): Promise<MptcpDiag> {
  const d = await MptcpDiag.open({ netns: ns.name });
  cleanup.push(() => d.close());
  return d;
}

/** Plain-TCP server (no MPTCP) in `ns` on `port`, killed by cleanup. */
async function plainServer(ns: TestNetns, port: number): Promise<void> {
  const code = `import socket,sys,time\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(('0.0.0.0',${port}));s.listen(8);print('READY',flush=True)\nc,_=s.accept();c.recv(10);time.sleep(20)`;
  const child = spawn('ip', ['netns', 'exec', ns.name, 'python3', '-c', code], { stdio: ['ignore', 'pipe', 'ignore'] });
  const gone = new Promise<void>((r) => child.on('close', () => r()));
  cleanup.push(async () => {
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    await gone;
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('plain server did not start')), 10_000);
    child.stdout.on('data', (d: Buffer) => d.toString().includes('READY') && (clearTimeout(timer), resolve()));
  });
}

/** Client connections: MPTCP over path 1 with a join over path 2, IPv6, and a fallback to plain TCP. */
async function scenario(t: Topology): Promise<void> {
  const [p1, p2] = t.paths;
  for (const ns of [t.client, t.server]) await ns.ip('mptcp', 'limits', 'set', 'subflows', '2', 'add_addr_accepted', '2');
  await t.client.ip('mptcp', 'endpoint', 'add', p2.client, 'dev', p2.ifname, 'id', '2', 'subflow');
  const [s4, s6] = await Promise.all([
    t.peer(t.server, ['server', '--addr', '0.0.0.0', '--port', '5000', '--count', '0']),
    t.peer(t.server, ['server', '--addr', '::', '--port', '5006', '--count', '0']),
    plainServer(t.server, 5001),
  ]);
  await Promise.all([s4.waitLine(/^READY/), s6.waitLine(/^READY/)]);
  await Promise.all(([[p1.server, 5000], [p1.server6, 5006], [p1.server, 5001]] as const).map(async ([addr, port]) => {
    const c = await t.peer(t.client, ['client', '--addr', addr, '--port', String(port), '--hold', '--send', '1000']);
    await c.waitLine(/^CONNECTED/);
  }));
}

/** Waits until the client sees its v4 MPTCP connection with both subflows and everything is idle. */
async function settled(d: MptcpDiag): Promise<MptcpConnection[]> {
  return waitFor<MptcpConnection[] | false>(async () => {
    const cs = await d.connections();
    const ok = cs.length === 3 && cs.some((c) => c.subflows.length === 2) && cs.every((c) => c.subflows.every((s) => (s.tcp.unacked ?? 0) === 0));
    return ok ? cs : false;
  }, { timeoutMs: 10_000, what: 'three idle client connections, one with a join' }) as Promise<MptcpConnection[]>;
}

function compareWithSs(conns: MptcpConnection[], ssText: string): void {
  const ss = parseSs(ssText);
  const mptcp = ss.filter((s) => s.netid === 'mptcp' && s.state !== 'LISTEN');
  expect(conns.length).toBe(mptcp.length);
  for (const c of conns) {
    const m = mptcp.find((s) => s.local === ssEndpoint(c.local.address, c.local.port) && s.peer === ssEndpoint(c.remote.address, c.remote.port));
    expect(m, `ss has ${c.local.address}:${c.local.port}`).toBeDefined();
    const f = m!.fields;
    expect(c.token.toString(16)).toBe(f.get('token'));
    expect(c.info.writeSeq.toString(16)).toBe(f.get('write_seq'));
    expect(c.info.sndUna.toString(16)).toBe(f.get('snd_una'));
    expect(c.info.rcvNxt === 0n ? undefined : c.info.rcvNxt.toString(16)).toBe(f.get('rcv_nxt'));
    expect(c.fallback).toBe(f.has('fallback'));
    expect(c.info.subflows === 0 ? undefined : String(c.info.subflows)).toBe(f.get('subflows'));
    const subs = ss.filter((s) => s.netid === 'tcp' && s.fields.get('token')?.endsWith(`/${c.token.toString(16)}(id:`) !== undefined && (s.fields.get('token') ?? '').includes(`/${c.token.toString(16)}(`));
    expect(c.subflows.length).toBe(subs.length);
    for (const sf of c.subflows) {
      const e = subs.find((s) => s.local === ssEndpoint(sf.local.address, sf.local.port, sf.ifindex ? sf.ifname : undefined) && s.peer === ssEndpoint(sf.remote.address, sf.remote.port));
      expect(e, `ss subflow ${sf.local.address}:${sf.local.port}`).toBeDefined();
      expect(e!.fields.get('token')).toBe(`${sf.remoteToken.toString(16).padStart(4, '0')}(id:${sf.remoteId})/${sf.token.toString(16)}(id:${sf.localId})`);
      expect(String(sf.tcp.sndCwnd)).toBe(e!.fields.get('cwnd'));
      expect(sf.tcp.bytesAcked === undefined || sf.tcp.bytesAcked === 0n ? undefined : String(sf.tcp.bytesAcked)).toBe(e!.fields.get('bytes_acked'));
    }
  }
}

describe('MptcpDiag on the real kernel', () => {
  it('every connection, subflow and field agrees with ss -Mtnai on both sides; joins, IPv6 and fallback seen', async () => {
    const t = await topology('dg');
    await scenario(t);
    const client = await openDiag(t.client);
    const conns = await settled(client);
    compareWithSs(conns, await t.client.exec('ss', ['-Mtnai']));
    const joined = conns.find((c) => c.subflows.length === 2) as MptcpConnection;
    expect(joined.subflows.map((s) => [s.localId, s.ifname, s.join.local])).toEqual([[0, 'path1', false], [2, 'path2', true]]);
    expect(conns.find((c) => c.family === 6)?.remote).toEqual({ address: t.paths[0].server6, port: 5006 });
    const fb = conns.find((c) => c.remote.port === 5001) as MptcpConnection;
    expect([fb.fallback, fb.subflows.length, fb.subflows[0].flags]).toEqual([true, 1, 0x82]);
    // The counts read from the state bytes agree with the decoded list (and the list has a join and a fallback).
    const counts = await client.counts();
    expect(counts).toEqual(countConnections(conns));
    expect(counts.fallback).toBe(1);
    // Scrapes may overlap: twenty at once on one reader (and its second socket) each count the same.
    expect(await Promise.all(Array.from({ length: 20 }, () => client.counts()))).toEqual(new Array(20).fill(counts));
    expect(await client.connections({ token: joined.token })).toHaveLength(1);
    expect(await client.connections({ token: (joined.token + 1) >>> 0 })).toEqual([]);

    const server = await openDiag(t.server);
    const sconns = await waitFor<MptcpConnection[] | false>(async () => {
      const cs = await server.connections();
      return cs.length === 2 && cs.every((c) => c.subflows.every((s) => (s.tcp.unacked ?? 0) === 0)) ? cs : false;
    }, { timeoutMs: 10_000, what: 'two idle server connections' }) as MptcpConnection[];
    compareWithSs(sconns, await t.server.exec('ss', ['-Mtnai']));
    const ls = await server.listeners();
    expect(ls.map((l) => `${l.local.address}:${l.local.port}`).sort()).toEqual(['0.0.0.0:5000', ':::5006']);
  });

  it('many concurrent connections() calls on one MptcpDiag all succeed with the same answer', async () => {
    const t = await topology('dgc');
    await scenario(t);
    const d = await openDiag(t.client);
    const first = await settled(d);
    const tokens = first.map((c) => c.token).sort();
    const all = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 4 === 3 ? d.listeners() : d.connections())));
    for (const [i, r] of all.entries()) {
      if (i % 4 === 3) expect(r).toEqual([]);
      else expect((r as MptcpConnection[]).map((c) => c.token).sort()).toEqual(tokens);
    }
  });

  it('counters equal nstat -asz of that namespace; status reads net.mptcp.enabled and the path manager', async () => {
    const t = await topology('dgn');
    await scenario(t);
    await settled(await openDiag(t.client));
    const before = await readMptcpCounters({ netns: t.client.name });
    const nstat = await t.client.exec('nstat', ['-asz']);
    const after = await readMptcpCounters({ netns: t.client.name });
    const fromNstat = new Map(nstat.split('\n').filter((l) => l.startsWith('MPTcpExt')).map((l) => {
      const [name, value] = l.split(/\s+/);
      return [name.slice('MPTcpExt'.length), Number(value)] as const;
    }));
    expect(fromNstat.size).toBe(Object.keys(after).length);
    for (const [name, v] of fromNstat) {
      expect(before[name], name).toBeLessThanOrEqual(v);
      expect(after[name], name).toBeGreaterThanOrEqual(v);
    }
    expect(after.MPCapableSYNTX).toBe(3);
    expect(after.MPCapableFallbackSYNACK).toBe(1);
    expect(after.MPJoinSynTx).toBeGreaterThanOrEqual(1);
    expect(parseMptcpCounters(await t.server.exec('cat', ['/proc/net/netstat'])).MPJoinAckRx).toBe((await readMptcpCounters({ netns: t.server.name })).MPJoinAckRx);

    expect(await readMptcpStatus({ netns: t.client.name })).toMatchObject({ enabled: true, pathManager: 'kernel' });
    await t.client.exec('sysctl', ['-qw', 'net.mptcp.enabled=0']);
    const userspace = await pathManagerSetting('userspace');
    await t.client.exec('sysctl', ['-qw', `${userspace.key}=${userspace.value}`]);
    expect(await readMptcpStatus({ netns: t.client.name })).toMatchObject({ enabled: false, pathManager: 'userspace' });
  });
});
