// Socket layer against the real kernel, in throw-away network namespaces: family resolution, a raw
// GET_LIMITS round trip, namespace isolation, kernel extack text, and the process's own netns kept.

import { statSync } from 'node:fs';
import { afterEach, describe, expect } from 'vitest';
import { NetlinkError } from '../src/netlink/core/errors.js';
import { AttrWriter, readAttrs, read } from '../src/netlink/core/attr.js';
import { NetnsError } from '../src/os/netns.js';
import { GenlSocket } from '../src/netlink/genl/socket.js';
import { kernelIt, makeNetns, type TestNetns } from './helpers/netns.js';

const it = kernelIt();
const ADD_ADDR = 1;
const DEL_ADDR = 2;
const GET_ADDR = 3;
const GET_LIMITS = 6;

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function ns(tag: string): Promise<TestNetns> {
  const n = await makeNetns(tag);
  cleanup.push(() => n.destroy());
  return n;
}

async function sock(netns?: string): Promise<GenlSocket> {
  const s = await GenlSocket.open('mptcp_pm', { netns, timeoutMs: 5000 });
  cleanup.push(() => s.close());
  return s;
}

/** Endpoint attribute bytes: ENDPOINT_ADDR nest with family AF_INET, id, addr4, flags. */
function endpoint(id: number, addr: number[], flags = 0): Buffer {
  return new AttrWriter().nest(1, (w) => {
    w.u16(1, 2).u8(2, id).binary(3, Uint8Array.from(addr));
    if (flags) w.u32(6, flags);
  }).finish();
}

function dumpedAddresses(parts: Buffer[]): string[] {
  return parts.map((p) => {
    const nest = readAttrs(p, 'reply').find((a) => a.type === 1)!;
    const a4 = readAttrs(nest.data, 'reply.addr').find((a) => a.type === 3)!;
    return [...a4.data].join('.');
  });
}

