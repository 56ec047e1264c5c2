// Differential tests (tier 3) against iproute2: what the library writes, `ip mptcp` reads back
// identically, and what `ip mptcp` writes, the library reads back identically. Endpoints (IPv4, IPv6,
// flag combinations, a port, a device) and limits, each in fresh namespaces removed afterwards.

import { describe, expect } from 'vitest';
import { MptcpPm } from '../src/mptcp/pm/pm.js';
import { ENDPOINT_FLAGS, type Endpoint, type EndpointFlag, type EndpointSpec } from '../src/mptcp/pm/endpoint.js';
import { kernelIt, makeNetns, type TestNetns } from './helpers/netns.js';
import { expectUnsupported, kernelFeatures } from './helpers/features.js';

const it = kernelIt();

/** One endpoint in a form both sides can be brought to. */
interface Row {
  id: number;
  address: string;
  port?: number;
  flags: string[];
  dev?: string;
}

const FLAG_ORDER = Object.keys(ENDPOINT_FLAGS) as EndpointFlag[];
const sortFlags = (f: string[]): string[] => [...f].sort((a, b) => FLAG_ORDER.indexOf(a as EndpointFlag) - FLAG_ORDER.indexOf(b as EndpointFlag));

/**
 * An entry of `ip -j mptcp endpoint show`. Known flags are `"name": true`; bits this iproute2 has
 * no name for come as `"rawflags": "<hex>"` (iproute2 6.1 prints laminar, 0x20, that way).
 */
function fromIp(j: Record<string, unknown>): Row {
  const flags: string[] = [];
  for (const name of FLAG_ORDER) if (j[name] === true) flags.push(name);
  if (typeof j.rawflags === 'string') {
    const raw = parseInt(j.rawflags, 16);
    for (const name of FLAG_ORDER) if (raw & ENDPOINT_FLAGS[name]) flags.push(name);
    const unnamed = raw & ~FLAG_ORDER.reduce((m, n) => m | ENDPOINT_FLAGS[n], 0);
    if (unnamed) flags.push(`0x${unnamed.toString(16)}`);
  }
  const known = new Set(['address', 'id', 'port', 'dev', 'rawflags', ...FLAG_ORDER]);
  const extra = Object.keys(j).filter((k) => !known.has(k));
  if (extra.length) throw new Error(`ip printed keys this test does not understand: ${extra.join(', ')}`);
  const row: Row = { id: j.id as number, address: j.address as string, flags: sortFlags([...new Set(flags)]) };
  if (j.port !== undefined) row.port = j.port as number;
  if (j.dev !== undefined) row.dev = j.dev as string;
  return row;
}

function fromLib(e: Endpoint): Row {
  const flags: string[] = [...e.flags];
  if (e.unknownFlags) flags.push(`0x${e.unknownFlags.toString(16)}`);
  const row: Row = { id: e.id, address: e.address, flags: sortFlags(flags) };
  if (e.port !== undefined) row.port = e.port;
  if (e.ifname !== undefined) row.dev = e.ifname;
  else if (e.ifindex !== undefined) row.dev = `#${e.ifindex}`;
  return row;
}

async function ipEndpoints(ns: TestNetns, ...sel: string[]): Promise<Row[]> {
  const out = await ns.ip('-j', 'mptcp', 'endpoint', 'show', ...sel);
  return (JSON.parse(out) as Record<string, unknown>[]).map(fromIp);
}

/** Limits as ip prints them: JSON when this iproute2 has it for limits, else the text form. */
async function ipLimits(ns: TestNetns): Promise<{ subflows: number; addAddrAccepted: number; json: boolean }> {
  const text = await ns.ip('mptcp', 'limits', 'show');
  const m = /add_addr_accepted (\d+) subflows (\d+)/.exec(text);
  if (!m) throw new Error(`unexpected "ip mptcp limits show" output: ${text}`);
  const fromText = { subflows: Number(m[2]), addAddrAccepted: Number(m[1]) };
  const j = await ns.ip('-j', 'mptcp', 'limits', 'show');
  let parsed: unknown;
  try {
    parsed = JSON.parse(j);
  } catch {
    return { ...fromText, json: false }; // iproute2 6.1 prints text for -j here
  }
  const o = (Array.isArray(parsed) ? parsed[0] : parsed) as { add_addr_accepted?: number; subflows?: number };
  const fromJson = { subflows: o.subflows ?? 0, addAddrAccepted: o.add_addr_accepted ?? 0 };
  expect(fromJson, 'ip -j and plain ip disagree').toEqual(fromText);
  return { ...fromJson, json: true };
}

async function withNs(tag: string, body: (pm: MptcpPm, ns: TestNetns) => Promise<void>): Promise<void> {
  const ns = await makeNetns(tag);
  let pm: MptcpPm | undefined;
  try {
    pm = await MptcpPm.open({ netns: ns.name });
    await body(pm, ns);
  } finally {
    pm?.close();
    await ns.destroy();
  }
}

