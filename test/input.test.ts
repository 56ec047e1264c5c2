// Bad input of every entry point (tier 2, fake peer): each case is a ValidationError naming the field
// and the rule, and the peer proves nothing was sent. Also: zone ids honoured, a closed client,
// datagrams that answer no request, and the length of quoted values.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { MptcpPm } from '../src/mptcp/pm/pm.js';
import { MptcpEvents } from '../src/mptcp/events/events.js';
import { Netns, NetnsError } from '../src/os/netns.js';
import { ClosedError, ValidationError } from '../src/netlink/core/errors.js';
import { FakeGenl } from './helpers/fake-genl.js';
import { cat, nest, nla, s32le, u16le, u32le } from './helpers/bytes.js';
import { DO, FAMILY, POLICY_6_18, expectRequest, rejection } from './helpers/pm-fake.js';

const TOKEN = 0x01020304;
const FE80_1 = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const NO_SUCH_INDEX = 0x7ffffff0;

const opened: MptcpPm[] = [];
async function setup(): Promise<{ pm: MptcpPm; peer: FakeGenl }> {
  const peer = new FakeGenl(FAMILY);
  peer.handler = (req, p) => p.ack(req);
  const pm = await MptcpPm.open({ transport: peer, ctrlTransport: FakeGenl.nlctrl(POLICY_6_18), timeoutMs: 2000 });
  opened.push(pm);
  return { pm, peer };
}
afterEach(() => {
  for (const pm of opened.splice(0)) pm.close();
  vi.restoreAllMocks();
});

type Call = (pm: MptcpPm) => Promise<unknown>;
const sub = { token: TOKEN, local: { address: '192.0.2.2', id: 3 }, remote: { address: '198.51.100.1', port: 5000 } };
const tuple = { token: TOKEN, local: { address: '192.0.2.2', port: 40000 }, remote: { address: '198.51.100.1', port: 5000 } };

const cases: [string, Call, string, RegExp][] = [
  // flags: own keys of the generated table only
  ['flag toString', (pm) => pm.addEndpoint({ address: '192.0.2.1', flags: ['toString' as never] }), 'flags[0]', /unknown flag "toString"/],
  ['flag __proto__', (pm) => pm.addEndpoint({ address: '192.0.2.1', flags: ['__proto__' as never] }), 'flags[0]', /unknown flag "__proto__"/],
  ['flag constructor', (pm) => pm.addEndpoint({ address: '192.0.2.1', flags: ['subflow', 'constructor' as never] }), 'flags[1]', /known: signal, subflow/],
  // unspecified, multicast, broadcast: taken for endpoints (as the kernel takes them), refused in userspace-PM commands
  ['announce 0.0.0.0', (pm) => pm.announce({ token: TOKEN, address: '0.0.0.0', id: 2 }), 'address', /unspecified/],
  ['announce ff02::1', (pm) => pm.announce({ token: TOKEN, address: 'ff02::1', id: 2 }), 'address', /multicast/],
  ['subflow local ::', (pm) => pm.createSubflow({ ...sub, local: { address: '::', id: 3 }, remote: { address: '2001:db8::1', port: 1 } }), 'local.address', /unspecified/],
  ['subflow remote 255.255.255.255', (pm) => pm.createSubflow({ ...sub, remote: { address: '255.255.255.255', port: 80 } }), 'remote.address', /broadcast/],
  ['subflow remote 224.0.0.1', (pm) => pm.createSubflow({ ...sub, remote: { address: '224.0.0.1', port: 80 } }), 'remote.address', /multicast/],
  ['destroy local 0.0.0.0', (pm) => pm.destroySubflow({ ...tuple, local: { address: '0.0.0.0', port: 1 } }), 'local.address', /unspecified/],
  ['backup remote 0.0.0.0', (pm) => pm.setSubflowBackup({ ...tuple, remote: { address: '0.0.0.0' }, backup: true }), 'remote.address', /unspecified/],
  // zone ids: honoured where an interface is carried, refused elsewhere, never dropped
  ['zone on a global address', (pm) => pm.addEndpoint({ address: '2001:db8::1%lo' }), 'address', /link-local/],
  ['zone naming no interface', (pm) => pm.addEndpoint({ address: 'fe80::1%nosuchif0' }), 'address', /zone "%nosuchif0": no interface/],
  ['zone index of no interface', (pm) => pm.addEndpoint({ address: `fe80::1%${NO_SUCH_INDEX}` }), 'address', /no interface with index/],
  ['zone and ifindex disagree', (pm) => pm.addEndpoint({ address: 'fe80::1%lo', ifindex: NO_SUCH_INDEX }), 'ifindex', /no interface with index/],
  ['zone on a remote address', (pm) => pm.createSubflow({ ...sub, local: { address: 'fe80::2', id: 3 }, remote: { address: 'fe80::1%lo', port: 1 } }), 'remote.address', /zone id/],
  ['zone on a destroy tuple', (pm) => pm.destroySubflow({ ...tuple, local: { address: 'fe80::2%lo', port: 1 }, remote: { address: 'fe80::1', port: 1 } }), 'local.address', /zone id/],
  ['zone on an endpoint lookup', (pm) => pm.deleteEndpoint({ address: 'fe80::1%lo' }), 'endpoint.address', /zone id/],
  ['zone on an announced global address', (pm) => pm.announce({ token: TOKEN, address: '2001:db8::1%lo', id: 2 }), 'address', /link-local/],
  // interfaces that do not exist
  ['endpoint ifindex absent', (pm) => pm.addEndpoint({ address: '192.0.2.1', ifindex: NO_SUCH_INDEX }), 'ifindex', /no interface with index 2147483632 in this network namespace/],
  ['announce ifindex absent', (pm) => pm.announce({ token: TOKEN, address: '192.0.2.1', id: 2, ifindex: NO_SUCH_INDEX }), 'ifindex', /no interface with index/],
  ['announce ifname absent', (pm) => pm.announce({ token: TOKEN, address: '192.0.2.1', id: 2, ifname: 'nosuchif0' }), 'ifname', /no interface named "nosuchif0"/],
  ['subflow local.ifindex absent', (pm) => pm.createSubflow({ ...sub, local: { ...sub.local, ifindex: NO_SUCH_INDEX } }), 'local.ifindex', /no interface with index/],
  ['subflow local.ifname absent', (pm) => pm.createSubflow({ ...sub, local: { ...sub.local, ifname: 'nosuchif0' } }), 'local.ifname', /no interface named/],
  // limits and path manager
  ['setLimits({})', (pm) => pm.setLimits({}), 'limits', /nothing to set/],
  ['setLimits all undefined', (pm) => pm.setLimits({ subflows: undefined }), 'limits', /nothing to set/],
  ['setPathManager bogus', (pm) => pm.setPathManager('bogus' as never), 'pathManager', /"kernel" or "userspace"/],
  ['setPathManager toString', (pm) => pm.setPathManager('toString' as never), 'pathManager', /"kernel" or "userspace"/],
];

