// The userspace path-manager framework on the real kernel: a client on the userspace PM and a server,
// two paths; policies open, re-open and adopt subflows, also across lost events.

import { execFileSync } from 'node:child_process';
import { describe, expect } from 'vitest';
import { MptcpDiag } from '../src/mptcp/diag/diag.js';
import type { MptcpConnection } from '../src/mptcp/diag/model.js';
import { MptcpPm } from '../src/mptcp/pm/pm.js';
import { PathManagerModeError, UserspacePathManager, policies, type Policy, type UpmAction, type UpmError } from '../src/index.js';
import { kernelIt, waitFor } from './helpers/netns.js';
import { testResources, type Peer, type Topology } from './helpers/topology.js';
import type { TestNetns } from './helpers/netns.js';

const it = kernelIt();
const { cleanup, topology } = testResources();
const PORT = 5000;

async function usePm(ns: TestNetns, type: 'kernel' | 'userspace'): Promise<void> {
  await ns.exec('sysctl', ['-qw', `net.mptcp.path_manager=${type}`]);
}

/** Limits that let both ends take a few subflows and announcements, and a server listening on PORT. */
async function setup(t: Topology): Promise<void> {
  for (const ns of [t.client, t.server]) await ns.ip('mptcp', 'limits', 'set', 'subflows', '4', 'add_addr_accepted', '4');
  const srv = await t.peer(t.server, ['server', '--addr', '0.0.0.0', '--port', String(PORT), '--count', '0', '--quiet'], { timeoutS: 120 });
  await srv.waitLine(/^READY/);
}

function clients(t: Topology, count: number): Promise<Peer> {
  return t.peer(t.client, ['client', '--addr', t.paths[0].server, '--port', String(PORT), '--hold', '--send', '10', '--count', String(count), '--quiet'], { timeoutS: 120 });
}

async function start(t: Topology, ns: TestNetns, policy: Policy, extra: { receiveBufferBytes?: number } = {}): Promise<{ upm: UserspacePathManager; errors: UpmError[] }> {
  const upm = await UserspacePathManager.start({ netns: ns.name, policy, ...extra });
  cleanup.push(() => upm.stop());
  const errors: UpmError[] = [];
  upm.on('error', (e) => errors.push(e));
  return { upm, errors };
}

async function diagOf(ns: TestNetns): Promise<MptcpDiag> {
  const d = await MptcpDiag.open({ netns: ns.name });
  cleanup.push(() => d.close());
  return d;
}

/** Stats count an action once its ack is read, which can come after the subflow shows in sock_diag. */
async function statsReach(upm: UserspacePathManager, want: Partial<UserspacePathManager['stats']>): Promise<void> {
  const ok = (): boolean => Object.entries(want).every(([k, v]) => upm.stats[k as keyof typeof want] === v);
  await waitFor(ok, { timeoutMs: 5000, what: `stats ${JSON.stringify(want)}; have ${JSON.stringify(upm.stats)}` }).catch(() => undefined);
  expect(upm.stats).toMatchObject(want);
}

const up = (c: MptcpConnection, local: string, remote?: string): boolean =>
  c.subflows.some((s) => s.local.address === local && (remote === undefined || s.remote.address === remote) && s.state === 'established');

/** Waits until `n` connections each have an established subflow from `local`. */
async function allJoined(d: MptcpDiag, n: number, local: string, timeoutMs = 20_000): Promise<MptcpConnection[]> {
  let last: MptcpConnection[] = [];
  await waitFor(async () => {
    last = await d.connections();
    return last.length === n && last.every((c) => up(c, local));
  }, { timeoutMs, what: `${n} connections with a subflow from ${local}; have ${last.map((c) => `${c.token}:${c.subflows.map((s) => s.local.address).join('+')}`).join(' ')}` });
  return last;
}