/** Brings up veth `a`/`b` in the namespace with `addrs` on `a`. */
async function veth(ns: TestNetns, a: string, b: string, addrs: string[]): Promise<void> {
  await ns.ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b);
  await ns.ip('link', 'set', a, 'up');
  await ns.ip('link', 'set', b, 'up');
  for (const addr of addrs) await ns.ip('addr', 'add', addr, 'dev', a, ...(addr.includes(':') ? ['nodad'] : []));
}

/** Checks every endpoint both ways: the whole list, and each one by id (`show id N` vs getEndpoint). */
async function expectSame(pm: MptcpPm, ns: TestNetns, expected: Row[]): Promise<void> {
  const lib = (await pm.listEndpoints()).map(fromLib);
  const ip = await ipEndpoints(ns);
  expect(lib).toEqual(expected);
  expect(ip).toEqual(expected);
  for (const row of expected) {
    expect(await ipEndpoints(ns, 'id', String(row.id))).toEqual([row]);
    expect(fromLib(await pm.getEndpoint(row.id))).toEqual(row);
  }
}

describe('library writes, iproute2 reads', () => {
  it('IPv4: flag combinations, a port endpoint, auto ids', async () => {
    await withNs('ipw4', async (pm, ns) => {
      await veth(ns, 'vd0', 'vd1', ['192.0.2.10/24']);
      const specs: EndpointSpec[] = [
        { address: '192.0.2.1', id: 1, flags: ['signal'] },
        { address: '192.0.2.2', id: 2, flags: ['subflow'] },
        { address: '192.0.2.3', id: 7, flags: ['subflow', 'backup'] },
        { address: '198.51.100.4', flags: ['subflow', 'fullmesh'] },
        { address: '198.51.100.5', flags: ['subflow', 'backup', 'fullmesh'] },
        { address: '203.0.113.6', id: 255, flags: ['signal', 'backup'] },
        { address: '203.0.113.7', id: 30 },
        { address: '192.0.2.10', port: 8080, flags: ['signal'] },
      ];
      for (const s of specs) await pm.addEndpoint(s);
      await expectSame(pm, ns, [
        { id: 1, address: '192.0.2.1', flags: ['signal'] },
        { id: 2, address: '192.0.2.2', flags: ['subflow'] },
        { id: 7, address: '192.0.2.3', flags: ['subflow', 'backup'] },
        { id: 8, address: '198.51.100.4', flags: ['subflow', 'fullmesh'] },
        { id: 9, address: '198.51.100.5', flags: ['subflow', 'backup', 'fullmesh'] },
        { id: 30, address: '203.0.113.7', flags: [] },
        { id: 31, address: '192.0.2.10', port: 8080, flags: ['signal'] },
        { id: 255, address: '203.0.113.6', flags: ['signal', 'backup'] },
      ]);

      // Flag changes and deletions are seen by ip too.
      await pm.setEndpointFlags(9, { backup: false });
      await pm.setEndpointFlags(8, { backup: true });
      await pm.setEndpointFlags({ address: '203.0.113.6' }, { backup: false });
      await pm.deleteEndpoint({ address: '192.0.2.10', port: 8080 });
      await pm.deleteEndpoint(30);
      await expectSame(pm, ns, [
        { id: 1, address: '192.0.2.1', flags: ['signal'] },
        { id: 2, address: '192.0.2.2', flags: ['subflow'] },
        { id: 7, address: '192.0.2.3', flags: ['subflow', 'backup'] },
        { id: 8, address: '198.51.100.4', flags: ['subflow', 'backup', 'fullmesh'] },
        { id: 9, address: '198.51.100.5', flags: ['subflow', 'fullmesh'] },
        { id: 255, address: '203.0.113.6', flags: ['signal'] },
      ]);
      await pm.flushEndpoints();
      expect(await ipEndpoints(ns)).toEqual([]);
    });
  });

  it('IPv6, devices, a v6 port endpoint and the laminar flag (UnsupportedError where the kernel lacks it)', async () => {
    await withNs('ipw6', async (pm, ns) => {
      await veth(ns, 'vx0', 'vx1', ['2001:db8::10/64', '198.51.100.10/24']);
      await veth(ns, 'vy0', 'vy1', []);
      await pm.addEndpoint({ address: '2001:db8::1', id: 1, flags: ['signal', 'backup'] });
      await pm.addEndpoint({ address: '2001:db8:1::2', id: 2, flags: ['subflow', 'fullmesh'], ifname: 'vy0' });
      await pm.addEndpoint({ address: '2001:db8::10', id: 3, port: 9443, flags: ['signal'] });
      await pm.addEndpoint({ address: '198.51.100.10', id: 4, flags: ['subflow', 'backup'], ifname: 'vx0' });
      const laminar: Row[] = [
        { id: 5, address: '2001:db8:ffff::abcd', flags: ['subflow', 'laminar'] },
        { id: 6, address: '203.0.113.9', flags: ['laminar'] },
      ];
      const withLaminar = (await kernelFeatures()).endpointFlags.includes('laminar');
      for (const row of laminar) {
        const added = pm.addEndpoint({ address: row.address, id: row.id, flags: row.flags as EndpointFlag[] });
        // A kernel without the flag would drop it silently: the library refuses before sending.
        if (withLaminar) await added;
        else await expectUnsupported(added, '6.18');
      }
      await expectSame(pm, ns, [
        { id: 1, address: '2001:db8::1', flags: ['signal', 'backup'] },
        { id: 2, address: '2001:db8:1::2', flags: ['subflow', 'fullmesh'], dev: 'vy0' },
        { id: 3, address: '2001:db8::10', port: 9443, flags: ['signal'] },
        { id: 4, address: '198.51.100.10', flags: ['subflow', 'backup'], dev: 'vx0' },
        ...(withLaminar ? laminar : []),
      ]);
    });
  });

  it('limits, including 0 and 8, read back by ip', async () => {
    await withNs('iplim', async (pm, ns) => {
      expect(await ipLimits(ns)).toMatchObject({ subflows: 2, addAddrAccepted: 0 });
      for (const l of [{ subflows: 0, addAddrAccepted: 8 }, { subflows: 8, addAddrAccepted: 0 }, { subflows: 3, addAddrAccepted: 5 }]) {
        await pm.setLimits(l);
        expect(await ipLimits(ns)).toMatchObject(l);
      }
      await pm.setLimits({ subflows: 6 });
      expect(await ipLimits(ns)).toMatchObject({ subflows: 6, addAddrAccepted: 5 });
      await pm.flushEndpoints();
      expect(await ipLimits(ns)).toMatchObject({ subflows: 6, addAddrAccepted: 5 });
    });
  });
});

