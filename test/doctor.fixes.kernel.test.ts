// Kernel tests of doctor's promise: for every finding code, the fixes it prints, pasted into a shell
// in the order printed, leave a namespace where `mptcp-pm doctor` exits 0. Also: counters are judged
// over the observation window, so a fallback that happened before doctor ran is no finding.

import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeEach, describe, expect } from 'vitest';
import { cli, pasteShell } from './helpers/cli.js';
import { soundNamespace } from './helpers/doctor.js';
import { SourceRouting, SourceRoutingError } from '../src/routing/source-routing.js';
import type { Finding } from '../src/doctor/index.js';
import { kernelIt, makeNetns, waitFor, type TestNetns } from './helpers/netns.js';
import { makeTopology } from './helpers/topology.js';

const it = kernelIt();
// The fixes name the command as a user has it on PATH.
const { sh, remove } = pasteShell();
afterAll(remove);

interface Run { status: number; findings: Finding[] }

async function doctor(ns: string, windowMs = 300): Promise<Run> {
  const r = await cli(['-n', ns, 'doctor', 'window', String(windowMs), '-j'], { timeoutMs: 30_000 });
  return { status: r.status, findings: JSON.parse(r.stdout || '[]') as Finding[] };
}

/** Runs doctor, expects `codes` among its findings, pastes every fix in order, and expects exit 0. */
async function pasteFixes(ns: string, codes: string[]): Promise<Finding[]> {
  const before = await doctor(ns);
  expect(before.findings.map((f) => f.code)).toEqual(expect.arrayContaining(codes));
  for (const f of before.findings) await sh(f.fix);
  const after = await doctor(ns);
  expect(after).toEqual({ status: 0, findings: after.findings.filter((f) => f.severity === 'info') });
  return before.findings;
}

/**
 * Repeats `act` one after another until `watching` settles (at most `max` times), so some of it falls
 * inside doctor's window however long the command takes to start; the last one has ended on return.
 */
async function duringWindow<T>(watching: Promise<T>, act: () => Promise<void>, max = 40): Promise<T> {
  let done = false;
  const result = watching.finally(() => { done = true; });
  for (let i = 0; i < max && !done; i++) {
    await act();
    await Promise.race([result, new Promise((r) => setTimeout(r, 150))]).catch(() => undefined);
  }
  return result;
}

const network = (): Promise<TestNetns> => soundNamespace('dfx', { eth3: true });

