// Kernel tests of SourceRouting: per-source rules and tables in a namespace with two veth links,
// cross-checked with `ip rule`/`ip route`; foreign entries stay; concurrency; input refused early.

import { afterEach, beforeEach, describe, expect } from 'vitest';
import { SourceRouting } from '../src/routing/source-routing.js';
import { ValidationError } from '../src/netlink/core/errors.js';
import { kernelIt, makeNetns, type TestNetns } from './helpers/netns.js';

const it = kernelIt();

/** A namespace with two veth links (peers in the same namespace) and gateways on each. */
async function twoLinks(): Promise<TestNetns> {
  const ns = await makeNetns('srt');
  for (const [i, net, net6] of [[1, '192.0.2', '2001:db8:1'], [2, '198.51.100', '2001:db8:2']] as const) {
    await ns.ip('link', 'add', `eth${i}`, 'type', 'veth', 'peer', 'name', `gw${i}`);
    await ns.ip('addr', 'add', `${net}.1/24`, 'dev', `eth${i}`);
    await ns.ip('-6', 'addr', 'add', `${net6}::1/64`, 'dev', `eth${i}`, 'nodad');
    await ns.ip('link', 'set', `eth${i}`, 'up');
    await ns.ip('link', 'set', `gw${i}`, 'up');
  }
  await ns.ip('route', 'add', 'default', 'via', '192.0.2.254', 'dev', 'eth1', 'metric', '100');
  await ns.ip('route', 'add', 'default', 'via', '198.51.100.254', 'dev', 'eth2', 'metric', '200');
  return ns;
}

const rules = async (ns: TestNetns, v6 = false): Promise<Record<string, unknown>[]> =>
  JSON.parse(await ns.ip('-j', ...(v6 ? ['-6'] : []), 'rule', 'show')) as Record<string, unknown>[];
const table = async (ns: TestNetns, t: number, v6 = false): Promise<Record<string, unknown>[]> =>
  JSON.parse(await ns.ip('-j', ...(v6 ? ['-6'] : []), 'route', 'show', 'table', String(t))) as Record<string, unknown>[];