describe('GenlSocket on the kernel', () => {
  it('resolves mptcp_pm in a fresh namespace: id, version, groups and 11 ops', async () => {
    const n = await ns('sock');
    const s = await sock(n.name);
    expect(s.familyId).toBeGreaterThanOrEqual(0x10);
    expect(s.version).toBe(1);
    expect(s.groups.has('mptcp_pm_events')).toBe(true);
    expect(s.groups.has('mptcp_pm_cmds')).toBe(true);
    expect([...s.ops.keys()].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(s.ops.get(GET_ADDR)! & 0x4).toBe(0x4); // dump capable
    expect(s.ops.get(ADD_ADDR)! & 0x10).toBe(0x10); // UNS_ADMIN_PERM
  });

  it('does a GET_LIMITS round trip with the defaults of a new namespace (0 and 2)', async () => {
    const n = await ns('sock');
    const s = await sock(n.name);
    const replies = await s.request(GET_LIMITS, new Uint8Array(0), { op: 'get-limits' });
    expect(replies).toHaveLength(1);
    const attrs = readAttrs(replies[0], 'limits');
    expect(attrs.map((a) => [a.type, read.u32(a, 'limit')])).toEqual([[2, 0], [3, 2]]);
  });

  it('keeps endpoints per namespace: added in A, invisible from B and from the caller namespace', async () => {
    const [a, b] = [await ns('iso'), await ns('iso')];
    const [sa, sb, shost] = [await sock(a.name), await sock(b.name), await sock()];
    const before = dumpedAddresses(await shost.request(GET_ADDR, new Uint8Array(0), { op: 'get-addr', dump: true }));
    await sa.request(ADD_ADDR, endpoint(7, [198, 51, 100, 77], 0x1), { op: 'add-addr' });
    expect(dumpedAddresses(await sa.request(GET_ADDR, new Uint8Array(0), { op: 'get-addr', dump: true }))).toEqual(['198.51.100.77']);
    expect(await a.ip('mptcp', 'endpoint', 'show')).toMatch(/198\.51\.100\.77 id 7 signal/);
    expect(await sb.request(GET_ADDR, new Uint8Array(0), { op: 'get-addr', dump: true })).toEqual([]);
    expect(await b.ip('mptcp', 'endpoint', 'show')).toBe('');
    const after = dumpedAddresses(await shost.request(GET_ADDR, new Uint8Array(0), { op: 'get-addr', dump: true }));
    expect(after).toEqual(before);
    expect(after).not.toContain('198.51.100.77');
  });

  it('carries the kernel extack text (so NETLINK_EXT_ACK is on)', async () => {
    const n = await ns('err');
    const s = await sock(n.name);
    const err = (await s.request(DEL_ADDR, new AttrWriter().nest(1, (w) => w.u8(2, 77)).finish(), { op: 'del-addr' })
      .catch((e: unknown) => e)) as NetlinkError;
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err.errno).toBe(22);
    expect(err.extack.message).toBe('address not found');
    // 6.18 points at the ENDPOINT_ADDR nest, right after the two headers; 6.1 and 6.12 send the text only.
    expect([20, undefined]).toContain(err.extack.offset);
    expect(err.message).toBe('mptcp_pm del-addr: EINVAL: address not found');
    const miss = (await s.request(ADD_ADDR, new Uint8Array(0), { op: 'add-addr' }).catch((e: unknown) => e)) as NetlinkError;
    // 6.12 and 6.18 name the missing attribute (ENDPOINT_ADDR); 6.1 says it in words.
    expect([{ missingType: 1 }, { message: 'missing address info' }]).toContainEqual(
      miss.extack.missingType === undefined ? { message: miss.extack.message } : { missingType: miss.extack.missingType });
    expect(miss.errno).toBe(22);
  });

  it('sends off the JS thread and keeps order with synchronous sends', async () => {
    const n = await ns('off');
    const s = await sock(n.name);
    const ops = [
      s.request(ADD_ADDR, endpoint(1, [10, 0, 0, 1]), { op: 'add-addr' }),
      s.request(DEL_ADDR, endpoint(1, [10, 0, 0, 1]), { op: 'del-addr', offThread: true }),
      s.request(ADD_ADDR, endpoint(1, [10, 0, 0, 2]), { op: 'add-addr' }),
    ];
    await Promise.all(ops);
    expect(await n.ip('mptcp', 'endpoint', 'show')).toMatch(/^10\.0\.0\.2 id 1/);
    await expect(s.request(DEL_ADDR, endpoint(9, [10, 0, 0, 9]), { op: 'del-addr', offThread: true })).rejects.toThrow(/address not found/);
  });

  it('reads the drop counter of a socket living in another namespace', async () => {
    const n = await ns('drops');
    const s = await sock(n.name);
    expect(s.readDrops()).toBe(0);
    const table = await n.exec('cat', ['/proc/net/netlink']);
    const row = table.split('\n').find((l) => l.trim().split(/\s+/)[2] === String(s.portId));
    expect(row, 'socket listed in its namespace').toBeDefined();
    expect(Number(row!.trim().split(/\s+/)[8])).toBe(s.readDrops());
  });

  it('leaves the process in its own namespace, and names a missing one', async () => {
    const self = statSync('/proc/self/ns/net').ino;
    const thread = statSync('/proc/thread-self/ns/net').ino;
    const n = await ns('self');
    await sock(n.name);
    await sock(`/run/netns/${n.name}`);
    expect(statSync('/proc/self/ns/net').ino).toBe(self);
    expect(statSync('/proc/thread-self/ns/net').ino).toBe(thread);
    const err = await GenlSocket.open('mptcp_pm', { netns: 'mptcppm-does-not-exist' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetnsError);
    expect((err as Error).message).toContain('mptcppm-does-not-exist');
    expect(statSync('/proc/thread-self/ns/net').ino).toBe(thread);
  });
});
