// Kernel tests of EndpointReconciler: endpoints and per-source rules follow addresses (v4, v6) and
// links, survive a restart, leave foreign state alone, and `cleanup` removes only its own.

import { afterEach, beforeEach, describe, expect } from 'vitest';
import { EndpointReconciler, type ReconcilerChange } from '../src/routing/reconciler.js';
import { ValidationError } from '../src/netlink/core/errors.js';
import { kernelIt, makeNetns, waitFor, type TestNetns } from './helpers/netns.js';

const it = kernelIt();
const RULES = [{ interface: 'eth*', flags: ['subflow' as const] }, { interface: 'wlan*', flags: ['subflow' as const, 'backup' as const] }];

interface IpEndpoint { address: string; id: number; dev?: string; subflow?: boolean; backup?: boolean; signal?: boolean }

async function network(): Promise<TestNetns> {
  const ns = await makeNetns('rec');
  for (const [dev, net, net6] of [['eth1', '192.0.2', '2001:db8:1'], ['wlan1', '198.51.100', '2001:db8:2']] as const) {
    await ns.ip('link', 'add', dev, 'type', 'veth', 'peer', 'name', `p${dev}`);
    await ns.ip('addr', 'add', `${net}.1/24`, 'dev', dev);
    await ns.ip('-6', 'addr', 'add', `${net6}::1/64`, 'dev', dev, 'nodad');
    await ns.ip('link', 'set', dev, 'up');
    await ns.ip('link', 'set', `p${dev}`, 'up');
  }
  await ns.ip('route', 'add', 'default', 'via', '192.0.2.254', 'dev', 'eth1', 'metric', '100');
  await ns.ip('route', 'add', 'default', 'via', '198.51.100.254', 'dev', 'wlan1', 'metric', '200');
  await ns.ip('-6', 'route', 'add', 'default', 'via', '2001:db8:1::fe', 'dev', 'eth1', 'metric', '100');
  await ns.ip('-6', 'route', 'add', 'default', 'via', '2001:db8:2::fe', 'dev', 'wlan1', 'metric', '200');
  return ns;
}

const endpoints = async (ns: TestNetns): Promise<IpEndpoint[]> =>
  (JSON.parse(await ns.ip('-j', 'mptcp', 'endpoint', 'show')) as IpEndpoint[]).sort((a, b) => a.id - b.id);
const addrsOf = async (ns: TestNetns): Promise<string[]> => (await endpoints(ns)).map((e) => e.address).sort();
const ownRules = async (ns: TestNetns, v6 = false): Promise<Record<string, unknown>[]> =>
  (JSON.parse(await ns.ip('-j', ...(v6 ? ['-6'] : []), 'rule', 'show')) as Record<string, unknown>[]).filter((r) => r.protocol === '77');
const tableRoutes = async (ns: TestNetns, table: unknown): Promise<Record<string, unknown>[]> =>
  JSON.parse(await ns.ip('-j', 'route', 'show', 'table', String(table))) as Record<string, unknown>[];
const same = (want: string[]) => async (ns: TestNetns): Promise<boolean> => JSON.stringify(await addrsOf(ns)) === JSON.stringify([...want].sort());
const ALL = ['192.0.2.1', '198.51.100.1', '2001:db8:1::1', '2001:db8:2::1'];

