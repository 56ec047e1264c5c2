// Real-kernel checks of issue 9 (features, input): what GETPOLICY says on this kernel, zone ids
// resolved inside a namespace, one SET_LIMITS for a partial change, and an unprivileged
// setPathManager refused with the sysctl and the privilege named. Throw-away namespaces only.

import { describe, expect } from 'vitest';
import { MptcpPm } from '../src/mptcp/pm/pm.js';
import { ValidationError } from '../src/netlink/core/errors.js';
import { kernelIt, makeNetns, type TestNetns, withPmInNetns } from './helpers/netns.js';
import { rejection } from './helpers/pm-fake.js';
import { runAsNobody } from './helpers/unprivileged.js';

const it = kernelIt();

const withNs = withPmInNetns;

/** Adds a veth pair inside the namespace, both ends up; returns the ifindex of `a`. */
async function veth(ns: TestNetns, a: string, b: string): Promise<number> {
  await ns.ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b);
  await ns.ip('link', 'set', a, 'up');
  await ns.ip('link', 'set', b, 'up');
  const [link] = JSON.parse(await ns.ip('-j', 'link', 'show', a)) as { ifindex: number }[];
  return link.ifindex;
}

interface IpEndpoint { address: string; id: number; dev?: string; flags?: string[] }

describe('issue 9 against the kernel', () => {
  it('features come from GETPOLICY: GET_ADDR takes a token, per-op policies, listener events', async () => {
    await withNs('feat', async (pm, ns) => {
      expect(pm.features.policyDump).toBe(true);
      expect(pm.features.addressesByToken).toBe(true);
      expect(pm.features.listenerEvents).toBe(true);
      expect(pm.features.events).toBe(true);
      expect(pm.features.userspacePm).toBe(true);
      // Opened many at once, each probes on its own nlctrl socket and gets the same answer.
      const many = await Promise.all(Array.from({ length: 8 }, () => MptcpPm.open({ netns: ns.name })));
      try {
        for (const p of many) expect(p.features).toEqual(pm.features);
      } finally {
        for (const p of many) p.close();
      }
    });
  });

  it('a link-local endpoint with a zone id gets that interface; a zone of another interface index is refused', async () => {
    await withNs('zone', async (pm, ns) => {
      const a = await veth(ns, 'mpza', 'mpzb');
      const b = (JSON.parse(await ns.ip('-j', 'link', 'show', 'mpzb')) as { ifindex: number }[])[0].ifindex;
      const ep = await pm.addEndpoint({ address: 'fe80::a%mpza', flags: ['subflow'] });
      expect(ep).toMatchObject({ address: 'fe80::a', ifindex: a, ifname: 'mpza' });
      const byIndex = await pm.addEndpoint({ address: `fe80::b%${b}`, flags: ['subflow'] });
      expect(byIndex).toMatchObject({ address: 'fe80::b', ifindex: b, ifname: 'mpzb' });
      const shown = JSON.parse(await ns.ip('-j', 'mptcp', 'endpoint', 'show')) as IpEndpoint[];
      expect(shown.map((e) => [e.address, e.dev])).toEqual([['fe80::a', 'mpza'], ['fe80::b', 'mpzb']]);
      // Zone and ifname naming two different interfaces, or an interface of this host only: refused.
      const err = await rejection(pm.addEndpoint({ address: 'fe80::c%mpza', ifname: 'mpzb' }));
      expect(err).toBeInstanceOf(ValidationError);
      expect(err.message).toMatch(new RegExp(`interface mpzb is interface index ${b}, but zone %mpza is index ${a}|zone %mpza is interface index ${a}, but interface mpzb is index ${b}`));
      const err2 = await rejection(pm.addEndpoint({ address: 'fe80::d', ifindex: 4242 }));
      expect(err2).toMatchObject({ name: 'ValidationError', field: 'ifindex' });
      expect(err2.message).toMatch(/in network namespace "mptcppm-/);
      expect((await pm.listEndpoints()).length).toBe(2);
    });
  });

  it('a partial setLimits is one request and the kernel keeps the other limit', async () => {
    await withNs('limits', async (pm, ns) => {
      await pm.setLimits({ subflows: 5, addAddrAccepted: 6 });
      await pm.setLimits({ subflows: 1 });
      expect(await pm.getLimits()).toEqual({ subflows: 1, addAddrAccepted: 6 });
      await pm.setLimits({ addAddrAccepted: 0 });
      expect(await pm.getLimits()).toEqual({ subflows: 1, addAddrAccepted: 0 });
      expect((await ns.ip('mptcp', 'limits', 'show')).trim()).toBe('add_addr_accepted 0 subflows 1');
      await expect(pm.setLimits({})).rejects.toMatchObject({ name: 'ValidationError', field: 'limits' });
    });
  });

  it('setPathManager without privilege names the sysctl and CAP_NET_ADMIN; nothing changes', async () => {
    await withNs('pmtype', async (pm, ns) => {
      expect(await pm.getPathManager()).toBe('kernel');
      const r = await runAsNobody(ns.name, CHILD);
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, any>;
      expect(out.uid).toBe(65534);
      expect(out.read).toBe('kernel');
      expect(out.features).toMatchObject({ policyDump: true, addressesByToken: true });
      expect(out.set).toMatchObject({ name: 'SysctlPermissionError', sysctl: 'net.mptcp.path_manager', code: 'EACCES', errno: 13 });
      expect(out.set.message).toMatch(/^net\.mptcp\.path_manager: EACCES: .*CAP_NET_ADMIN in the user namespace/);
      expect(out.warnings).toEqual([]);
      expect(await pm.getPathManager()).toBe('kernel');
      expect(await pm.setPathManager('userspace')).toBe('userspace');
      expect((await ns.exec('sysctl', ['-n', 'net.mptcp.path_manager'])).trim()).toBe('userspace');
    });
  });
});

/** The unprivileged child: reads the path manager, tries to set it, prints one JSON line. */
const CHILD = `
import { MptcpPm } from @ENTRY@;
const warnings = [];
process.on('warning', (w) => warnings.push(String(w)));
const pm = await MptcpPm.open({});
const out = { uid: process.getuid(), read: await pm.getPathManager(), features: pm.features, warnings };
try { await pm.setPathManager('userspace'); out.set = 'succeeded'; }
catch (e) { out.set = { name: e.name, sysctl: e.sysctl, code: e.code, errno: e.errno, message: e.message }; }
pm.close();
console.log(JSON.stringify(out));
`;
