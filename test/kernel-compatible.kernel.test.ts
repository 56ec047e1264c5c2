// The kernelCompatible policy on the real kernel: the client on the userspace path manager follows the
// endpoint table and limits as the in-kernel one would, re-opens a subflow killed with `ss -K`, gives up
// a pair that keeps failing (saying so once), and tries it again when its address comes back.

import { describe, expect } from 'vitest';
import { MptcpDiag } from '../src/mptcp/diag/diag.js';
import type { MptcpConnection } from '../src/mptcp/diag/model.js';
import type { BackoffOptions, UpmError, UserspacePathManager } from '../src/index.js';
import { kernelIt, waitFor } from './helpers/netns.js';
import { testResources, type Topology } from './helpers/topology.js';
import { startKernelCompatible } from './helpers/upm.js';

const it = kernelIt();
const { cleanup, topology } = testResources();
const PORT = 5100;

async function setup(t: Topology): Promise<MptcpDiag> {
  for (const ns of [t.client, t.server]) await ns.ip('mptcp', 'limits', 'set', 'subflows', '2', 'add_addr_accepted', '2');
  await t.client.exec('sysctl', ['-qw', 'net.mptcp.path_manager=userspace']);
  const srv = await t.peer(t.server, ['server', '--addr', '0.0.0.0', '--port', String(PORT), '--count', '0', '--quiet'], { timeoutS: 120 });
  await srv.waitLine(/^READY/);
  const d = await MptcpDiag.open({ netns: t.client.name });
  cleanup.push(() => d.close());
  return d;
}

const run = (t: Topology, backoff?: BackoffOptions): Promise<{ upm: UserspacePathManager; errors: UpmError[] }> => startKernelCompatible(t, cleanup, { backoff });

async function connect(t: Topology, count: number): Promise<void> {
  await t.peer(t.client, ['client', '--addr', t.paths[0].server, '--port', String(PORT), '--hold', '--send', '10', '--count', String(count), '--quiet'], { timeoutS: 120 });
}

const from = (c: MptcpConnection, local: string): boolean => c.subflows.some((s) => s.local.address === local && s.state === 'established');

async function all(d: MptcpDiag, n: number, pred: (c: MptcpConnection) => boolean, what: string, timeoutMs = 15_000): Promise<MptcpConnection[]> {
  let last: MptcpConnection[] = [];
  await waitFor(async () => {
    last = await d.connections();
    return last.length === n && last.every(pred);
  }, { timeoutMs, what: `${what}; have ${last.map((c) => c.subflows.map((s) => `${s.local.address}/${s.state}`).join('+')).join(' ')}` });
  return last;
}

describe('kernelCompatible policy', () => {
  it('opens what the endpoint table says: a subflow from the endpoint, with its id and backup flag', async () => {
    const t = await topology('kcs');
    const d = await setup(t);
    const [, p2] = t.paths;
    await t.client.ip('mptcp', 'endpoint', 'add', p2.client, 'id', '7', 'dev', p2.ifname, 'subflow', 'backup');
    const { errors } = await run(t);
    await connect(t, 5);
    const conns = await all(d, 5, (c) => from(c, p2.client), `5 connections with a subflow from ${p2.client}`);
    for (const c of conns) {
      const sf = c.subflows.find((s) => s.local.address === p2.client)!;
      expect(sf).toMatchObject({ localId: 7, backup: { local: true, remote: false } });
    }
    expect(errors).toEqual([]);
  });

  it('re-opens a subflow killed with ss -K, on every connection (how fast: npm run bench, losses)', async () => {
    const t = await topology('kck');
    const d = await setup(t);
    const [, p2] = t.paths;
    await t.client.ip('mptcp', 'endpoint', 'add', p2.client, 'id', '2', 'dev', p2.ifname, 'subflow');
    const { upm, errors } = await run(t);
    await connect(t, 10);
    const before = await all(d, 10, (c) => from(c, p2.client), 'ten connections with their second subflow');
    const ports = new Set(before.flatMap((c) => c.subflows.filter((s) => s.local.address === p2.client).map((s) => s.local.port)));
    await t.client.exec('ss', ['-K', '-t', 'src', p2.client]);
    await all(d, 10, (c) => c.subflows.some((s) => s.local.address === p2.client && s.state === 'established' && !ports.has(s.local.port)),
      'every connection with a new subflow from the second address', 10_000);
    // Stats count an action once its ack is read, which can come after the subflow shows in sock_diag.
    await waitFor(() => upm.stats.subflowsReopened >= 10, { timeoutMs: 5000, what: `10 re-opened; stats ${JSON.stringify(upm.stats)}` });
    expect(errors).toEqual([]);
  });

  it('gives up a pair that keeps failing, says so once, stays quiet, and tries again when its address comes back', async () => {
    const t = await topology('kcg');
    const d = await setup(t);
    const [, p2] = t.paths;
    await t.client.ip('mptcp', 'endpoint', 'add', p2.client, 'id', '2', 'dev', p2.ifname, 'subflow');
    // The server resets every join from the second address.
    await t.server.exec('iptables', ['-A', 'INPUT', '-s', p2.client, '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset']);
    const { upm, errors } = await run(t, { baseMs: 50, maxMs: 200, maxAttempts: 4 });
    await connect(t, 1);
    await waitFor(() => errors.some((e) => /giving up/.test(e.error.message)), { timeoutMs: 15_000, what: 'the pair to be given up' });
    await new Promise((r) => setTimeout(r, 1500)); // quiet afterwards: nothing more is tried or said
    // Four attempts (maxAttempts), then nothing: unrelated address changes on the link (IPv6) do not wake it.
    expect(upm.stats.subflowsOpened + upm.stats.subflowsReopened).toBe(4);
    expect(errors.filter((e) => /giving up/.test(e.error.message))).toHaveLength(1);
    // The path is repaired and the address comes back: the pair is tried again at once.
    await t.server.exec('iptables', ['-F', 'INPUT']);
    await t.client.ip('addr', 'del', `${p2.client}/24`, 'dev', p2.ifname);
    await t.client.ip('addr', 'add', `${p2.client}/24`, 'dev', p2.ifname);
    await all(d, 1, (c) => from(c, p2.client), `the subflow from the address that came back (errors: ${errors.map((e) => e.error.message).join('; ')})`, 5000);
  });
});
