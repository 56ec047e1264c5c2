// Client tests (tier 3) against the real kernel, each in fresh network namespaces made and removed by
// the test (also on failure): every call, the kernel's traps and texts, ports and listeners, IPv6,
// interface names resolved inside the namespace, isolation, unprivileged reading, and the host and
// this process left where they were.

import { statSync } from 'node:fs';
import { release } from 'node:os';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { exec as sh } from './helpers/cli.js';
import { MptcpPm, EndpointNotFoundError } from '../src/mptcp/pm/pm.js';
import { NetlinkError, ValidationError } from '../src/netlink/core/errors.js';
import { NetnsError } from '../src/os/netns.js';
import { canRunKernelTests, kernelIt, makeNetns, scaled, waitFor, type TestNetns, withPmInNetns } from './helpers/netns.js';
import { rejection } from './helpers/pm-fake.js';
import { runAsNobody } from './helpers/unprivileged.js';

const it = kernelIt();

/** What the host looked like before: this process's namespaces and the host's MPTCP state. */
interface HostState {
  selfNs: string;
  threadNs: string;
  endpoints: string;
  limits: string;
}
async function hostState(): Promise<HostState> {
  const ns = (p: string): string => {
    const s = statSync(p);
    return `${s.dev}:${s.ino}`;
  };
  return {
    selfNs: ns('/proc/self/ns/net'),
    threadNs: ns('/proc/thread-self/ns/net'),
    endpoints: (await sh('ip', ['-j', 'mptcp', 'endpoint', 'show'])).stdout,
    limits: (await sh('ip', ['mptcp', 'limits', 'show'])).stdout,
  };
}

let before: HostState | undefined;
beforeAll(async () => {
  if (canRunKernelTests().ok) before = await hostState();
});

const withNs = withPmInNetns;


/** How older kernels (6.1, 6.12) word a refusal where they differ from 6.18; `text` undefined: no extack text. */
interface OlderForm {
  code?: string;
  errno?: number;
  text: string | undefined;
}

/** The running kernel is older than 6.18, the release these expectations were taken from. */
const OLDER_KERNEL = ((): boolean => {
  const [major, minor] = release().split('.').map((x) => parseInt(x, 10));
  return major < 6 || (major === 6 && minor < 18);
})();

/**
 * A NetlinkError with exactly this op, code, errno and kernel text, or exactly the `older` form
 * some kernels give for the same refusal; when the extended ACK pointed at a request attribute,
 * `attribute` is its name (and the message ends with it). Kernels older than 6.18 may send no
 * offset: there the attribute is either this one or absent.
 */
async function expectKernelError(
  p: Promise<unknown>, op: string, code: string, errno: number, text: string, attribute?: string, older?: OlderForm,
): Promise<NetlinkError> {
  const err = await rejection(p);
  expect(err).toBeInstanceOf(NetlinkError);
  const ne = err as NetlinkError;
  const forms = [{ op, code, errno, kernelMessage: text as string | undefined }];
  if (older) forms.push({ op, code: older.code ?? code, errno: older.errno ?? errno, kernelMessage: older.text });
  const got = { op: ne.op, code: ne.code, errno: ne.errno, kernelMessage: ne.kernelMessage };
  expect(forms, 'the refusal in one of the forms kernels give').toContainEqual(got);
  if (!(OLDER_KERNEL && ne.attribute === undefined)) expect(ne.attribute).toBe(attribute);
  expect(ne.message).toBe(`mptcp_pm ${op}: ${got.code}: ${got.kernelMessage ?? 'invalid argument'}${ne.attribute ? ` [attribute ${ne.attribute}]` : ''}`);
  return ne;
}

/** 6.1 answers EINVAL, without the errno in the text, to every ADD_ADDR it refuses for a clash or the limit. */
const OLDER_ADD_ADDR: OlderForm = { code: 'EINVAL', errno: 22, text: 'too many addresses or duplicate one' };

/** Adds a veth pair `a`/`b` inside the namespace, both up, with `addrs` on `a`. */
async function veth(ns: TestNetns, a: string, b: string, addrs: string[] = []): Promise<number> {
  await ns.ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b);
  await ns.ip('link', 'set', a, 'up');
  await ns.ip('link', 'set', b, 'up');
  for (const addr of addrs) await ns.ip('addr', 'add', addr, 'dev', a, ...(addr.includes(':') ? ['nodad'] : []));
  const [link] = JSON.parse(await ns.ip('-j', 'link', 'show', a)) as { ifindex: number }[];
  return link.ifindex;
}