describe('bad input of every entry point: ValidationError, nothing sent', () => {
  for (const [name, call, field, rule] of cases) {
    it(`${name} → "${field}"`, async () => {
      const { pm, peer } = await setup();
      const err = await rejection(call(pm));
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field).toBe(field);
      expect(err.message).toMatch(rule);
      expect(peer.familyRequests).toHaveLength(0);
    });
  }

  it('netns: 123 → ValidationError naming netns, for MptcpPm.open and MptcpEvents.open, nothing sent', async () => {
    const peer = new FakeGenl(FAMILY);
    for (const open of [
      () => MptcpPm.open({ netns: 123 as never, transport: peer }),
      () => MptcpEvents.open({ netns: 123 as never, transport: peer }),
      () => MptcpPm.open({ netns: '' , transport: peer }),
      () => MptcpEvents.open({ netns: { name: 'x' } as never, transport: peer }),
    ]) {
      const err = await rejection(open());
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field).toBe('netns');
    }
    expect(peer.requests).toHaveLength(0);
  });

  it('a path that is not a namespace is NetnsError "not a network namespace", not a privilege problem', async () => {
    for (const path of ['/etc/passwd', '/proc/self/ns/uts']) {
      expect(() => Netns.open(path)).toThrow(NetnsError);
      expect(() => Netns.open(path)).toThrow(/is not a network namespace/);
      const peer = new FakeGenl(FAMILY);
      const err = await rejection(MptcpPm.open({ netns: path, transport: peer }));
      expect(err).toBeInstanceOf(NetnsError);
      expect(err.message).not.toMatch(/CAP_SYS_ADMIN/);
      expect(peer.requests).toHaveLength(0);
    }
  });

  it('a 1 MB bad value is quoted with at most ~100 characters', async () => {
    const { pm, peer } = await setup();
    const huge = 'x'.repeat(1 << 20);
    for (const call of [
      () => pm.addEndpoint({ address: huge }),
      () => pm.addEndpoint({ address: '192.0.2.1', flags: [huge as never] }),
      () => pm.addEndpoint({ address: '192.0.2.1', ifname: huge }),
      () => pm.addEndpoint({ address: '192.0.2.1', [huge]: 1 } as never),
      () => pm.setPathManager(huge as never),
      () => pm.announce({ token: TOKEN, address: '192.0.2.1', id: 2, ifname: huge }),
    ]) {
      const err = await rejection(call());
      expect(err).toBeInstanceOf(ValidationError);
      expect(err.message.length).toBeLessThan(400);
      expect(err.message).toMatch(/1048576 characters|xxxx…/);
    }
    expect(peer.familyRequests).toHaveLength(0);
  });
});

