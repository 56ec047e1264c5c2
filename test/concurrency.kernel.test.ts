// The request core under the concurrency a daemon brings, on the real kernel: thousands of requests
// in flight on one socket, concurrent dumps, concurrent adds with their read-back, mixed callers,
// two sockets at once, and a namespace name re-created under an open MptcpPm.

import { execFileSync } from 'node:child_process';
import { describe, expect } from 'vitest';
import { MptcpPm, type Endpoint } from '../src/index.js';
import { kernelIt, makeNetns, type TestNetns, withPmInNetns } from './helpers/netns.js';
import { pathManagerSetting } from './helpers/features.js';

const it = kernelIt();

const withPm = (tag: string, body: (pm: MptcpPm, ns: TestNetns) => Promise<void>): Promise<void> => withPmInNetns(tag, body, 20_000);

/** Adds the 8 endpoints the kernel allows: 192.0.2.1–8, ids 1–8, alternating flags. */
async function eightEndpoints(pm: MptcpPm): Promise<void> {
  for (let i = 1; i <= 8; i++) {
    await pm.addEndpoint({ address: `192.0.2.${i}`, id: i, flags: i % 2 ? ['signal'] : ['subflow', 'backup'] }, { returnStored: false });
  }
}

/** What `ip mptcp endpoint show` prints for the namespace, one endpoint per line, as "address id N". */
function ipEndpoints(ns: TestNetns): string[] {
  const text = execFileSync('ip', ['-n', ns.name, 'mptcp', 'endpoint', 'show'], { encoding: 'utf8', timeout: 10_000 });
  return text.trim().split('\n').filter(Boolean).map((l) => l.split(' ').slice(0, 3).join(' ')).sort();
}