/** TCP listeners in the namespace as "addr:port" (ss shows the in-kernel MPTCP listener there). */
async function listeners(ns: TestNetns): Promise<string[]> {
  const out = await ns.exec('ss', ['-ltnH']);
  return out.split('\n').map((l) => l.trim().split(/\s+/)[3]).filter((x): x is string => Boolean(x));
}

const rand = (): string => `${process.pid % 10000}${Math.floor(Math.random() * 100)}`;

describe('MptcpPm against the kernel', () => {
  it('every call round-trips in a fresh namespace', async () => {
    await withNs('calls', async (pm, ns) => {
      expect(pm.netns).toBe(ns.name);
      expect(pm.features.commands).toMatchObject({ addAddr: true, delAddr: true, getAddr: true, flushAddrs: true, setLimits: true, getLimits: true, setFlags: true });
      expect(pm.features.events).toBe(true);
      expect(await pm.getLimits()).toEqual({ subflows: 2, addAddrAccepted: 0 });
      expect(await pm.listEndpoints()).toEqual([]);

      const a = await pm.addEndpoint({ address: '192.0.2.1', id: 3, flags: ['subflow', 'backup'] });
      expect(a).toEqual({ id: 3, address: '192.0.2.1', family: 'inet', flags: ['subflow', 'backup'], unknownFlags: 0 });
      const b = await pm.addEndpoint({ address: '198.51.100.2', flags: ['signal'] });
      expect(b.id).toBe(4); // auto-assigned after the highest id handed out so far
      const c = await pm.addEndpoint({ address: '203.0.113.3' }); // flags 0 are accepted
      expect(c).toMatchObject({ id: 5, flags: [] });
      expect(await pm.getEndpoint(4)).toEqual(b);
      expect((await pm.listEndpoints()).map((e) => e.id)).toEqual([3, 4, 5]);

      expect(await pm.setEndpointFlags(4, { backup: true })).toMatchObject({ id: 4, flags: ['signal', 'backup'] });
      await pm.setLimits({ subflows: 4, addAddrAccepted: 3 });
      expect(await pm.getLimits()).toEqual({ subflows: 4, addAddrAccepted: 3 });
      await pm.setLimits({ subflows: 8 });
      expect(await pm.getLimits()).toEqual({ subflows: 8, addAddrAccepted: 3 });
      await expect(pm.setLimits({})).rejects.toMatchObject({ name: 'ValidationError', field: 'limits' });
      expect(await pm.getLimits()).toEqual({ subflows: 8, addAddrAccepted: 3 });

      await pm.deleteEndpoint(3);
      await pm.deleteEndpoint({ address: '203.0.113.3' });
      expect((await pm.listEndpoints()).map((e) => e.address)).toEqual(['198.51.100.2']);
      await pm.flushEndpoints();
      expect(await pm.listEndpoints()).toEqual([]);
    });
  });

  it('the 9th endpoint fails with ERANGE and the kernel\'s text; the 8 stay', async () => {
    await withNs('range', async (pm) => {
      for (let i = 1; i <= 8; i++) await pm.addEndpoint({ address: `192.0.2.${i}`, flags: ['subflow'] });
      await expectKernelError(pm.addEndpoint({ address: '192.0.2.9', flags: ['subflow'] }),
        'add-addr', 'ERANGE', 34, 'too many addresses or duplicate one: -34', undefined, OLDER_ADD_ADDR);
      expect((await pm.listEndpoints()).map((e) => e.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    });
  });

  it('a duplicate address is EEXIST, a duplicate id EBUSY, and neither changes anything', async () => {
    await withNs('dup', async (pm) => {
      await pm.addEndpoint({ address: '192.0.2.1', id: 10, flags: ['signal'] });
      await expectKernelError(pm.addEndpoint({ address: '192.0.2.1', id: 11, flags: ['subflow'] }),
        'add-addr', 'EEXIST', 17, 'too many addresses or duplicate one: -17', undefined, OLDER_ADD_ADDR);
      await expectKernelError(pm.addEndpoint({ address: '192.0.2.1' }),
        'add-addr', 'EEXIST', 17, 'too many addresses or duplicate one: -17', undefined, OLDER_ADD_ADDR);
      await expectKernelError(pm.addEndpoint({ address: '192.0.2.2', id: 10 }),
        'add-addr', 'EBUSY', 16, 'too many addresses or duplicate one: -16', undefined, OLDER_ADD_ADDR);
      expect(await pm.listEndpoints()).toEqual([{ id: 10, address: '192.0.2.1', family: 'inet', flags: ['signal'], unknownFlags: 0 }]);
    });
  });

  it('an unknown id is EINVAL "address not found" for get, delete and set-flags; an unknown address is EndpointNotFoundError', async () => {
    await withNs('unknown', async (pm) => {
      await pm.addEndpoint({ address: '192.0.2.1', id: 1 });
      await expectKernelError(pm.getEndpoint(77), 'get-addr', 'EINVAL', 22, 'address not found', 'addr');
      await expectKernelError(pm.deleteEndpoint(77), 'del-addr', 'EINVAL', 22, 'address not found', 'addr');
      await expectKernelError(pm.setEndpointFlags(77, { backup: true }), 'get-addr', 'EINVAL', 22, 'address not found', 'addr');
      expect(await rejection(pm.deleteEndpoint({ address: '192.0.2.99' }))).toBeInstanceOf(EndpointNotFoundError);
      expect(await rejection(pm.setEndpointFlags({ address: '2001:db8::99' }, { backup: true }))).toBeInstanceOf(EndpointNotFoundError);
      expect((await pm.listEndpoints()).map((e) => e.id)).toEqual([1]);
    });
  });

  it('setEndpointFlags preserves the flag it was not asked about, both ways', async () => {
    await withNs('flags', async (pm) => {
      await pm.addEndpoint({ address: '192.0.2.1', id: 1, flags: ['subflow', 'fullmesh'] });
      const steps: [{ backup?: boolean; fullmesh?: boolean }, string[]][] = [
        [{ backup: true }, ['subflow', 'backup', 'fullmesh']],
        [{ fullmesh: false }, ['subflow', 'backup']],
        [{ fullmesh: true }, ['subflow', 'backup', 'fullmesh']],
        [{ backup: false }, ['subflow', 'fullmesh']],
        [{ backup: true, fullmesh: false }, ['subflow', 'backup']],
        [{ backup: false }, ['subflow']],
      ];
      for (const [change, flags] of steps) {
        expect((await pm.setEndpointFlags(1, change)).flags, JSON.stringify(change)).toEqual(flags);
        expect((await pm.getEndpoint(1)).flags).toEqual(flags);
      }
      // By address, and on a signal endpoint (backup only; fullmesh is refused by the kernel).
      await pm.addEndpoint({ address: '2001:db8::2', id: 2, flags: ['signal', 'backup'] });
      expect((await pm.setEndpointFlags({ address: '2001:DB8::2' }, { backup: false })).flags).toEqual(['signal']);
      await expectKernelError(pm.setEndpointFlags(2, { fullmesh: true }), 'set-flags', 'EINVAL', 22, 'invalid addr flags', 'addr', { text: undefined });
      expect((await pm.getEndpoint(2)).flags).toEqual(['signal']);
    });
  });

  it('the trap is real: a bare SET_FLAGS with only BACKUP clears FULLMESH', async () => {
    await withNs('trap', async (pm) => {
      await pm.addEndpoint({ address: '192.0.2.1', id: 1, flags: ['subflow', 'fullmesh'] });
      await pm.run('setFlags', { addr: { id: 1, flags: 0x04 } });
      expect((await pm.getEndpoint(1)).flags).toEqual(['subflow', 'backup']);
    });
  });

  it('port rules: a signal endpoint with a port on a local address gets a listener; the kernel\'s refusals', async () => {
    await withNs('port', async (pm, ns) => {
      await veth(ns, 'vp0', 'vp1', ['192.0.2.10/24']);
      const ep = await pm.addEndpoint({ address: '192.0.2.10', port: 8080, flags: ['signal'] });
      expect(ep).toMatchObject({ address: '192.0.2.10', port: 8080, flags: ['signal'] });
      await waitFor(async () => (await listeners(ns)).includes('192.0.2.10:8080'), { timeoutMs: 3000, what: 'listener on 192.0.2.10:8080' });

      // The same IP once without a port, and again with another port.
      const plain = await pm.addEndpoint({ address: '192.0.2.10', flags: ['signal'] });
      const other = await pm.addEndpoint({ address: '192.0.2.10', port: 8081, flags: ['signal', 'backup'] });
      expect(plain.port).toBeUndefined();
      expect(other.port).toBe(8081);
      expect(new Set([ep.id, plain.id, other.id]).size).toBe(3);

      // A duplicate addr:port fails in the listener bind; a non-local address cannot listen.
      await expectKernelError(pm.addEndpoint({ address: '192.0.2.10', port: 8080, flags: ['signal'] }),
        'add-addr', 'EADDRINUSE', 98, 'create listen socket error: -98', undefined, { text: 'create listen socket error' });
      await expectKernelError(pm.addEndpoint({ address: '198.51.100.10', port: 8080, flags: ['signal'] }),
        'add-addr', 'EADDRNOTAVAIL', 99, 'create listen socket error: -99', undefined, { text: 'create listen socket error' });

      // The kernel enforces what the validator refuses before sending (checked through the raw op).
      await expectKernelError(pm.run('addAddr', { addr: { family: 2, addr4: 0xc000020a, port: 9000, flags: 0x03 } }).then(() => undefined),
        'add-addr', 'EINVAL', 22, 'flags must have signal and not subflow when using port', 'addr');
      expect(await rejection(pm.addEndpoint({ address: '192.0.2.10', port: 9000, flags: ['signal', 'subflow'] }))).toBeInstanceOf(ValidationError);

      // By address without a port means the port-less endpoint; with a port, that one.
      await pm.deleteEndpoint({ address: '192.0.2.10' });
      await pm.deleteEndpoint({ address: '192.0.2.10', port: 8080 });
      await waitFor(async () => !(await listeners(ns)).includes('192.0.2.10:8080'), { timeoutMs: 3000, what: 'listener 8080 closed' });
      expect(await listeners(ns)).toContain('192.0.2.10:8081');
      expect((await pm.listEndpoints()).map((e) => [e.id, e.port])).toEqual([[other.id, 8081]]);
    });
  });

  it('IPv6 endpoints: add, get, list, set flags, delete by any spelling', async () => {
    await withNs('v6', async (pm) => {
      const a = await pm.addEndpoint({ address: '2001:db8::1', id: 10, flags: ['signal', 'backup'] });
      expect(a).toEqual({ id: 10, address: '2001:db8::1', family: 'inet6', flags: ['signal', 'backup'], unknownFlags: 0 });
      const b = await pm.addEndpoint({ address: '2001:DB8:0:1:0:0:0:2', flags: ['subflow', 'fullmesh'] });
      expect(b).toMatchObject({ id: 11, address: '2001:db8:0:1::2', family: 'inet6' });
      await pm.addEndpoint({ address: '192.0.2.1', id: 1 });
      expect(await pm.getEndpoint(11)).toEqual(b);
      expect((await pm.listEndpoints()).map((e) => e.address)).toEqual(['192.0.2.1', '2001:db8::1', '2001:db8:0:1::2']);
      expect((await pm.setEndpointFlags({ address: '2001:db8:0:1::2' }, { backup: true })).flags).toEqual(['subflow', 'backup', 'fullmesh']);
      await pm.deleteEndpoint({ address: '2001:0db8:0000::0001' });
      expect((await pm.listEndpoints()).map((e) => e.id)).toEqual([1, 11]);
    });
  });

  it('ifname is resolved inside the namespace, and read back by name from there', async () => {
    await withNs('ifname', async (pm, ns) => {
      const name = `mpv${rand()}`;
      const peerName = `${name}p`;
      expect((await sh('ip', ['link', 'show', name])).status, 'name must be absent from the host').not.toBe(0);
      const ifindex = await veth(ns, name, peerName);
      const ep = await pm.addEndpoint({ address: '198.51.100.5', flags: ['subflow'], ifname: name });
      expect(ep).toMatchObject({ ifindex, ifname: name });
      expect(await pm.getEndpoint(ep.id)).toMatchObject({ ifindex, ifname: name });
      const shown = JSON.parse(await ns.ip('-j', 'mptcp', 'endpoint', 'show')) as { dev?: string }[];
      expect(shown[0].dev).toBe(name);

      // A name present in the host but not in the namespace is refused, nothing added.
      const hostLinks = JSON.parse((await sh('ip', ['-j', 'link', 'show'])).stdout) as { ifname: string }[];
      const nsLinks = new Set((JSON.parse(await ns.ip('-j', 'link', 'show')) as { ifname: string }[]).map((l) => l.ifname));
      const hostOnly = hostLinks.map((l) => l.ifname).find((n) => !nsLinks.has(n));
      if (hostOnly) {
        const err = await rejection(pm.addEndpoint({ address: '198.51.100.6', flags: ['subflow'], ifname: hostOnly }));
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as ValidationError).field).toBe('ifname');
        expect(err.message).toContain(`network namespace "${ns.name}"`);
      }
      expect(await rejection(pm.addEndpoint({ address: '198.51.100.7', ifname: 'nosuchif0' }))).toBeInstanceOf(ValidationError);
      expect((await pm.listEndpoints()).length).toBe(1);
    });
  });

  it('flushEndpoints keeps the limits and restarts ids at 1', async () => {
    await withNs('flush', async (pm) => {
      await pm.setLimits({ subflows: 5, addAddrAccepted: 3 });
      await pm.addEndpoint({ address: '192.0.2.1', id: 40, flags: ['signal'] });
      await pm.addEndpoint({ address: '2001:db8::1', flags: ['subflow'] });
      await pm.addEndpoint({ address: '203.0.113.1', flags: ['subflow', 'backup'] });
      await pm.flushEndpoints();
      expect(await pm.listEndpoints()).toEqual([]);
      expect(await pm.getLimits()).toEqual({ subflows: 5, addAddrAccepted: 3 });
      expect((await pm.addEndpoint({ address: '192.0.2.2' })).id).toBe(1);
    });
  });

  it('limits outside 0–8 and implicit endpoints are refused before sending; the kernel state is unchanged', async () => {
    await withNs('refuse', async (pm) => {
      await pm.setLimits({ subflows: 3, addAddrAccepted: 1 });
      expect(await rejection(pm.addEndpoint({ address: '192.0.2.1', flags: ['implicit'] }))).toMatchObject({ name: 'ValidationError', field: 'flags' });
      expect(await rejection(pm.setLimits({ subflows: 9 }))).toMatchObject({ name: 'ValidationError', field: 'limits.subflows' });
      expect(await pm.listEndpoints()).toEqual([]);
      expect(await pm.getLimits()).toEqual({ subflows: 3, addAddrAccepted: 1 });
      // What the kernel itself says for both (raw ops, bypassing validation).
      await expectKernelError(pm.run('addAddr', { addr: { family: 2, addr4: 0xc0000201, flags: 0x12 } }).then(() => undefined),
        'add-addr', 'EINVAL', 22, "can't create IMPLICIT endpoint", 'addr');
      await expectKernelError(pm.run('setLimits', { subflows: 9, rcvAddAddrs: 2 }).then(() => undefined),
        'set-limits', 'EINVAL', 22, 'limit greater than maximum (8)', 'subflows', { text: 'limit greater than maximum' });
      expect(await pm.getLimits()).toEqual({ subflows: 3, addAddrAccepted: 1 });
    });
  });

  it('two namespaces are isolated from each other', async () => {
    const a = await makeNetns('isoa');
    const b = await makeNetns('isob');
    const pa = await MptcpPm.open({ netns: a.name });
    const pb = await MptcpPm.open({ netns: `/run/netns/${b.name}` });
    try {
      await pa.addEndpoint({ address: '192.0.2.1', id: 1, flags: ['signal'] });
      await pa.setLimits({ subflows: 7, addAddrAccepted: 6 });
      expect(await pb.listEndpoints()).toEqual([]);
      expect(await pb.getLimits()).toEqual({ subflows: 2, addAddrAccepted: 0 });
      // The same address and id are free in the other namespace.
      await pb.addEndpoint({ address: '192.0.2.1', id: 1, flags: ['subflow'] });
      await pb.flushEndpoints();
      expect(await pa.listEndpoints()).toMatchObject([{ id: 1, address: '192.0.2.1', flags: ['signal'] }]);
      expect(await pa.getLimits()).toEqual({ subflows: 7, addAddrAccepted: 6 });
      expect(await pb.listEndpoints()).toEqual([]);
      // And `ip` agrees about which namespace holds what.
      expect(JSON.parse(await a.ip('-j', 'mptcp', 'endpoint', 'show'))).toEqual([{ address: '192.0.2.1', id: 1, signal: true }]);
      expect(JSON.parse(await b.ip('-j', 'mptcp', 'endpoint', 'show'))).toEqual([]);
    } finally {
      pa.close();
      pb.close();
      await a.destroy();
      await b.destroy();
    }
  });

  it('reading works without privilege; writing fails with EPERM naming CAP_NET_ADMIN', async () => {
    await withNs('unpriv', async (pm, ns) => {
      await pm.addEndpoint({ address: '192.0.2.1', id: 2, flags: ['subflow', 'backup'] });
      const dev = `mpu${rand()}`;
      await veth(ns, dev, `${dev}p`);
      await pm.addEndpoint({ address: '2001:db8::5', id: 5, flags: ['subflow'], ifname: dev }); // read back by name, unprivileged
      await pm.setLimits({ subflows: 3, addAddrAccepted: 4 });
      const expected = await pm.listEndpoints();

      // A child process as `nobody` inside the namespace (ip netns exec, then setpriv drops to uid
      // 65534 with no capabilities). It cannot setns itself, so it opens the namespace it is in.
      const r = await runAsNobody(ns.name, CHILD_SOURCE, scaled(30_000));
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, any>;
      expect(out.uid).toBe(65534);
      expect(out.capEff).toBe('0000000000000000');
      expect(out.list).toEqual(expected);
      expect(out.viaPath).toEqual(expected);
      expect(out.one).toEqual(expected[0]);
      expect(out.limits).toEqual({ subflows: 3, addAddrAccepted: 4 });
      for (const key of ['add', 'setLimits', 'flush'] as const) {
        expect(out[key], key).toMatchObject({ name: 'NetlinkError', code: 'EPERM', errno: 1 });
        expect(out[key].message).toMatch(/^mptcp_pm [a-z-]+: EPERM: .*CAP_NET_ADMIN in the user namespace/);
      }
      expect(out.add.op).toBe('add-addr');
      // Nothing changed.
      expect(await pm.listEndpoints()).toEqual(expected);
      expect(await pm.getLimits()).toEqual({ subflows: 3, addAddrAccepted: 4 });
    });
  });

  it('a namespace that does not exist is a clear NetnsError', async () => {
    const name = `nosuch-${process.pid}-${Date.now()}`;
    const err = await rejection(MptcpPm.open({ netns: name }));
    expect(err).toBeInstanceOf(NetnsError);
    expect(err.message).toBe(`network namespace "${name}": not found (no /run/netns/${name})`);
    const err2 = await rejection(MptcpPm.open({ netns: '/proc/999999999/ns/net' }));
    expect(err2).toBeInstanceOf(NetnsError);
    expect(err2.message).toMatch(/not found/);
  });

  it('leaves this process in its own namespace and the host\'s MPTCP state untouched', async () => {
    expect(before).toBeDefined();
    expect(await hostState()).toEqual(before);
  });
});