describe('UserspacePathManager on the real kernel', () => {
  it('subflowPerAddress gives each of 20 new connections its subflow from the second address, with one id', async () => {
    const t = await topology('upm');
    await setup(t);
    await usePm(t.client, 'userspace');
    const { upm, errors } = await start(t, t.client, policies.subflowPerAddress());
    await clients(t, 20);
    const conns = await allJoined(await diagOf(t.client), 20, t.paths[1].client);
    const ids = new Set(conns.flatMap((c) => c.subflows.filter((s) => s.local.address === t.paths[1].client).map((s) => s.localId)));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toBeGreaterThan(0);
    expect(conns.every((c) => c.subflows.length === 2)).toBe(true);
    await statsReach(upm, { connections: 20, adopted: 0, subflowsOpened: 20 });
    expect(errors).toEqual([]);
  });

  it('re-opens a subflow that was destroyed, and a custom policy of a few lines works', async () => {
    const t = await topology('upr');
    await setup(t);
    await usePm(t.client, 'userspace');
    const [, p2] = t.paths;
    const seen: string[] = [];
    const custom: Policy = {
      async established(conn, act) {
        seen.push(`established ${conn.token}`);
        await act.createSubflow({ local: { address: p2.client, id: 9 }, remote: conn.remote });
      },
      async subflowClosed(sf, conn, act) {
        seen.push(`closed ${sf.local.address}`);
        await act.createSubflow({ local: { address: sf.local.address, id: 9 }, remote: conn.remote });
      },
    };
    const { upm, errors } = await start(t, t.client, custom, {});
    await clients(t, 1);
    const d = await diagOf(t.client);
    const [c] = await allJoined(d, 1, p2.client);
    const sf = c.subflows.find((s) => s.local.address === p2.client)!;
    expect(sf.localId).toBe(9);
    const pm = await MptcpPm.open({ netns: t.client.name });
    cleanup.push(() => pm.close());
    await pm.destroySubflow({ token: c.token, local: sf.local, remote: sf.remote });
    await waitFor(async () => {
      const [now] = await d.connections();
      return now.subflows.some((s) => s.local.address === p2.client && s.local.port !== sf.local.port && s.state === 'established');
    }, { timeoutMs: 10_000, what: 'the destroyed subflow re-opened from a new port' });
    expect(seen).toEqual([`established ${c.token}`, `closed ${p2.client}`]);
    await statsReach(upm, { subflowsOpened: 1, subflowsReopened: 1, subflowsClosed: 1 });
    expect(errors).toEqual([]);
    // stop() leaves the connection and its subflows as they are.
    const before = (await d.connections()).map((x) => `${x.token} ${x.subflows.map((s) => `${s.local.address}:${s.local.port}`).sort().join(' ')}`);
    await upm.stop();
    const after = (await d.connections()).map((x) => `${x.token} ${x.subflows.map((s) => `${s.local.address}:${s.local.port}`).sort().join(' ')}`);
    expect(after).toEqual(before);
    expect(before[0].split(' ')).toHaveLength(3);
  });

  it('adopts connections opened while it was stopped', async () => {
    const t = await topology('upa');
    await setup(t);
    await usePm(t.client, 'userspace');
    const d = await diagOf(t.client);
    await clients(t, 3);
    await waitFor(async () => (await d.connections()).length === 3, { timeoutMs: 10_000, what: '3 connections' });
    expect((await d.connections()).every((c) => c.subflows.length === 1)).toBe(true);
    const { upm } = await start(t, t.client, policies.subflowPerAddress({ addresses: [{ address: t.paths[1].client, id: 4 }] }));
    // Listeners attached after start() resolves still get the actions of the start: one adopt each.
    const actions: UpmAction[] = [];
    upm.on('action', (a) => actions.push(a));
    await allJoined(d, 3, t.paths[1].client);
    await statsReach(upm, { connections: 3, adopted: 3, subflowsOpened: 3 });
    const tokens = (await d.connections()).map((c) => c.token).sort();
    expect(actions.filter((a) => a.action === 'adopt').map((a) => a.token).sort()).toEqual(tokens);
    expect(actions.filter((a) => a.action === 'createSubflow')).toHaveLength(3);
    expect(actions.findIndex((a) => a.action === 'adopt')).toBe(0);
  });

  it('40 connections opened while its event socket overflows all get their subflow', async () => {
    const t = await topology('upo');
    await setup(t);
    await usePm(t.client, 'userspace');
    const { upm, errors } = await start(t, t.client, policies.subflowPerAddress(), { receiveBufferBytes: 1 });
    await clients(t, 40);
    // Stall the JS thread until the 40 connections exist: their events overflow the tiny buffer.
    const wait = 'for i in $(seq 400); do [ "$(ss -HMn state established | wc -l)" -ge 40 ] && exit 0; sleep 0.02; done; exit 1';
    execFileSync('ip', ['netns', 'exec', t.client.name, 'sh', '-c', wait], { timeout: 30_000 });
    await allJoined(await diagOf(t.client), 40, t.paths[1].client, 30_000);
    expect(upm.stats.resyncs).toBeGreaterThan(0);
    await statsReach(upm, { subflowsOpened: 40, connections: 40 });
    expect(errors.filter((e) => e.hook !== 'createSubflow')).toEqual([]);
  });

  it('announceAddresses on a server makes the client\'s in-kernel path manager join the announced address', async () => {
    const t = await topology('upn');
    await setup(t);
    await usePm(t.server, 'userspace');
    const [p1, p2] = t.paths;
    const { upm } = await start(t, t.server, policies.announceAddresses({ addresses: [{ address: p2.server }] }));
    await clients(t, 2);
    const d = await diagOf(t.client);
    await waitFor(async () => {
      const cs = await d.connections();
      return cs.length === 2 && cs.every((c) => c.subflows.some((s) => s.remote.address === p2.server && s.state === 'established'));
    }, { timeoutMs: 15_000, what: 'both client connections joined to the announced address' });
    await statsReach(upm, { announcements: 2 });
    expect((await d.connections()).every((c) => c.remote.address === p1.server)).toBe(true);
  });

  it('fullmesh opens every local × every peer address', async () => {
    const t = await topology('upf');
    await setup(t);
    const [p1, p2] = t.paths;
    await t.server.ip('mptcp', 'endpoint', 'add', p2.server, 'id', '2', 'signal');
    await usePm(t.client, 'userspace');
    const { upm } = await start(t, t.client, policies.fullmesh({ addresses: [{ address: p1.client }, { address: p2.client }] }));
    await clients(t, 1);
    const d = await diagOf(t.client);
    let pairs: string[] = [];
    await waitFor(async () => {
      const [c] = await d.connections();
      pairs = (c?.subflows ?? []).filter((s) => s.state === 'established').map((s) => `${s.local.address}>${s.remote.address}`).sort();
      return pairs.length === 4;
    }, { timeoutMs: 15_000, what: `4 subflows; have ${pairs.join(' ')}` });
    expect(pairs).toEqual([`${p1.client}>${p1.server}`, `${p1.client}>${p2.server}`, `${p2.client}>${p1.server}`, `${p2.client}>${p2.server}`].sort());
    await statsReach(upm, { subflowsOpened: 3 });
  });

  it('refuses a namespace on the in-kernel path manager with the fix, and switches when asked', async () => {
    const t = await topology('upk');
    const err = await UserspacePathManager.start({ netns: t.client.name, policy: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PathManagerModeError);
    expect((err as PathManagerModeError).fix).toMatch(/path-manager userspace|switchPathManager/);
    const upm = await UserspacePathManager.start({ netns: t.client.name, policy: {}, switchPathManager: true });
    cleanup.push(() => upm.stop());
    expect((await t.client.exec('sysctl', ['-n', 'net.mptcp.path_manager'])).trim()).toBe('userspace');
  });
});