describe('zone ids are honoured where an interface is carried', () => {
  const lo = nla(7, s32le(1));
  it('addEndpoint fe80::1%lo and fe80::1%1 send if-idx 1 (lo)', async () => {
    for (const address of ['fe80::1%lo', 'fe80::1%1']) {
      const { pm, peer } = await setup();
      await pm.addEndpoint({ address, flags: ['subflow'] }, { returnStored: false });
      expectRequest(peer.familyRequests[0], 1, DO, nest(1, nla(1, u16le(10)), nla(4, FE80_1), nla(6, u32le(2)), lo));
    }
  });

  it('a zone and an ifname naming the same interface are accepted together', async () => {
    const { pm, peer } = await setup();
    await pm.addEndpoint({ address: 'fe80::1%1', ifname: 'lo' }, { returnStored: false });
    expectRequest(peer.familyRequests[0], 1, DO, nest(1, nla(1, u16le(10)), nla(4, FE80_1), nla(6, u32le(0)), lo));
  });

  it('announce and createSubflow carry the zone (or ifname) as the address if-idx', async () => {
    const { pm, peer } = await setup();
    await pm.announce({ token: TOKEN, address: 'fe80::1%lo', id: 2 });
    expectRequest(peer.familyRequests[0], 8, DO, cat(
      nest(1, nla(1, u16le(10)), nla(2, [2]), nla(4, FE80_1), nla(6, u32le(1)), lo), nla(4, u32le(TOKEN)),
    ));
    await pm.createSubflow({ token: TOKEN, local: { address: '192.0.2.2', id: 3, ifname: 'lo' }, remote: { address: '198.51.100.1', port: 5000 } });
    const addr = peer.familyRequests[1].attrs;
    expect(addr.includes(Buffer.from(lo))).toBe(true);
  });
});

describe('a closed client', () => {
  it('rejects every method with ClosedError, nothing sent (setPathManager/getPathManager included)', async () => {
    const { pm, peer } = await setup();
    pm.close();
    const calls: Call[] = [
      (p) => p.addEndpoint({ address: '192.0.2.1' }), (p) => p.getEndpoint(1), (p) => p.listEndpoints(),
      (p) => p.deleteEndpoint(1), (p) => p.deleteEndpoint({ address: '192.0.2.1' }), (p) => p.deleteInitialAddress('192.0.2.1'),
      (p) => p.setEndpointFlags(1, { backup: true }), (p) => p.flushEndpoints(), (p) => p.getLimits(),
      (p) => p.setLimits({ subflows: 1 }), (p) => p.setPathManager('userspace'), (p) => p.getPathManager(),
      (p) => p.announce({ token: TOKEN, address: '192.0.2.1', id: 2 }), (p) => p.removeAddress({ token: TOKEN, id: 2 }),
      (p) => p.createSubflow(sub), (p) => p.destroySubflow(tuple), (p) => p.setSubflowBackup({ ...tuple, backup: true }),
      (p) => p.listAddresses(TOKEN), (p) => p.getAddress(TOKEN, 1),
    ];
    for (const call of calls) {
      const err = await rejection(call(pm));
      expect(err, String(call)).toBeInstanceOf(ClosedError);
    }
    // Even bad input gets ClosedError: the closed state is checked first.
    expect(await rejection(pm.setLimits({}))).toBeInstanceOf(ClosedError);
    expect(pm.closed).toBe(true);
    expect(peer.familyRequests).toHaveLength(0);
  });
});