describe('EndpointReconciler', () => {
  let ns: TestNetns;
  let r: EndpointReconciler | undefined;
  beforeEach(async () => {
    ns = await network();
  });
  afterEach(async () => {
    await r?.stop();
    r = undefined;
    await ns.destroy();
  });

  it('makes endpoints and per-source rules for the addresses there, and follows v4/v6 address add and remove', async () => {
    r = await EndpointReconciler.start({ netns: ns.name, rules: RULES, sourceRouting: true });
    const eps = await endpoints(ns);
    expect(eps.map((e) => [e.address, e.dev, !!e.subflow, !!e.backup]).sort()).toEqual([
      ['192.0.2.1', 'eth1', true, false], ['198.51.100.1', 'wlan1', true, true],
      ['2001:db8:1::1', 'eth1', true, false], ['2001:db8:2::1', 'wlan1', true, true],
    ]);
    expect(eps.every((e) => e.id >= 100 && e.id <= 199)).toBe(true);
    expect((await ownRules(ns)).map((x) => x.src).sort()).toEqual(['192.0.2.1', '198.51.100.1']);
    expect((await ownRules(ns, true)).map((x) => x.src).sort()).toEqual(['2001:db8:1::1', '2001:db8:2::1']);
    const wlanRule = (await ownRules(ns)).find((x) => x.src === '198.51.100.1');
    expect(wlanRule?.priority).toBe(10100);
    expect((await tableRoutes(ns, wlanRule?.table)).map((x) => [x.dst, x.gateway ?? null, x.dev]).sort()).toEqual([
      ['198.51.100.0/24', null, 'wlan1'], ['default', '198.51.100.254', 'wlan1'],
    ]);

    const changes: ReconcilerChange[] = [];
    r.on('change', (c) => changes.push(...c));
    await ns.ip('addr', 'add', '192.0.2.7/24', 'dev', 'eth1');
    await ns.ip('-6', 'addr', 'add', '2001:db8:1::7/64', 'dev', 'eth1', 'nodad');
    await waitFor(() => same([...ALL, '192.0.2.7', '2001:db8:1::7'])(ns), { timeoutMs: 5000, what: 'endpoints for the new addresses' });
    await waitFor(async () => (await ownRules(ns)).some((x) => x.src === '192.0.2.7') && (await ownRules(ns, true)).some((x) => x.src === '2001:db8:1::7'),
      { timeoutMs: 5000, what: 'rules for the new addresses' });
    expect(changes).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'add', kind: 'endpoint', address: '192.0.2.7', ifname: 'eth1' })]));

    await ns.ip('addr', 'del', '192.0.2.7/24', 'dev', 'eth1');
    await ns.ip('-6', 'addr', 'del', '2001:db8:1::7/64', 'dev', 'eth1');
    await waitFor(() => same(ALL)(ns), { timeoutMs: 5000, what: 'the endpoints of removed addresses to go' });
    await waitFor(async () => (await ownRules(ns)).length === 2 && (await ownRules(ns, true)).length === 2, { timeoutMs: 5000, what: 'their rules to go' });
  });

  it('takes a link\'s endpoints away while it is down and puts everything back when it comes up; follows a new gateway', async () => {
    r = await EndpointReconciler.start({ netns: ns.name, rules: RULES, sourceRouting: true });
    await ns.ip('link', 'set', 'wlan1', 'down');
    await waitFor(() => same(['192.0.2.1', '2001:db8:1::1'])(ns), { timeoutMs: 5000, what: 'wlan1 endpoints to go with the link' });
    await ns.ip('link', 'set', 'wlan1', 'up');
    await ns.ip('-6', 'addr', 'replace', '2001:db8:2::1/64', 'dev', 'wlan1', 'nodad'); // IPv6 addresses are flushed on down
    await ns.ip('route', 'replace', 'default', 'via', '198.51.100.254', 'dev', 'wlan1', 'metric', '200');
    await waitFor(() => same(ALL)(ns), { timeoutMs: 5000, what: 'wlan1 endpoints back' });
    const table = async (): Promise<unknown> => (await ownRules(ns)).find((x) => x.src === '198.51.100.1')?.table;
    await waitFor(async () => (await tableRoutes(ns, await table())).some((x) => x.dst === 'default' && x.gateway === '198.51.100.254'),
      { timeoutMs: 5000, what: 'the wlan1 table to hold its default route again' });
    await ns.ip('route', 'replace', 'default', 'via', '198.51.100.253', 'dev', 'wlan1', 'metric', '200');
    await waitFor(async () => (await tableRoutes(ns, await table())).filter((x) => x.dst === 'default').map((x) => x.gateway).join() === '198.51.100.253',
      { timeoutMs: 5000, what: 'the table to follow the new gateway' });
  });

  it('recognises its own after a restart, leaves foreign endpoints, rules and routes alone, and cleanup removes only its own', async () => {
    await ns.ip('link', 'add', 'mgmt0', 'type', 'veth', 'peer', 'name', 'pmgmt0');
    await ns.ip('link', 'set', 'pmgmt0', 'up');
    await ns.ip('addr', 'add', '203.0.113.5/24', 'dev', 'mgmt0');
    await ns.ip('link', 'set', 'mgmt0', 'up');
    await ns.ip('mptcp', 'endpoint', 'add', '203.0.113.5', 'id', '5', 'signal');
    await ns.ip('mptcp', 'endpoint', 'add', '2001:db8:2::1', 'id', '6', 'subflow', 'dev', 'wlan1');
    await ns.ip('rule', 'add', 'from', '192.0.2.1', 'table', '50', 'pref', '10100');
    await ns.ip('route', 'add', '203.0.113.0/24', 'dev', 'eth1', 'table', '50');
    r = await EndpointReconciler.start({ netns: ns.name, rules: RULES, sourceRouting: true, resyncIntervalMs: 0 });
    const first = await endpoints(ns);
    expect(first.find((e) => e.id === 5)).toMatchObject({ address: '203.0.113.5', signal: true });
    expect(first.find((e) => e.address === '2001:db8:2::1')).toMatchObject({ id: 6 });
    expect(first.filter((e) => e.id >= 100).map((e) => e.address).sort()).toEqual(['192.0.2.1', '198.51.100.1', '2001:db8:1::1']);
    const rulesBefore = await ownRules(ns);
    await r.stop();
    r = await EndpointReconciler.start({ netns: ns.name, rules: RULES, sourceRouting: true, resyncIntervalMs: 0 });
    const changes: ReconcilerChange[] = [];
    r.on('change', (c) => changes.push(...c));
    await r.pass();
    expect(changes).toEqual([]);
    expect(await endpoints(ns)).toEqual(first);
    expect(await ownRules(ns)).toEqual(rulesBefore);
    await r.stop({ cleanup: true });
    r = undefined;
    expect((await endpoints(ns)).map((e) => e.id)).toEqual([5, 6]);
    expect(await ownRules(ns)).toEqual([]);
    expect(await ownRules(ns, true)).toEqual([]);
    const rules = JSON.parse(await ns.ip('-j', 'rule', 'show')) as Record<string, unknown>[];
    expect(rules.find((x) => x.table === '50')).toMatchObject({ src: '192.0.2.1', priority: 10100 });
    expect((await tableRoutes(ns, 50)).map((x) => x.dst)).toEqual(['203.0.113.0/24']);
  });

  it('matches bracket globs (eth[0-9]) and warns, at start, of a rule that matches no interface', async () => {
    const warnings: string[] = [];
    r = await EndpointReconciler.start({ netns: ns.name, rules: [{ interface: 'eth[0-9]', flags: ['subflow'] }, { interface: 'wwan[!x]', flags: ['subflow', 'backup'] }] });
    r.on('warning', (w) => warnings.push(w));
    await waitFor(() => same(['192.0.2.1', '2001:db8:1::1'])(ns), { timeoutMs: 10_000, what: 'endpoints for eth1 only' });
    await waitFor(() => warnings.length > 0, { timeoutMs: 5_000, what: 'the warning' });
    expect(warnings).toEqual([expect.stringMatching(/^rules\[1\]\.interface "wwan\[!x\]" matches no interface of the namespace \(.*eth1.*\)$/)]);
  });

  it('refuses bad policy input naming the field, before anything is opened or sent', async () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ rules: [{ interface: 'eth*', flags: ['subflow', 'sideways'] }] }, 'rules[0].flags[1]'],
      [{ rules: [{ interface: 'eth*', flags: ['signal', 'fullmesh'] }] }, 'rules[0].flags'],
      [{ rules: [{ interface: 'eth*', flags: ['subflow'] }], tables: { min: 200, max: 300 } }, 'tables'],
      [{ rules: [{ interface: 'eth*', flags: ['subflow'] }], tables: { min: 0, max: 10 } }, 'tables.min'],
      [{ rules: [{ interface: 'eth*', flags: ['subflow'] }, { interface: 'e?h0', flags: ['signal'] }] }, 'rules[1].interface'],
      [{ rules: [{ interface: 'eth[0-9', flags: ['subflow'] }] }, 'rules[0].interface'],
      [{ rules: [{ interface: 'eth[9-0]', flags: ['subflow'] }] }, 'rules[0].interface'],
      [{ rules: [{ interface: 'eth*', flags: ['subflow'], subnets: ['192.0.2.300/24'] }] }, 'rules[0].subnets[0]'],
      [{ rules: [] }, 'rules'],
      [{ rules: [{ interface: 'eth*', flags: ['subflow'] }], endpointIds: { min: 0, max: 10 } }, 'endpointIds.min'],
      [{ rules: [{ interface: 'eth*', flags: ['subflow'] }], sourcerouting: true }, 'options.sourcerouting'],
    ];
    for (const [opts, field] of bad) {
      // A namespace that does not exist: a ValidationError proves nothing was opened first.
      const err = await EndpointReconciler.start({ ...opts, netns: 'mptcppm-no-such-namespace' } as never).catch((e: unknown) => e);
      expect(err, JSON.stringify(opts)).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field, JSON.stringify(opts)).toBe(field);
    }
    expect(await endpoints(ns)).toEqual([]);
  });
});

