// ConnectionTracker on the real kernel: started after a connection exists, following new and closed
// connections live, and resyncing after an overrun forced by a tiny buffer and a blocked JS thread.

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect } from 'vitest';
import { MptcpDiag } from '../src/mptcp/diag/diag.js';
import { ConnectionTracker, type ResyncReport, type TrackedConnection } from '../src/mptcp/tracker/tracker.js';
import { kernelIt, waitFor } from './helpers/netns.js';
import { testResources, type Topology } from './helpers/topology.js';

const it = kernelIt();
const { cleanup, topology } = testResources();
const PEER = fileURLToPath(new URL('./helpers/mptcp_peer.py', import.meta.url));

async function setup(t: Topology): Promise<void> {
  const [, p2] = t.paths;
  for (const ns of [t.client, t.server]) await ns.ip('mptcp', 'limits', 'set', 'subflows', '2', 'add_addr_accepted', '2');
  await t.client.ip('mptcp', 'endpoint', 'add', p2.client, 'dev', p2.ifname, 'id', '2', 'subflow');
  const srv = await t.peer(t.server, ['server', '--addr', '0.0.0.0', '--port', '5000', '--count', '0', '--quiet'], { timeoutS: 60 });
  await srv.waitLine(/^READY/);
}

async function openTracker(t: Topology, receiveBufferBytes?: number): Promise<ConnectionTracker> {
  const tr = await ConnectionTracker.open({ netns: t.client.name, ...(receiveBufferBytes ? { receiveBufferBytes } : {}) });
  cleanup.push(() => tr.close());
  return tr;
}

/** Tokens (sorted) and subflow counts of the tracker's picture and of a fresh sock_diag snapshot. */
async function pictures(t: Topology, tr: ConnectionTracker): Promise<[string, string]> {
  const d = await MptcpDiag.open({ netns: t.client.name });
  try {
    const snap = (await d.connections()).map((c) => `${c.token}/${c.subflows.length}`).sort().join(' ');
    const mine = [...tr.connections.values()].map((c) => `${c.token}/${c.subflows.length}`).sort().join(' ');
    return [mine, snap];
  } finally {
    d.close();
  }
}

describe('ConnectionTracker on the real kernel', () => {
  it('starts late from a snapshot, then follows new subflows, new and closed connections live', async () => {
    const t = await topology('tr');
    await setup(t);
    const first = await t.peer(t.client, ['client', '--addr', t.paths[0].server, '--port', '5000', '--hold', '--send', '100'], { timeoutS: 60 });
    const token1 = Number((await first.waitLine(/token=(\d+)/))[1]);
    const d = await MptcpDiag.open({ netns: t.client.name });
    cleanup.push(() => d.close());
    await waitFor(async () => (await d.connections({ token: token1 }))[0]?.subflows.length === 2, { timeoutMs: 10_000, what: 'the join of the first connection' });

    const tr = await openTracker(t);
    expect(tr.connections.get(token1)?.subflows.map((s) => s.localId).sort()).toEqual([0, 2]);
    expect(tr.connections.get(token1)?.established).toBe(true);

    const seen: string[] = [];
    tr.on('connection', (c) => seen.push(`connection ${c.token}`));
    tr.on('subflow', (c, s) => seen.push(`subflow ${c.token} ${s.localId}`));
    tr.on('closed', (c) => seen.push(`closed ${c.token}`));
    const second = await t.peer(t.client, ['client', '--addr', t.paths[0].server, '--port', '5000', '--hold', '--send', '100'], { timeoutS: 60 });
    const token2 = Number((await second.waitLine(/token=(\d+)/))[1]);
    await waitFor(() => seen.includes(`subflow ${token2} 2`), { timeoutMs: 10_000, what: `the join of ${token2} seen live; seen: ${seen.join(', ')}` });
    expect(seen).toContain(`connection ${token2}`);
    expect(tr.connections.get(token2)?.subflows).toHaveLength(2);

    first.send('close');
    await waitFor(() => seen.includes(`closed ${token1}`), { timeoutMs: 10_000, what: `close of ${token1}` });
    expect(tr.connections.has(token1)).toBe(false);
    const [mine, snap] = await pictures(t, tr);
    expect(mine).toBe(snap);
  });

  it('after an overrun (tiny buffer, stalled consumer) it resyncs and reports what it missed', async () => {
    const t = await topology('tro');
    await setup(t);
    const tr = await openTracker(t, 1);
    const resyncs: ResyncReport[] = [];
    tr.on('resync', (r) => resyncs.push(r));
    const live: TrackedConnection[] = [];
    const errors: Error[] = [];
    tr.on('error', (e) => errors.push(e));
    tr.on('connection', (c) => live.push(c));
    const burst = await t.peer(t.client, ['client', '--addr', t.paths[0].server, '--port', '5000', '--hold', '--count', '12', '--quiet'], { timeoutS: 60 });
    // Block the JS thread until all 12 connections exist: their events pile up in the tiny buffer.
    const wait = 'for i in $(seq 300); do [ "$(ss -HMn state established | wc -l)" -ge 12 ] && exit 0; sleep 0.05; done; exit 1';
    execFileSync('ip', ['netns', 'exec', t.client.name, 'sh', '-c', wait], { timeout: 30_000 });
    const r = await waitFor(() => resyncs[0], { timeoutMs: 10_000, what: 'a resync after the overrun' });
    expect(r.reason).toBe('overrun');
    expect(r.lost).toBeGreaterThan(0);
    expect(r.added.length + live.length).toBeGreaterThanOrEqual(12);
    await waitFor(async () => {
      const [mine, snap] = await pictures(t, tr);
      return mine === snap && tr.connections.size === 12;
    }, { timeoutMs: 10_000, what: 'the tracker to equal a fresh snapshot of 12 connections' });

    burst.send('close');
    await waitFor(() => tr.connections.size === 0, { timeoutMs: 10_000, what: 'all 12 closes applied' });
    expect(errors).toEqual([]);
    await tr.resync();
    expect(resyncs.at(-1)).toMatchObject({ reason: 'request', added: [], removed: [] });
  });
});
