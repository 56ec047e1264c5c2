// Kernel tests of `doctor`: each finding is produced by a real misconfiguration in a namespace with
// two veth links, and is gone once the fix it names is applied. Also the command's -j and exit status.

import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, describe, expect } from 'vitest';
import { cli } from './helpers/cli.js';
import { soundNamespace } from './helpers/doctor.js';
import { runDoctor, type Finding } from '../src/doctor/index.js';
import { SourceRouting } from '../src/routing/source-routing.js';
import { MptcpEvents } from '../src/mptcp/events/events.js';
import { kernelIt, makeNetns, waitFor, type TestNetns } from './helpers/netns.js';
import { makeTopology } from './helpers/topology.js';

const it = kernelIt();

const network = (): Promise<TestNetns> => soundNamespace('doc');

const codes = async (ns: TestNetns): Promise<string[]> => (await runDoctor({ netns: ns.name, windowMs: 100 })).map((f) => f.code);
const find = async (ns: TestNetns, code: string): Promise<Finding | undefined> => (await runDoctor({ netns: ns.name, windowMs: 100 })).find((f) => f.code === code);

describe('doctor', () => {
  let ns: TestNetns;
  beforeEach(async () => {
    ns = await network();
  });
  afterEach(async () => {
    await ns.destroy();
  });

  it('finds nothing in a sound namespace and reports MPTCP disabled until it is enabled', async () => {
    expect(await codes(ns)).toEqual([]);
    await ns.exec('sysctl', ['-qw', 'net.mptcp.enabled=0']);
    expect(await find(ns, 'mptcp-disabled')).toMatchObject({ severity: 'error', fix: `ip netns exec ${ns.name} sysctl -w net.mptcp.enabled=1` });
    await ns.exec('sysctl', ['-qw', 'net.mptcp.enabled=1']);
    expect(await codes(ns)).toEqual([]);
  });

  it('reports limits below what the endpoints can use, and add_addr_accepted 0', async () => {
    await ns.ip('mptcp', 'endpoint', 'delete', 'id', '2');
    await ns.ip('mptcp', 'endpoint', 'add', '198.51.100.1', 'id', '2', 'dev', 'eth2', 'subflow');
    await SourceRouting.open({ netns: ns.name }).then(async (rt) => { await rt.add({ address: '198.51.100.1', ifname: 'eth2' }); rt.close(); });
    await ns.ip('mptcp', 'limits', 'set', 'subflows', '0', 'add_addr_accepted', '0');
    const found = await runDoctor({ netns: ns.name });
    expect(found.map((f) => f.code).sort()).toEqual(['add-addr-accepted-zero', 'limits-subflows']);
    expect(found.find((f) => f.code === 'limits-subflows')?.fix).toContain('mptcp limits set subflows 2 add_addr_accepted 2');
    expect(found.find((f) => f.code === 'add-addr-accepted-zero')?.fix).toBe(found.find((f) => f.code === 'limits-subflows')?.fix);
    await ns.ip('mptcp', 'limits', 'set', 'subflows', '2', 'add_addr_accepted', '2');
    expect(await codes(ns)).toEqual([]);
  });

  it('reports endpoints without their address, on the wrong device, and addresses without an endpoint', async () => {
    await ns.ip('mptcp', 'endpoint', 'delete', 'id', '2');
    await ns.ip('mptcp', 'endpoint', 'add', '203.0.113.9', 'id', '7', 'signal');
    expect(await find(ns, 'endpoint-address-missing')).toMatchObject({ severity: 'error', fix: expect.stringContaining('mptcp endpoint delete id 7') });
    expect((await find(ns, 'address-without-endpoint'))?.message).toContain('198.51.100.1 on eth2');
    await ns.ip('mptcp', 'endpoint', 'delete', 'id', '7');
    await ns.ip('mptcp', 'endpoint', 'add', '198.51.100.1', 'id', '2', 'dev', 'eth1', 'signal');
    expect((await find(ns, 'endpoint-wrong-device'))?.message).toContain('says dev eth1, but the address is on eth2');
    expect(await find(ns, 'address-without-endpoint')).toBeUndefined();
    await ns.ip('mptcp', 'endpoint', 'delete', 'id', '2');
    await ns.ip('mptcp', 'endpoint', 'add', '198.51.100.1', 'id', '2', 'dev', 'eth2', 'signal');
    expect(await codes(ns)).toEqual([]);
  });

  it('reports a subflow endpoint on the second link without source routing, and strict rp_filter there, until fixed', async () => {
    await ns.ip('mptcp', 'endpoint', 'delete', 'id', '2');
    await ns.ip('mptcp', 'endpoint', 'add', '198.51.100.1', 'id', '2', 'subflow');
    const f = await find(ns, 'missing-source-routing');
    expect(f?.severity).toBe('error');
    expect(f?.message).toContain('packets from 198.51.100.1');
    expect(f?.message).toContain('leave by eth1');
    expect(f?.fix).toBe(`mptcp-pm -n ${ns.name} route add 198.51.100.1 dev eth2 via 198.51.100.254 table 1000`);
    await ns.exec('sysctl', ['-qw', 'net.ipv4.conf.all.rp_filter=1']);
    expect((await find(ns, 'strict-rp-filter'))?.fix).toContain('net.ipv4.conf.eth2.rp_filter=2');
    await ns.exec('sysctl', ['-qw', 'net.ipv4.conf.all.rp_filter=2']);
    expect(await find(ns, 'strict-rp-filter')).toBeUndefined();
    await ns.exec('sysctl', ['-qw', 'net.ipv4.conf.all.rp_filter=1']);
    const rt = await SourceRouting.open({ netns: ns.name });
    await rt.add({ address: '198.51.100.1', ifname: 'eth2' });
    rt.close();
    // With the rule in place packets from the address, and the reverse-path check, use eth2.
    expect(await codes(ns)).toEqual([]);
  });

  it('reports an announced address that the listening server cannot accept joins on, until it listens on all addresses', async () => {
    const serve = async (address: string): Promise<ChildProcess> => {
      const p = spawn('ip', ['netns', 'exec', ns.name, 'python3', '-c',
        `import socket,sys; s=socket.socket(); s.bind(("${address}",8080)); s.listen(); print("up", flush=True); sys.stdin.read()`]);
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await waitFor(() => out.includes('up'), { timeoutMs: 10_000, what: `a server listening on ${address}:8080` });
      return p;
    };
    const narrow = await serve('192.0.2.1');
    try {
      expect((await find(ns, 'signal-port-not-listening'))?.message).toContain('bound to 192.0.2.1 only');
    } finally {
      narrow.kill();
    }
    await waitFor(async () => (await codes(ns)).length === 0, { timeoutMs: 5000, what: 'the narrow server to be gone' });
    const wide = await serve('0.0.0.0');
    try {
      expect(await codes(ns)).toEqual([]);
    } finally {
      wide.kill();
    }
  });

  it('reports the userspace path manager with nobody listening to its events in this namespace', async () => {
    await ns.exec('sysctl', ['-qw', 'net.mptcp.path_manager=userspace']);
    // Another program on the host may be subscribed: then the kernel accepts joins, but nobody here gets events.
    const f = (await runDoctor({ netns: ns.name })).find((x) => x.code.startsWith('userspace-pm-'));
    expect(['userspace-pm-no-listener', 'userspace-pm-listener-elsewhere']).toContain(f?.code);
    // The userspace path manager may open subflows from any address: the second link's needs routing.
    expect((await find(ns, 'missing-source-routing'))?.message).toContain('packets from 198.51.100.1');
    const rt = await SourceRouting.open({ netns: ns.name });
    await rt.add({ address: '198.51.100.1', ifname: 'eth2' });
    rt.close();
    const events = await MptcpEvents.open({ netns: ns.name });
    try {
      expect(await codes(ns)).toEqual([]);
    } finally {
      events.close();
    }
  });

  it('mptcp-pm doctor -j prints the findings as JSON and exits 1, then 0 once fixed', async () => {
    const run = async (): Promise<{ status: number; stdout: string }> => {
      const r = await cli(['-n', ns.name, 'doctor', '-j']);
      return { status: r.status, stdout: r.stdout };
    };
    await ns.ip('mptcp', 'limits', 'set', 'subflows', '2', 'add_addr_accepted', '0');
    const bad = await run();
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout)).toEqual([expect.objectContaining({ severity: 'warning', code: 'add-addr-accepted-zero', fix: expect.any(String) })]);
    await ns.ip('mptcp', 'limits', 'set', 'subflows', '2', 'add_addr_accepted', '2');
    expect(await run()).toEqual({ status: 0, stdout: '[]\n' });
  });
});