describe('EndpointReconciler after an overrun', () => {
  it('notices lost notifications and runs a full pass that finds what they announced', async () => {
    const ns = await network();
    let r: EndpointReconciler | undefined;
    try {
      await ns.ip('link', 'add', 'mgmt0', 'type', 'veth', 'peer', 'name', 'pmgmt0');
      await ns.ip('link', 'set', 'mgmt0', 'up');
      r = await EndpointReconciler.start({ netns: ns.name, rules: RULES, resyncIntervalMs: 0, receiveBufferBytes: 65536 });
      let lost = 0;
      r.on('overrun', (n) => (lost += n ?? 0));
      // Thousands of notifications while the JS thread is blocked: the socket's queue overflows.
      const lines = Array.from({ length: 3000 }, (_, i) => `addr add 203.0.${113 + Math.floor(i / 250)}.${1 + (i % 250)}/32 dev mgmt0`);
      lines.push('addr add 192.0.2.77/24 dev eth1');
      const { execFileSync } = await import('node:child_process');
      execFileSync('ip', ['-n', ns.name, '-batch', '-'], { input: `${lines.join('\n')}\n` });
      await waitFor(() => lost > 0, { timeoutMs: 5000, what: 'the overrun to be noticed' });
      await waitFor(() => same([...ALL, '192.0.2.77'])(ns), { timeoutMs: 5000, what: 'the endpoint of the address added during the overrun' });
    } finally {
      await r?.stop();
      await ns.destroy();
    }
  });
});
