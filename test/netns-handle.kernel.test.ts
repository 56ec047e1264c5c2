// Every public entry given a Netns handle: when the namespace's name is deleted and re-created under
// an open client, the client keeps acting on the namespace it was given (never the new one of the
// same name), and the handle it borrowed is still open after the client is closed.

import { execFileSync } from 'node:child_process';
import { describe, expect } from 'vitest';
import {
  ConnectionTracker, EndpointReconciler, MptcpDiag, MptcpEvents, Netns, readMptcpCounters, UserspacePathManager,
  type MptcpEvent, type UpmActions,
} from '../src/index.js';
import { MptcpExporter } from '../src/exporter/index.js';
import { kernelIt, waitFor } from './helpers/netns.js';
import { testResources, type Peer, type Topology } from './helpers/topology.js';

const it = kernelIt();
const { cleanup, topology } = testResources();

interface Scene {
  t: Topology;
  /** The client namespace, opened by the test: what every client under test borrows. */
  handle: Netns;
}

async function scene(tag: string): Promise<Scene> {
  const t = await topology(tag);
  const srv = await t.peer(t.server, ['server', '--addr', '0.0.0.0', '--port', '5000', '--count', '0', '--quiet'], { timeoutS: 60 });
  await srv.waitLine(/^READY/);
  const handle = Netns.open(t.client.name);
  cleanup.push(() => handle.close());
  return { t, handle };
}

/** One MPTCP connection from the client namespace, held open; resolves with its peer and token. */
async function connect(t: Topology): Promise<{ peer: Peer; token: number }> {
  const peer = await t.peer(t.client, ['client', '--addr', t.paths[0].server, '--port', '5000', '--hold', '--send', '10'], { timeoutS: 60 });
  const m = await peer.waitLine(/^CONNECTED \S+ \d+ token=(\d+)/);
  return { peer, token: Number(m[1]) };
}

/** Deletes the client namespace's name and makes a new, empty namespace of the same name. */
function recreate(t: Topology): void {
  execFileSync('ip', ['netns', 'del', t.client.name], { timeout: 10_000 });
  execFileSync('ip', ['netns', 'add', t.client.name], { timeout: 10_000 });
  execFileSync('ip', ['-n', t.client.name, 'link', 'set', 'lo', 'up'], { timeout: 10_000 });
}

/** Runs `ip ARGS` in the namespace process `pid` lives in (the old one, once its name is gone). */
function ipIn(pid: number, ...args: string[]): string {
  return execFileSync('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', ...args], { encoding: 'utf8', timeout: 10_000 });
}

/** The borrowed handle is still open: it can still be entered, and is still the old namespace. */
function stillOpen(s: Scene): void {
  expect(s.handle.run(() => execFileSync('ip', ['-br', 'addr', 'show', 'dev', s.t.paths[0].ifname], { encoding: 'utf8' }))).toContain(s.t.paths[0].client);
}