describe('datagrams that answer no request', () => {
  /** An NLMSG_ERROR (EINVAL) for a sequence number nobody used. */
  function stray(peer: FakeGenl): void {
    const echoed = FakeGenl.message(FAMILY.id, 0x5, 999, 0, [1, 1, 0, 0]).subarray(0, 16);
    peer.deliver(FakeGenl.message(2, 0x100, 999, peer.portId, cat(u32le(-22 >>> 0), echoed)));
  }
  const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

  it('are emitted as `error` events when someone listens', async () => {
    const { pm, peer } = await setup();
    const seen: Error[] = [];
    pm.on('error', (e) => seen.push(e));
    stray(peer);
    await tick();
    expect(seen).toHaveLength(1);
    expect(seen[0].message).toMatch(/unknown seq 999/);
    expect(pm.unmatchedErrors).toBe(0);
  });

  it('are only counted, with no process warning, when nobody listens', async () => {
    const warn = vi.spyOn(process, 'emitWarning');
    const { pm, peer } = await setup();
    stray(peer);
    stray(peer);
    await tick();
    expect(pm.unmatchedErrors).toBe(2);
    expect(warn).not.toHaveBeenCalled();
  });
});

describe('wildcard, multicast and broadcast endpoints: sent as the kernel takes them, said through warning', () => {
  const odd: [string, string][] = [
    ['0.0.0.0', 'wildcard'], ['::', 'wildcard'], ['224.0.0.1', 'multicast'], ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'], ['::ffff:224.0.0.1', 'multicast'], ['255.255.255.255', 'broadcast'],
  ];
  for (const [address, kind] of odd) {
    it(`addEndpoint ${address}: sent once, one ${kind} warning`, async () => {
      const { pm, peer } = await setup();
      const warnings: { code: string; message: string }[] = [];
      pm.on('warning', (w) => warnings.push(w));
      await pm.addEndpoint({ address, flags: ['signal', 'backup'] }, { returnStored: false });
      expect(peer.familyRequests).toHaveLength(1);
      expect(warnings).toHaveLength(1);
      expect(warnings[0].code).toBe('address-not-unicast');
      expect(warnings[0].message).toContain(address);
      expect(warnings[0].message).toMatch(new RegExp(kind));
    });
  }

  it('deleteInitialAddress 0.0.0.0 is sent; a unicast endpoint gives no warning', async () => {
    const { pm, peer } = await setup();
    const warnings: unknown[] = [];
    pm.on('warning', (w) => warnings.push(w));
    await pm.deleteInitialAddress('0.0.0.0');
    await pm.addEndpoint({ address: '192.0.2.1', flags: ['signal'] }, { returnStored: false });
    expect(peer.familyRequests).toHaveLength(2);
    expect(warnings).toEqual([]);
  });
});

describe('under concurrency', () => {
  it('bad and good calls interleaved: each bad one refused alone, every good one sent once', async () => {
    const { pm, peer } = await setup();
    const calls = Array.from({ length: 40 }, (_, i) => i % 2 === 0
      ? pm.addEndpoint({ address: `192.0.2.${i + 1}`, flags: ['subflow'] }, { returnStored: false })
      : pm.addEndpoint({ address: i % 4 === 1 ? '192.0.2.300' : `fe80::${i}%nosuchif0` }, { returnStored: false }));
    const results = await Promise.allSettled(calls);
    results.forEach((r, i) => {
      if (i % 2 === 0) expect(r.status, `call ${i}`).toBe('fulfilled');
      else expect(r.status === 'rejected' && r.reason instanceof ValidationError, `call ${i}`).toBe(true);
    });
    expect(peer.familyRequests).toHaveLength(20);
    const sent = new Set(peer.familyRequests.map((r) => r.attrs.toString('hex')));
    expect(sent.size).toBe(20);
  });

  it('opens in parallel each probe the policies and agree on the features', async () => {
    const pms = await Promise.all(Array.from({ length: 10 }, () => setup()));
    for (const { pm } of pms) expect(pm.features).toMatchObject({ addressesByToken: true, listenerEvents: true, policyDump: true });
  });
});

describe('MptcpEvents: datagrams that answer nothing', () => {
  it('are counted, reported as an overrun, and raise no process warning when nobody listens for errors', async () => {
    const warn = vi.spyOn(process, 'emitWarning');
    const peer = new FakeGenl(FAMILY);
    const events = await MptcpEvents.open({ transport: peer });
    try {
      const overruns: unknown[] = [];
      events.on('overrun', (o) => overruns.push(o));
      // An NLMSG_ERROR for a request nobody made.
      const echoed = FakeGenl.message(FAMILY.id, 0x5, 4242, 0, [1, 1, 0, 0]).subarray(0, 16);
      peer.deliver(FakeGenl.message(2, 0x100, 4242, peer.portId, cat(u32le(-22 >>> 0), echoed)));
      await new Promise((r) => setTimeout(r, 20));
      expect(events.unmatchedErrors).toBe(1);
      expect(overruns).toEqual([{ type: 'overrun', lost: undefined, source: 'kernel' }]);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      events.close();
    }
  });
});