describe('the request core under concurrency (real kernel)', () => {
  it('answers 10,000 getLimits() in flight on one socket, every one correct', async () => {
    await withPm('c10k', async (pm) => {
      await pm.setLimits({ subflows: 3, addAddrAccepted: 5 });
      const all = await Promise.all(Array.from({ length: 10_000 }, () => pm.getLimits()));
      expect(all.length).toBe(10_000);
      expect(all.every((l) => l.subflows === 3 && l.addAddrAccepted === 5)).toBe(true);
    });
  }, 120_000);

  it('answers 300 concurrent listEndpoints() of 8 endpoints (dumps run one at a time)', async () => {
    await withPm('cdump', async (pm, ns) => {
      await eightEndpoints(pm);
      const lists = await Promise.all(Array.from({ length: 300 }, () => pm.listEndpoints()));
      const expected = ipEndpoints(ns);
      expect(expected.length).toBe(8);
      for (const l of lists) {
        expect(l.map((e) => `${e.address} id ${e.id}`).sort()).toEqual(expected);
      }
    });
  }, 120_000);

  it('8 concurrent addEndpoint() all resolve with the endpoint the kernel stored', async () => {
    await withPm('cadd', async (pm, ns) => {
      const added = await Promise.all(
        Array.from({ length: 8 }, (_, i) => pm.addEndpoint({ address: `198.51.100.${i + 1}`, flags: ['subflow'] })),
      );
      const byAddress = new Map(added.map((e) => [e.address, e]));
      expect(byAddress.size).toBe(8);
      const listed = await pm.listEndpoints();
      for (const e of listed) expect(byAddress.get(e.address)).toEqual(e);
      expect(listed.map((e) => `${e.address} id ${e.id}`).sort()).toEqual(ipEndpoints(ns));
    });
  }, 60_000);

  it('40 concurrent callers mixing reads and writes all get correct answers', async () => {
    await withPm('cmix', async (pm) => {
      await eightEndpoints(pm);
      const errors: unknown[] = [];
      const caller = async (n: number): Promise<void> => {
        for (let round = 0; round < 25; round++) {
          switch ((n + round) % 4) {
            case 0: {
              const l = await pm.getLimits();
              if (typeof l.subflows !== 'number') errors.push(l);
              break;
            }
            case 1: {
              const eps = await pm.listEndpoints();
              if (eps.length !== 8) errors.push(eps);
              break;
            }
            case 2: {
              const id = 1 + ((n + round) % 8);
              const e = await pm.getEndpoint(id);
              if (e.id !== id || e.address !== `192.0.2.${id}`) errors.push(e);
              break;
            }
            default: {
              const id = 2 * (1 + ((n + round) % 4)); // the even ids carry `subflow`: backup may toggle
              await pm.setEndpointFlags(id, { backup: round % 2 === 0 });
            }
          }
        }
      };
      await Promise.all(Array.from({ length: 40 }, (_, n) => caller(n)));
      expect(errors).toEqual([]);
      expect((await pm.listEndpoints()).length).toBe(8);
    });
  }, 120_000);

  it('two sockets with thousands of requests each, interleaved', async () => {
    await withPm('ctwo', async (pm, ns) => {
      await eightEndpoints(pm);
      const other = await MptcpPm.open({ netns: ns.name, timeoutMs: 20_000 });
      try {
        const [a, b, c] = await Promise.all([
          Promise.all(Array.from({ length: 3000 }, () => pm.getLimits())),
          Promise.all(Array.from({ length: 3000 }, () => other.getLimits())),
          Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? pm : other).listEndpoints())),
        ]);
        expect(a.length + b.length).toBe(6000);
        expect(c.every((l) => l.length === 8)).toBe(true);
      } finally {
        other.close();
      }
    });
  }, 120_000);

  it('keeps acting on the namespace it opened when the name is deleted and re-created', async () => {
    const ns = await makeNetns('crecreate');
    const pm = await MptcpPm.open({ netns: ns.name });
    try {
      await ns.ip('link', 'add', 'veth7', 'type', 'veth', 'peer', 'name', 'veth7p');
      await pm.addEndpoint({ address: '203.0.113.7', id: 7, flags: ['subflow'], ifname: 'veth7' }, { returnStored: false });
      await pm.setLimits({ subflows: 4 });
      await pm.setPathManager('userspace');
      // Same name, new namespace: no veth7 there, no endpoints, default limits and path manager.
      execFileSync('ip', ['netns', 'del', ns.name], { timeout: 10_000 });
      execFileSync('ip', ['netns', 'add', ns.name], { timeout: 10_000 });
      const listed: Endpoint[] = await pm.listEndpoints();
      expect(listed.map((e) => [e.id, e.address, e.ifname])).toEqual([[7, '203.0.113.7', 'veth7']]);
      expect((await pm.getLimits()).subflows).toBe(4);
      expect(await pm.getPathManager()).toBe('userspace');
      // An interface name is looked up in the namespace it opened (veth7 exists only there).
      await pm.addEndpoint({ address: '203.0.113.8', id: 8, flags: ['subflow'], ifname: 'veth7' }, { returnStored: false });
      await pm.setPathManager('kernel');
      const fresh = await MptcpPm.open({ netns: ns.name });
      try {
        expect(await fresh.listEndpoints()).toEqual([]);
        expect(await fresh.getPathManager()).toBe('kernel');
      } finally {
        fresh.close();
      }
      const kernel = await pathManagerSetting('kernel');
      expect(execFileSync('ip', ['netns', 'exec', ns.name, 'sysctl', '-n', kernel.key], { encoding: 'utf8' }).trim()).toBe(kernel.value);
    } finally {
      pm.close();
      await ns.destroy();
    }
  }, 60_000);
});

describe('MPTCP disabled in the namespace', () => {
  it('accepts endpoints, and says so to warning listeners and through mptcpEnabled()', async () => {
    await withPm('cdisabled', async (pm, ns) => {
      const warnings: { code: string; fix: string }[] = [];
      pm.on('warning', (w) => warnings.push(w));
      expect(pm.mptcpEnabled()).toBe(true);
      await pm.addEndpoint({ address: '192.0.2.1', id: 1, flags: ['subflow'] });
      expect(warnings).toEqual([]);
      await ns.exec('sysctl', ['-qw', 'net.mptcp.enabled=0']);
      expect(pm.mptcpEnabled()).toBe(false);
      const added = await pm.addEndpoint({ address: '192.0.2.2', id: 2, flags: ['subflow'] });
      expect(added.id).toBe(2);
      expect(warnings.map((w) => w.code)).toEqual(['mptcp-disabled']);
      expect(warnings[0].fix).toBe(`ip netns exec ${ns.name} sysctl -w net.mptcp.enabled=1`);
    });
  }, 30_000);
});