describe('SourceRouting', () => {
  let ns: TestNetns;
  let rt: SourceRouting | undefined;
  beforeEach(async () => {
    ns = await twoLinks();
  });
  afterEach(async () => {
    rt?.close();
    rt = undefined;
    await ns.destroy();
  });

  it('adds the tutorial\'s rule and routes with explicit tables, lists and removes them', async () => {
    rt = await SourceRouting.open({ netns: ns.name });
    await rt.add({ address: '198.51.100.1', ifname: 'eth2', gateway: '198.51.100.254', table: 20 });
    await rt.add({ address: '2001:db8:2::1', ifname: 'eth2', gateway: '2001:db8:2::fe', table: 21 });
    const r4 = (await rules(ns)).find((r) => r.src === '198.51.100.1');
    expect(r4).toMatchObject({ priority: 10000, table: '20', protocol: '77' });
    expect((await table(ns, 20)).map((r) => [r.dst, r.gateway, r.dev, r.scope]).sort()).toEqual([
      ['198.51.100.0/24', undefined, 'eth2', 'link'],
      ['default', '198.51.100.254', 'eth2', undefined],
    ].sort());
    expect((await rules(ns, true)).find((r) => r.src === '2001:db8:2::1')).toMatchObject({ table: '21' });
    expect((await table(ns, 21, true)).map((r) => [r.dst, r.gateway ?? null])).toEqual(expect.arrayContaining([
      ['2001:db8:2::/64', null], ['default', '2001:db8:2::fe'],
    ]));
    expect((await rt.list()).sort((a, b) => a.table - b.table)).toEqual([
      { address: '198.51.100.1', ifname: 'eth2', table: 20, gateway: '198.51.100.254' },
      { address: '2001:db8:2::1', ifname: 'eth2', table: 21, gateway: '2001:db8:2::fe' },
    ]);
    expect(await rt.remove('198.51.100.1')).toBe(true);
    expect(await rt.remove('198.51.100.1')).toBe(false);
    expect((await rules(ns)).some((r) => r.src === '198.51.100.1')).toBe(false);
    expect(await table(ns, 20)).toEqual([]);
    expect((await rt.list()).map((e) => e.address)).toEqual(['2001:db8:2::1']);
  });

  it('takes the gateway from the device\'s default route in main and a free table when none is given', async () => {
    rt = await SourceRouting.open({ netns: ns.name });
    const e = await rt.add({ address: '198.51.100.1', ifname: 'eth2' });
    expect(e).toEqual({ address: '198.51.100.1', ifname: 'eth2', table: 1000, gateway: '198.51.100.254' });
    const e1 = await rt.add({ address: '192.0.2.1', ifname: 'eth1' });
    expect(e1.table).toBe(1001);
    // Adding again with another gateway replaces the default route, keeping one rule.
    await rt.add({ address: '198.51.100.1', ifname: 'eth2', gateway: '198.51.100.253' });
    expect((await table(ns, 1000)).filter((r) => r.dst === 'default').map((r) => r.gateway)).toEqual(['198.51.100.253']);
    expect((await rules(ns)).filter((r) => r.src === '198.51.100.1')).toHaveLength(1);
  });

  it('leaves rules and routes it did not make alone, also in a table it uses', async () => {
    await ns.ip('rule', 'add', 'from', '198.51.100.1', 'table', '30', 'pref', '10000');
    await ns.ip('route', 'add', '203.0.113.0/24', 'dev', 'eth2', 'table', '30');
    rt = await SourceRouting.open({ netns: ns.name });
    expect(await rt.list()).toEqual([]);
    await rt.add({ address: '198.51.100.1', ifname: 'eth2', table: 30 });
    expect(await rt.remove('198.51.100.1')).toBe(true);
    expect((await rules(ns)).filter((r) => r.src === '198.51.100.1')).toEqual([expect.objectContaining({ table: '30', priority: 10000 })]);
    expect((await table(ns, 30)).map((r) => r.dst)).toEqual(['203.0.113.0/24']);
  });

  it('serves many concurrent add and remove calls without losing or duplicating an entry', async () => {
    for (let i = 2; i <= 9; i++) await ns.ip('addr', 'add', `198.51.100.${i}/24`, 'dev', 'eth2');
    rt = await SourceRouting.open({ netns: ns.name });
    const addrs = Array.from({ length: 8 }, (_, i) => `198.51.100.${i + 2}`);
    const added = await Promise.all(addrs.map((address) => rt!.add({ address, ifname: 'eth2' })));
    expect(new Set(added.map((a) => a.table)).size).toBe(8);
    expect((await rt.list()).map((e) => e.address).sort()).toEqual([...addrs].sort());
    const results = await Promise.all([
      ...addrs.slice(0, 4).map((a) => rt!.remove(a)),
      ...addrs.slice(4).map((address) => rt!.add({ address, ifname: 'eth2', gateway: '198.51.100.250' })),
    ]);
    expect(results.slice(0, 4)).toEqual([true, true, true, true]);
    const left = await rt.list();
    expect(left.map((e) => e.address).sort()).toEqual(addrs.slice(4).sort());
    expect(left.every((e) => e.gateway === '198.51.100.250')).toBe(true);
    expect((await rules(ns)).filter((r) => r.protocol === '77')).toHaveLength(4);
  });

  it('refuses bad input before sending, naming the field', async () => {
    rt = await SourceRouting.open({ netns: ns.name });
    const bad: [unknown, string][] = [
      [{ address: '198.51.100.300', ifname: 'eth2' }, 'address'],
      [{ address: '198.51.100.1', ifname: 'a/b' }, 'ifname'],
      [{ address: '198.51.100.1', ifname: 'eth2', table: 254 }, 'table'],
      [{ address: '198.51.100.1', ifname: 'eth2', table: 0 }, 'table'],
      [{ address: '198.51.100.1', ifname: 'eth2', table: 2 ** 32 }, 'table'],
      [{ address: '198.51.100.1', ifname: 'eth2', gateway: '2001:db8::1' }, 'gateway'],
      [{ address: '198.51.100.1', ifname: 'eth2', tabel: 5 }, 'route.tabel'],
    ];
    for (const [spec, field] of bad) {
      const err = await rt.add(spec as never).catch((e: unknown) => e);
      expect(err, JSON.stringify(spec)).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field).toBe(field);
    }
    expect(await rt.list()).toEqual([]);
    await expect(rt.add({ address: '203.0.113.1', ifname: 'eth2' })).rejects.toThrow(/not configured on eth2/);
    await expect(rt.add({ address: '198.51.100.1', ifname: 'nosuch0' })).rejects.toThrow(/ENODEV/);
  });
});
