// Unit tests of the reconciler's policy: interface globs, overlap detection, address filters, and the
// endpoint plan (own ids only, foreign addresses left alone).

import { describe, expect, it } from 'vitest';
import { checkPolicy, globMatch, globsMeet, ruleFor } from '../src/routing/policy.js';
import { planEndpoints, wantedAddresses } from '../src/routing/plan.js';
import type { Endpoint } from '../src/mptcp/pm/endpoint.js';

describe('interface globs', () => {
  it.each([
    ['eth*', 'eth0', true], ['eth*', 'eth', true], ['eth?', 'eth10', false], ['wl*n?', 'wlan0', true], ['eth0', 'eth01', false], ['a.b', 'axb', false],
    ['eth[0-9]', 'eth3', true], ['eth[0-9]', 'eth10', false], ['eth[0-9]', 'ethx', false], ['eth[!0-9]', 'ethx', true], ['eth[^0-9]', 'eth3', false],
    ['wl[ae]n0', 'wlen0', true], ['[]x]', ']', true], ['a[-z]', 'a-', true], ['en[pq]*s[0-9]', 'enp0s3', true], ['(x)+', '(x)+', true],
  ])('%s matches %s: %s', (g, n, want) => expect(globMatch(g, n)).toBe(want));
  it.each([
    ['eth*', 'wlan*', false], ['eth*', 'e?h0', true], ['eth0', 'eth1', false], ['*0', 'wlan*', true], ['eth*', 'eth*', true], ['?', '??', false], ['*', 'x', true],
    ['eth[0-4]', 'eth[5-9]', false], ['eth[0-5]', 'eth[5-9]', true], ['eth[0-9]', 'eth?', true], ['eth[!0-9]', 'eth1', false], ['eth[0-9]', 'eth*', true],
  ])('%s and %s overlap: %s', (a, b, want) => {
    expect(globsMeet(a, b)).toBe(want);
    expect(globsMeet(b, a)).toBe(want);
  });
});

describe('interface globs in a policy', () => {
  it('takes [..] sets and refuses a glob it cannot read, naming the field', () => {
    expect(checkPolicy({ rules: [{ interface: 'eth[0-9]', flags: ['subflow'] }] }).rules[0].interface).toBe('eth[0-9]');
    for (const glob of ['eth[0-9', 'eth[', 'eth[9-0]']) {
      expect(() => checkPolicy({ rules: [{ interface: glob, flags: ['subflow'] }] }), glob).toThrow(expect.objectContaining({ field: 'rules[0].interface' }));
    }
    expect(() => checkPolicy({ rules: [{ interface: 'eth[0-4]', flags: ['subflow'] }, { interface: 'eth[3-9]', flags: ['signal'] }] })).toThrow(/overlaps/);
    expect(checkPolicy({ rules: [{ interface: 'eth[0-4]', flags: ['subflow'] }, { interface: 'eth[5-9]', flags: ['signal'] }] }).rules).toHaveLength(2);
  });
});

describe('plan', () => {
  const policy = checkPolicy({ rules: [{ interface: 'eth*', flags: ['subflow'] }, { interface: 'wlan*', flags: ['subflow', 'backup'], subnets: ['198.51.100.0/24'] }] });
  const links = [
    { index: 1, name: 'lo', up: true, running: true, loopback: true },
    { index: 2, name: 'eth0', up: true, running: true, loopback: false },
    { index: 3, name: 'wlan0', up: true, running: true, loopback: false },
    { index: 4, name: 'eth1', up: true, running: false, loopback: false },
  ];
  const a = (ifindex: number, address: string, extra: Record<string, unknown> = {}) => ({
    ifindex, address, family: address.includes(':') ? 'inet6' as const : 'inet' as const, prefixlen: 24, scope: 0, tentative: false, deprecated: false, dadfailed: false, ...extra,
  });
  it('skips loopback, link-local, tentative, deprecated, down links and addresses outside a rule\'s subnets', () => {
    const w = wantedAddresses(policy, links, [
      a(1, '127.0.0.1', { scope: 254 }), a(2, '192.0.2.1'), a(2, 'fe80::1'), a(2, '2001:db8::1', { tentative: true }),
      a(2, '2001:db8::2', { deprecated: true }), a(3, '198.51.100.1'), a(3, '203.0.113.1'), a(4, '192.0.2.9'), a(2, '169.254.1.1'),
    ]);
    expect(w.map((x) => [x.address, x.ifname, x.flags.join('+')])).toEqual([['192.0.2.1', 'eth0', 'subflow'], ['198.51.100.1', 'wlan0', 'subflow+backup']]);
    expect(ruleFor(policy, 'ppp0', '192.0.2.1')).toBeUndefined();
  });
  it('keeps matching own endpoints, replaces changed ones, never removes foreign ones, picks free ids in range', () => {
    const ep = (id: number, address: string, flags: Endpoint['flags'], ifindex?: number): Endpoint => ({ id, address, family: 'inet', flags, unknownFlags: 0, ...(ifindex ? { ifindex } : {}) });
    const wanted = wantedAddresses(policy, links, [a(2, '192.0.2.1'), a(2, '192.0.2.2'), a(3, '198.51.100.1'), a(2, '192.0.2.3')]);
    const plan = planEndpoints(policy, wanted, [
      ep(100, '192.0.2.1', ['subflow'], 2), ep(101, '198.51.100.1', ['subflow'], 3), ep(3, '192.0.2.3', ['signal']), ep(102, '192.0.2.77', ['subflow'], 2),
    ]);
    expect(plan.remove.map((e) => e.id).sort()).toEqual([101, 102]);
    expect(plan.add.map((w) => [w.address, w.id])).toEqual([['192.0.2.2', 101], ['198.51.100.1', 102]]);
  });
});