describe('iproute2 writes, library reads', () => {
  it('endpoints added, changed and deleted by ip', async () => {
    await withNs('ipr', async (pm, ns) => {
      await veth(ns, 'vr0', 'vr1', ['192.0.2.20/24', '2001:db8::20/64']);
      const add = (...a: string[]): Promise<string> => ns.ip('mptcp', 'endpoint', 'add', ...a);
      await add('192.0.2.1', 'id', '1', 'signal');
      await add('192.0.2.2', 'id', '2', 'subflow', 'backup');
      await add('192.0.2.20', 'port', '7000', 'id', '3', 'signal');
      await add('198.51.100.3', 'dev', 'vr0', 'id', '4', 'subflow', 'fullmesh');
      await add('2001:db8::20', 'port', '7001', 'id', '5', 'signal', 'backup');
      await add('2001:db8:2::5', 'dev', 'vr1', 'subflow', 'backup', 'fullmesh');
      await add('203.0.113.7');
      const expected: Row[] = [
        { id: 1, address: '192.0.2.1', flags: ['signal'] },
        { id: 2, address: '192.0.2.2', flags: ['subflow', 'backup'] },
        { id: 3, address: '192.0.2.20', port: 7000, flags: ['signal'] },
        { id: 4, address: '198.51.100.3', flags: ['subflow', 'fullmesh'], dev: 'vr0' },
        { id: 5, address: '2001:db8::20', port: 7001, flags: ['signal', 'backup'] },
        { id: 6, address: '2001:db8:2::5', flags: ['subflow', 'backup', 'fullmesh'], dev: 'vr1' },
        { id: 7, address: '203.0.113.7', flags: [] },
      ];
      await expectSame(pm, ns, expected);

      // The library's setEndpointFlags on what ip made keeps the other flag (ip's own "change" may not).
      await pm.setEndpointFlags(4, { backup: true });
      await pm.setEndpointFlags({ address: '2001:db8:2::5' }, { backup: false });
      await ns.ip('mptcp', 'endpoint', 'delete', 'id', '1');
      await ns.ip('mptcp', 'endpoint', 'delete', 'id', '5');
      await expectSame(pm, ns, [
        expected[1],
        expected[2],
        { ...expected[3], flags: ['subflow', 'backup', 'fullmesh'] },
        { ...expected[5], flags: ['subflow', 'fullmesh'] },
        expected[6],
      ]);
      await ns.ip('mptcp', 'endpoint', 'flush');
      expect(await pm.listEndpoints()).toEqual([]);
    });
  });

  it('limits set by ip', async () => {
    await withNs('iprl', async (pm, ns) => {
      for (const [s, a] of [[0, 0], [8, 8], [1, 7], [4, 2]]) {
        await ns.ip('mptcp', 'limits', 'set', 'subflows', String(s), 'add_addr_accepted', String(a));
        expect(await pm.getLimits()).toEqual({ subflows: s, addAddrAccepted: a });
        expect(await ipLimits(ns)).toMatchObject({ subflows: s, addAddrAccepted: a });
      }
      await ns.ip('mptcp', 'limits', 'set', 'add_addr_accepted', '3');
      expect(await pm.getLimits()).toEqual({ subflows: 4, addAddrAccepted: 3 });
    });
  });
});