describe('a client given a Netns handle keeps acting on that namespace when its name is deleted and re-created', () => {
  it('MptcpEvents', async () => {
    const s = await scene('hev');
    const events = await MptcpEvents.open({ netns: s.handle });
    const seen: MptcpEvent[] = [];
    try {
      events.on('event', (e) => seen.push(e));
      const { peer, token } = await connect(s.t);
      recreate(s.t);
      peer.send('close');
      await waitFor(() => seen.some((e) => e.type === 'closed' && e.token === token), { timeoutMs: 10_000, what: 'the closed event of the old namespace' });
      expect(events.netns).toBe(s.t.client.name);
    } finally {
      events.close();
    }
    stillOpen(s);
  }, 60_000);

  it('MptcpDiag', async () => {
    const s = await scene('hdiag');
    const diag = await MptcpDiag.open({ netns: s.handle });
    try {
      const { token } = await connect(s.t);
      recreate(s.t);
      expect((await diag.connections()).map((c) => c.token)).toContain(token);
      const fresh = await MptcpDiag.open({ netns: s.t.client.name });
      try {
        expect(await fresh.connections()).toEqual([]);
      } finally {
        fresh.close();
      }
    } finally {
      diag.close();
    }
    stillOpen(s);
  }, 60_000);

  it('readMptcpCounters', async () => {
    const s = await scene('hcnt');
    await connect(s.t);
    recreate(s.t);
    const old = await readMptcpCounters({ netns: s.handle });
    const fresh = await readMptcpCounters({ netns: s.t.client.name });
    expect(Object.values(old).some((v) => v > 0)).toBe(true);
    expect(Object.entries(fresh).filter(([, v]) => v !== 0)).toEqual([]);
    stillOpen(s);
  }, 60_000);

  it('ConnectionTracker', async () => {
    const s = await scene('htrk');
    const tracker = await ConnectionTracker.open({ netns: s.handle });
    try {
      const { token } = await connect(s.t);
      await waitFor(() => tracker.connections.has(token), { timeoutMs: 10_000, what: 'the tracker to see the connection' });
      recreate(s.t);
      await tracker.resync();
      expect([...tracker.connections.keys()]).toEqual([token]);
    } finally {
      tracker.close();
    }
    stillOpen(s);
  }, 60_000);

  it('EndpointReconciler', async () => {
    const s = await scene('hrec');
    const { peer } = await connect(s.t); // a process living in the old namespace, to change it through
    const r = await EndpointReconciler.start({ netns: s.handle, rules: [{ interface: 'path*', flags: ['subflow'] }], resyncIntervalMs: 0 });
    try {
      recreate(s.t);
      ipIn(peer.pid, 'addr', 'add', '203.0.113.7/24', 'dev', s.t.paths[1].ifname);
      await waitFor(() => ipIn(peer.pid, 'mptcp', 'endpoint', 'show').includes('203.0.113.7'), { timeoutMs: 10_000, what: 'the endpoint of the new address, in the old namespace' });
      expect(execFileSync('ip', ['-n', s.t.client.name, 'mptcp', 'endpoint', 'show'], { encoding: 'utf8' })).toBe('');
    } finally {
      await r.stop();
    }
    stillOpen(s);
  }, 60_000);

  it('UserspacePathManager', async () => {
    const s = await scene('hupm');
    let actions: UpmActions | undefined;
    const upm = await UserspacePathManager.start({
      netns: s.handle, switchPathManager: true,
      policy: { established: (_c, act) => void (actions = act) },
    });
    try {
      const { token } = await connect(s.t);
      await waitFor(() => upm.connections.has(token) && actions !== undefined, { timeoutMs: 10_000, what: 'the framework to see the connection' });
      recreate(s.t);
      await s.t.client.ip('addr', 'add', '203.0.113.9/24', 'dev', 'lo');
      await upm.resync();
      expect([...upm.connections.keys()]).toEqual([token]);
      // The local addresses are read again from the namespace it was given, not the new one.
      expect([...actions!.localAddresses()].sort()).toEqual(expect.arrayContaining([s.t.paths[0].client, s.t.paths[1].client]));
      expect(actions!.localAddresses()).not.toContain('203.0.113.9');
    } finally {
      await upm.stop();
    }
    stillOpen(s);
  }, 60_000);

  it('MptcpExporter', async () => {
    const s = await scene('hexp');
    await s.t.client.ip('mptcp', 'endpoint', 'add', s.t.paths[1].client, 'id', '2', 'subflow');
    const exporter = await MptcpExporter.open({ netns: [s.handle], processMetrics: false });
    try {
      await connect(s.t);
      recreate(s.t);
      const text = await exporter.metrics();
      // Every source read the old namespace: its endpoint, its counters, and all sources up.
      expect(text).toMatch(new RegExp(`mptcp_endpoint_info\\{[^}]*${s.t.paths[1].client.replace(/\./g, '\\.')}`));
      expect(text).toMatch(/^mptcp_endpoints\S* [1-9]/m);
      expect(text).not.toMatch(/mptcp_exporter_source_up\{[^}]*\} 0/);
      expect(text).toMatch(/^mptcp_connections\S* [1-9]/m);
    } finally {
      exporter.close();
    }
    stillOpen(s);
  }, 60_000);
});