describe('doctor: pasting the printed fixes in order leaves nothing to report', () => {
  let ns: TestNetns;
  beforeEach(async () => {
    ns = await network();
  });
  afterEach(async () => {
    await ns.destroy();
  });

  it('starts from a namespace with nothing to report', async () => {
    expect(await doctor(ns.name)).toEqual({ status: 0, findings: [] });
  });

  it('mptcp-disabled', async () => {
    await ns.exec('sysctl', ['-qw', 'net.mptcp.enabled=0']);
    await pasteFixes(ns.name, ['mptcp-disabled']);
  });

  it('limits-subflows and add-addr-accepted-zero: one limits command for both', async () => {
    await ns.ip('mptcp', 'endpoint', 'delete', 'id', '2');
    await ns.ip('mptcp', 'endpoint', 'add', '198.51.100.1', 'id', '2', 'dev', 'eth2', 'subflow');
    const rt = await SourceRouting.open({ netns: ns.name });
    await rt.add({ address: '198.51.100.1', ifname: 'eth2' });
    rt.close();
    await ns.ip('mptcp', 'limits', 'set', 'subflows', '0', 'add_addr_accepted', '0');
    const found = await pasteFixes(ns.name, ['limits-subflows', 'add-addr-accepted-zero']);
    expect(new Set(found.map((f) => f.fix)).size).toBe(1);
    expect(await ns.ip('mptcp', 'limits', 'show')).toMatch(/add_addr_accepted 2 +subflows 2/);
  });

  it('endpoint-address-missing and endpoint-wrong-device', async () => {
    await ns.ip('mptcp', 'endpoint', 'add', '203.0.113.77', 'id', '7', 'signal');
    await ns.ip('mptcp', 'endpoint', 'delete', 'id', '2');
    await ns.ip('mptcp', 'endpoint', 'add', '198.51.100.1', 'id', '2', 'dev', 'eth1', 'signal');
    await pasteFixes(ns.name, ['endpoint-address-missing', 'endpoint-wrong-device']);
  });

  it('missing-source-routing on two links (two tables, each link\'s real gateway) and strict-rp-filter', async () => {
    await ns.ip('mptcp', 'endpoint', 'delete', 'id', '2');
    await ns.ip('mptcp', 'endpoint', 'delete', 'id', '3');
    await ns.ip('mptcp', 'endpoint', 'add', '198.51.100.1', 'id', '2', 'subflow');
    await ns.ip('mptcp', 'endpoint', 'add', '203.0.113.1', 'id', '3', 'subflow');
    // A table some other program uses already: the fixes must not pick it.
    await ns.ip('route', 'add', '10.0.0.0/8', 'dev', 'eth1', 'table', '1000');
    await ns.exec('sysctl', ['-qw', 'net.ipv4.conf.all.rp_filter=1']);
    const found = await pasteFixes(ns.name, ['missing-source-routing', 'strict-rp-filter']);
    const routing = found.filter((f) => f.code === 'missing-source-routing').map((f) => f.fix);
    expect(routing).toHaveLength(2);
    expect(routing.join('\n')).toContain('198.51.100.1 dev eth2 via 198.51.100.254');
    expect(routing.join('\n')).toContain('203.0.113.1 dev eth3 via 203.0.113.254');
    const tables = routing.map((f) => /table (\d+)/.exec(f)?.[1]);
    expect(new Set(tables).size).toBe(2);
    expect(tables).not.toContain('1000');
  });

  it('missing-source-routing on a link without any gateway asks for one, and route add without via refuses', async () => {
    await ns.ip('route', 'del', '203.0.113.128/25');
    await ns.ip('mptcp', 'endpoint', 'delete', 'id', '3');
    await ns.ip('mptcp', 'endpoint', 'add', '203.0.113.1', 'id', '3', 'subflow');
    const f = (await doctor(ns.name)).findings.find((x) => x.code === 'missing-source-routing');
    expect(f?.fix).toMatch(/route add 203\.0\.113\.1 dev eth3 via GATEWAY +# .*replace GATEWAY/);
    const rt = await SourceRouting.open({ netns: ns.name });
    try {
      await expect(rt.add({ address: '203.0.113.1', ifname: 'eth3' })).rejects.toThrow(SourceRoutingError);
      expect(await rt.list()).toEqual([]);
    } finally {
      rt.close();
    }
    await sh(f!.fix.replace('GATEWAY', '203.0.113.254'));
    expect((await doctor(ns.name)).status).toBe(0);
  });

  it('signal-port-not-listening', async () => {
    const server = spawn('ip', ['netns', 'exec', ns.name, 'python3', '-c',
      'import socket,sys; s=socket.socket(); s.bind(("192.0.2.1",8080)); s.listen(); print("up", flush=True); sys.stdin.read()']);
    try {
      let out = '';
      server.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await waitFor(() => out.includes('up'), { timeoutMs: 10_000, what: 'a server bound to 192.0.2.1:8080' });
      await pasteFixes(ns.name, ['signal-port-not-listening']);
    } finally {
      server.kill();
    }
  });

  it('userspace-pm-no-listener / userspace-pm-listener-elsewhere', async () => {
    const rt = await SourceRouting.open({ netns: ns.name });
    await rt.add({ address: '198.51.100.1', ifname: 'eth2' });
    await rt.add({ address: '203.0.113.1', ifname: 'eth3' });
    rt.close();
    await ns.exec('sysctl', ['-qw', 'net.mptcp.path_manager=userspace']);
    const found = await doctor(ns.name);
    const code = found.findings.find((f) => f.code.startsWith('userspace-pm-'))?.code;
    expect(['userspace-pm-no-listener', 'userspace-pm-listener-elsewhere']).toContain(code);
    await pasteFixes(ns.name, [code as string]);
  });
});

describe('doctor judges counters over its window', () => {
  it('exits 0 where a fallback happened before it ran, reports one that happens while it watches, and its fix leaves 0', async () => {
    const t = await makeTopology('dfw');
    let tcp: ChildProcess | undefined;
    try {
      const [p1] = t.paths;
      await t.client.ip('mptcp', 'limits', 'set', 'subflows', '2', 'add_addr_accepted', '2');
      const healthy = { status: 0, findings: expect.not.arrayContaining([expect.objectContaining({ severity: expect.stringMatching(/error|warning/) })]) };
      tcp = spawn('ip', ['netns', 'exec', t.server.name, 'python3', '-c', [
        'import socket,sys', 's=socket.socket()', 's.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
        's.bind(("0.0.0.0",6300))', 's.listen()', 'print("up", flush=True)',
        'while True:', '  c,_=s.accept()', '  c.close()'].join('\n')]);
      let up = '';
      tcp.stdout?.on('data', (d: Buffer) => (up += d.toString()));
      await waitFor(() => up.includes('up'), { timeoutMs: 10_000, what: 'a plain TCP server' });
      const connect = async (): Promise<void> => {
        const cli = await t.peer(t.client, ['client', '--addr', p1.server, '--port', '6300']);
        await cli.exited;
      };
      await connect();
      expect(Number(/MPTcpExtMPCapableFallbackSYNACK\s+(\d+)/.exec(await t.client.exec('nstat', ['-az', 'MPTcpExtMPCapableFallbackSYNACK']))?.[1])).toBeGreaterThan(0);
      expect(await doctor(t.client.name)).toEqual(healthy);
      // A fallback while doctor watches is a present problem.
      const seen = await duringWindow(doctor(t.client.name, 3000), connect);
      expect(seen.status).toBe(1);
      const f = seen.findings.find((x) => x.code === 'counters-fallback');
      expect(f?.message).toMatch(/MPCapableFallbackSYNACK \+[1-9]\d* in the last \d+\.\d s/);
      await sh(f!.fix);
      expect(await doctor(t.client.name)).toEqual(healthy);
    } finally {
      tcp?.kill();
      await t.destroy();
    }
  });

  it('reports joins refused while it watches (counters-join-rejected), not those refused before', async () => {
    const t = await makeTopology('dfj');
    try {
      const [p1] = t.paths;
      await t.server.ip('mptcp', 'limits', 'set', 'subflows', '0', 'add_addr_accepted', '0');
      await t.client.ip('mptcp', 'limits', 'set', 'subflows', '2', 'add_addr_accepted', '2');
      await t.client.ip('addr', 'add', '192.0.2.3/24', 'dev', p1.ifname);
      await t.client.ip('mptcp', 'endpoint', 'add', '192.0.2.3', 'dev', p1.ifname, 'subflow');
      const srv = await t.peer(t.server, ['server', '--addr', '0.0.0.0', '--port', '6100', '--count', '0']);
      await srv.waitLine(/^READY/);
      const rejected = async (): Promise<number> => Number(/MPTcpExtMPJoinRejected\s+(\d+)/.exec(await t.server.exec('nstat', ['-az', 'MPTcpExtMPJoinRejected']))?.[1] ?? 0);
      // Each connection's join is refused by the server's limits; connections are made until doctor ends.
      const seen = await duringWindow(doctor(t.server.name, 4000), async () => {
        const cli = await t.peer(t.client, ['client', '--addr', p1.server, '--port', '6100', '--hold', '--send', '100']);
        const before = await rejected();
        await cli.waitLine(/^CONNECTED/);
        await waitFor(async () => (await rejected()) > before, { timeoutMs: 10_000, what: 'the join refused at the server' });
        cli.send('close');
        await cli.waitLine(/^DONE/);
      });
      expect(seen.findings.find((x) => x.code === 'counters-join-rejected')?.message).toMatch(/MPJoinRejected \+[1-9]/);
      // Later runs judge only their own window: the server's configuration refuses nothing new.
      expect(seen.findings.filter((x) => x.code.startsWith('counters-') && x.code !== 'counters-join-rejected')).toEqual([]);
      expect((await doctor(t.server.name)).findings.filter((x) => x.code.startsWith('counters-'))).toEqual([]);
      srv.send('close');
    } finally {
      await t.destroy();
    }
  });
});