describe('doctor on a live connection', () => {
  it('reports joins the server refused (its subflows limit is 0) from the counters', async () => {
    const t = await makeTopology('dcn');
    try {
      const [p1] = t.paths;
      await t.server.ip('mptcp', 'limits', 'set', 'subflows', '0', 'add_addr_accepted', '0');
      await t.client.ip('mptcp', 'limits', 'set', 'subflows', '2', 'add_addr_accepted', '2');
      // A second client address on the same path: its join reaches the server, which refuses it.
      await t.client.ip('addr', 'add', '192.0.2.3/24', 'dev', p1.ifname);
      await t.client.ip('mptcp', 'endpoint', 'add', '192.0.2.3', 'dev', p1.ifname, 'subflow');
      expect((await runDoctor({ netns: t.server.name, windowMs: 100 })).filter((f) => f.code.startsWith('counters-'))).toEqual([]);
      const srv = await t.peer(t.server, ['server', '--addr', '0.0.0.0', '--port', '6100', '--echo', '--count', '0']);
      await srv.waitLine(/^READY/);
      // Doctor watches while the connection is made: data both ways makes it fully established, then the client's PM tries the join.
      const watching = runDoctor({ netns: t.server.name, windowMs: 4000 });
      const cli = await t.peer(t.client, ['client', '--addr', p1.server, '--port', '6100', '--hold', '--send', '100']);
      await cli.waitLine(/^CONNECTED/);
      const f = (await watching).find((x) => x.code === 'counters-join-rejected');
      expect(f?.message).toMatch(/MPJoinRejected \+1/);
      // The client's connection has no second subflow although its endpoint and limits allow one.
      const few = (await runDoctor({ netns: t.client.name })).find((x) => x.code === 'connection-few-subflows');
      expect(few?.message).toMatch(/-> 192\.0\.2\.2:6100 .* has 0 additional subflow\(s\) where its endpoints and limits allow 1/);
      expect(few?.fix).toMatch(/^mptcp-pm -n \S+ explain token [0-9a-f]{8} /);
      cli.send('close');
      await cli.waitLine(/^DONE/);
      await waitFor(async () => !(await runDoctor({ netns: t.client.name })).some((x) => x.code === 'connection-few-subflows'),
        { timeoutMs: 10_000, what: 'the finding to go with the connection' });
      srv.send('close');
    } finally {
      await t.destroy();
    }
  });

  it('userspace PM: a subscriber in another namespace makes the kernel accept joins here, and doctor says nobody here gets the events', async () => {
    const t = await makeTopology('dus');
    try {
      const [p1] = t.paths;
      await t.server.exec('sysctl', ['-qw', 'net.mptcp.path_manager=userspace']);
      await t.client.ip('mptcp', 'limits', 'set', 'subflows', '2', 'add_addr_accepted', '2');
      await t.client.ip('addr', 'add', '192.0.2.3/24', 'dev', p1.ifname);
      await t.client.ip('mptcp', 'endpoint', 'add', '192.0.2.3', 'dev', p1.ifname, 'subflow');
      const elsewhere = await MptcpEvents.open({ netns: t.client.name });
      try {
        const srv = await t.peer(t.server, ['server', '--addr', '0.0.0.0', '--port', '6100', '--echo']);
        await srv.waitLine(/^READY/);
        const cli = await t.peer(t.client, ['client', '--addr', p1.server, '--port', '6100', '--hold', '--send', '100']);
        await cli.waitLine(/^CONNECTED/);
        const joined = async (): Promise<boolean> => /^MPTcpExtMPJoinAckRx\s+[1-9]/m.test(await t.server.exec('nstat', ['-az', 'MPTcpExtMPJoinAckRx']));
        await waitFor(joined, { timeoutMs: 10_000, what: 'the server (userspace PM, no subscriber in its namespace) to accept the join' });
        const f = (await runDoctor({ netns: t.server.name })).find((x) => x.code.startsWith('userspace-pm-'));
        expect(f?.code).toBe('userspace-pm-listener-elsewhere');
        cli.send('close');
        srv.send('close');
      } finally {
        elsewhere.close();
      }
    } finally {
      await t.destroy();
    }
  });

  it('reports a connection that fell back to plain TCP while it lasts', async () => {
    const t = await makeTopology('dfb');
    try {
      const [p1] = t.paths;
      const tcp = spawn('ip', ['netns', 'exec', t.server.name, 'python3', '-c',
        'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0",6200)); s.listen(); print("up", flush=True); c,_=s.accept(); sys.stdin.read()']);
      try {
        let up = '';
        tcp.stdout.on('data', (d: Buffer) => (up += d.toString()));
        await waitFor(() => up.includes('up'), { timeoutMs: 10_000, what: 'a plain TCP server' });
        const cli = await t.peer(t.client, ['client', '--addr', p1.server, '--port', '6200', '--hold']);
        await cli.waitLine(/^CONNECTED/);
        const f = await waitFor(async () => (await runDoctor({ netns: t.client.name })).find((x) => x.code === 'connection-fallback'),
          { timeoutMs: 10_000, what: 'the fallback finding' });
        expect(f?.message).toContain('-> 192.0.2.2:6200');
        cli.send('close');
        await cli.waitLine(/^DONE/);
        await waitFor(async () => !(await runDoctor({ netns: t.client.name })).some((x) => x.code === 'connection-fallback'),
          { timeoutMs: 10_000, what: 'the finding to go with the connection' });
      } finally {
        tcp.kill();
      }
    } finally {
      await t.destroy();
    }
  });
});