afterAll(async () => {
  // A last guard, also when a test above failed half-way: the process must not have moved.
  if (before) {
    const now = await hostState();
    if (now.selfNs !== before.selfNs || now.threadNs !== before.threadNs) throw new Error('the test process changed network namespace');
  }
});

/** The unprivileged child: reads, then tries three writes, and prints one JSON line. */
const CHILD_SOURCE = `
import { readFileSync } from 'node:fs';
import { MptcpPm } from @ENTRY@;
const errInfo = (e) => ({ name: e.name, op: e.op, code: e.code, errno: e.errno, message: e.message });
const capEff = /CapEff:\\s*(\\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
const out = { uid: process.getuid(), capEff };
const pm = await MptcpPm.open({});
out.list = await pm.listEndpoints();
out.one = await pm.getEndpoint(out.list[0]?.id ?? 1);
out.limits = await pm.getLimits();
for (const [key, call] of [
  ['add', () => pm.addEndpoint({ address: '192.0.2.77' })],
  ['setLimits', () => pm.setLimits({ subflows: 1 })],
  ['flush', () => pm.flushEndpoints()],
]) {
  try { await call(); out[key] = 'succeeded'; } catch (e) { out[key] = errInfo(e); }
}
pm.close();
const viaPath = await MptcpPm.open({ netns: '/proc/self/ns/net' });
out.viaPath = await viaPath.listEndpoints();
viaPath.close();
console.log(JSON.stringify(out));
`;
