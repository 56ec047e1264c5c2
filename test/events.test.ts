// MptcpEvents and decodeEvent against the fake generic-netlink peer: every event type decoded from
// hand-built bytes, byte order of ports, old-kernel forms, unknown types/attributes, filters, loss.

import { afterEach, describe, expect, it } from 'vitest';
import { MptcpEvents, decodeEvent, type MptcpEvent, type StreamItem } from '../src/index.js';
import { NetlinkError, UnsupportedError, ValidationError } from '../src/netlink/core/errors.js';
import { SysError } from '../src/os/sys.js';
import { FakeGenl } from './helpers/fake-genl.js';
import { be16, cat, ipv4, nla, u16le, u32le, u8, type Bytes } from './helpers/bytes.js';

const FAMILY = { name: 'mptcp_pm', id: 0x1c, version: 1, groups: { mptcp_pm_cmds: 8, mptcp_pm_events: 9 }, ops: [] as [number, number][] };

// Event attribute numbers (MPTCP_ATTR_*), written out here rather than taken from the code under test.
const A = {
  token: 1, family: 2, locId: 3, remId: 4, saddr4: 5, saddr6: 6, daddr4: 7, daddr6: 8, sport: 9, dport: 10,
  backup: 11, error: 12, flags: 13, timeout: 14, ifIdx: 15, resetReason: 16, resetFlags: 17, serverSide: 18,
} as const;
const CMD = {
  created: 1, established: 2, closed: 3, announced: 6, removed: 7, subEstablished: 10, subClosed: 11,
  subPriority: 13, listenerCreated: 15, listenerClosed: 16,
} as const;
const TOKEN = 0x89abcdef;

const v6 = (words: number[]): number[] => words.flatMap((w) => [w >> 8, w & 0xff]);
const DB8_1 = v6([0x2001, 0xdb8, 1, 0, 0, 0, 0, 1]);
const DB8_2 = v6([0x2001, 0xdb8, 2, 0, 0, 0, 0, 2]);

/** Attributes of a v4 connection/subflow event: 192.0.2.1:5000 → 198.51.100.2:443 (ports BE on the wire). */
function v4Tuple(extra: Bytes[] = []): Uint8Array {
  return cat(
    nla(A.token, u32le(TOKEN)), nla(A.family, u16le(2)), nla(A.locId, u8(3)), nla(A.remId, u8(4)),
    nla(A.saddr4, ipv4('192.0.2.1')), nla(A.daddr4, ipv4('198.51.100.2')),
    nla(A.sport, be16(5000)), nla(A.dport, be16(443)), ...extra,
  );
}

let fakes: FakeGenl[] = [];
let opened: MptcpEvents[] = [];
afterEach(() => {
  for (const e of opened) e.close();
  opened = [];
  fakes = [];
});

async function open(opts: Parameters<typeof MptcpEvents.open>[0] = {}): Promise<{ ev: MptcpEvents; fake: FakeGenl }> {
  const fake = new FakeGenl(FAMILY);
  fakes.push(fake);
  const ev = await MptcpEvents.open({ ...opts, transport: fake });
  opened.push(ev);
  return { ev, fake };
}

/** Collects what `ev` emits as `event` until `n` arrived (bounded by a timeout). */
function collect(ev: MptcpEvents, n: number, timeoutMs = 2000): Promise<MptcpEvent[]> {
  const got: MptcpEvent[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${n} events: ${JSON.stringify(got)}`)), timeoutMs);
    ev.on('event', (e) => {
      got.push(e);
      if (got.length === n) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

/** The next `n` stream items; fails after `timeoutMs` rather than hanging. */
async function take(it: AsyncIterator<StreamItem>, n: number, timeoutMs = 2000): Promise<StreamItem[]> {
  const out: StreamItem[] = [];
  for (let i = 0; i < n; i++) {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`stream gave ${out.length} of ${n} items: ${JSON.stringify(out)}`)), timeoutMs);
    });
    const r = await Promise.race([it.next(), late]).finally(() => clearTimeout(timer));
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

describe('decodeEvent', () => {
  it('created (6.18 form): FLAGS server-side, ports to host order, ids, addresses', () => {
    const e = decodeEvent(CMD.created, v4Tuple([nla(A.flags, u16le(0x2)), nla(A.serverSide, u8(1))]));
    expect(e).toEqual({
      type: 'created', token: TOKEN, family: 'inet', localAddress: '192.0.2.1', localPort: 5000,
      remoteAddress: '198.51.100.2', remotePort: 443, localId: 3, remoteId: 4, serverSide: true, denyJoinId0: false,
    });
  });

  it('reads event ports as big-endian: bytes 13 88 are port 5000, not 34835', () => {
    const e = decodeEvent(CMD.closed, cat(nla(A.token, u32le(1)), nla(A.sport, [0x13, 0x88]), nla(A.dport, [0x00, 0x50])));
    expect(e).toMatchObject({ localPort: 5000, remotePort: 80 });
  });

  it('established (pre-6.18 form): SERVER_SIDE attribute 1 or 0 and no FLAGS', () => {
    expect(decodeEvent(CMD.established, v4Tuple([nla(A.serverSide, u8(1))]))).toMatchObject({ type: 'established', serverSide: true, denyJoinId0: false });
    expect(decodeEvent(CMD.established, v4Tuple([nla(A.serverSide, u8(0))]))).toMatchObject({ serverSide: false, denyJoinId0: false });
    // 6.18 client side: neither attribute at all.
    expect(decodeEvent(CMD.established, v4Tuple())).toMatchObject({ serverSide: false, denyJoinId0: false });
  });

  it('established with deny-join-id0 and an unnamed flag bit kept', () => {
    const e = decodeEvent(CMD.established, v4Tuple([nla(A.flags, u16le(0x1 | 0x8))]));
    expect(e).toMatchObject({ serverSide: false, denyJoinId0: true, unknownFlags: 0x8 });
  });

  it('closed: token only', () => {
    expect(decodeEvent(CMD.closed, nla(A.token, u32le(TOKEN)))).toEqual({ type: 'closed', token: TOKEN });
  });

  it('announced: no FAMILY on the wire, derived from DADDR4 / DADDR6', () => {
    const four = decodeEvent(CMD.announced, cat(nla(A.token, u32le(TOKEN)), nla(A.remId, u8(9)), nla(A.daddr4, ipv4('203.0.113.7')), nla(A.dport, be16(8080))));
    expect(four).toEqual({ type: 'announced', token: TOKEN, family: 'inet', remoteAddress: '203.0.113.7', remotePort: 8080, remoteId: 9 });
    const six = decodeEvent(CMD.announced, cat(nla(A.token, u32le(TOKEN)), nla(A.remId, u8(2)), nla(A.daddr6, DB8_2), nla(A.dport, be16(1))));
    expect(six).toMatchObject({ type: 'announced', family: 'inet6', remoteAddress: '2001:db8:2::2', remotePort: 1 });
  });

  it('removed: token and remote id', () => {
    expect(decodeEvent(CMD.removed, cat(nla(A.token, u32le(TOKEN)), nla(A.remId, u8(9))))).toEqual({ type: 'removed', token: TOKEN, remoteId: 9 });
  });

  it('subEstablished: backup, bound interface (s32)', () => {
    const e = decodeEvent(CMD.subEstablished, v4Tuple([nla(A.backup, u8(1)), nla(A.ifIdx, u32le(7))]));
    expect(e).toMatchObject({ type: 'subEstablished', token: TOKEN, backup: true, ifindex: 7, localPort: 5000, remotePort: 443 });
  });

  it('subClosed: error as { errno, code }, reset reason and flags', () => {
    const e = decodeEvent(CMD.subClosed, v4Tuple([nla(A.backup, u8(0)), nla(A.error, u8(111)), nla(A.resetReason, u32le(6)), nla(A.resetFlags, u32le(1))]));
    expect(e).toMatchObject({
      type: 'subClosed', backup: false, error: { errno: 111, code: 'ECONNREFUSED' },
      resetReason: { value: 6, name: 'emiddlebox' }, resetFlags: { value: 1, transient: true },
    });
    const odd = decodeEvent(CMD.subClosed, v4Tuple([nla(A.resetReason, u32le(77))]));
    expect(odd).toMatchObject({ resetReason: { value: 77, name: 'unknown' } });
  });

  it('subPriority: IPv6 subflow', () => {
    const e = decodeEvent(CMD.subPriority, cat(
      nla(A.token, u32le(TOKEN)), nla(A.family, u16le(10)), nla(A.saddr6, DB8_1), nla(A.daddr6, DB8_2),
      nla(A.sport, be16(40000)), nla(A.dport, be16(5000)), nla(A.locId, u8(1)), nla(A.remId, u8(0)), nla(A.backup, u8(1)),
    ));
    expect(e).toEqual({
      type: 'subPriority', token: TOKEN, family: 'inet6', localAddress: '2001:db8:1::1', localPort: 40000,
      remoteAddress: '2001:db8:2::2', remotePort: 5000, localId: 1, remoteId: 0, backup: true,
    });
  });

  it('listenerCreated / listenerClosed: no token, family and local address', () => {
    const attrs = cat(nla(A.family, u16le(10)), nla(A.sport, be16(5000)), nla(A.saddr6, DB8_1));
    expect(decodeEvent(CMD.listenerCreated, attrs)).toEqual({ type: 'listenerCreated', family: 'inet6', localAddress: '2001:db8:1::1', localPort: 5000 });
    const v4 = cat(nla(A.family, u16le(2)), nla(A.sport, be16(80)), nla(A.saddr4, ipv4('0.0.0.0')));
    expect(decodeEvent(CMD.listenerClosed, v4)).toEqual({ type: 'listenerClosed', family: 'inet', localAddress: '0.0.0.0', localPort: 80 });
  });

  it('keeps an unknown attribute of a known event', () => {
    const e = decodeEvent(CMD.closed, cat(nla(A.token, u32le(TOKEN)), nla(99, [1, 2, 3])));
    expect(e).toMatchObject({ type: 'closed', token: TOKEN, unknownAttributes: [{ type: 99, data: Uint8Array.from([1, 2, 3]) }] });
  });

  it('delivers an unknown event type with its number, raw attributes and the fields it decodes', () => {
    const bytes = cat(nla(A.token, u32le(TOKEN)), nla(A.sport, be16(5000)), nla(42, [9]));
    const e = decodeEvent(20, bytes);
    expect(e).toMatchObject({ type: 'unknown', eventType: 20, token: TOKEN, localPort: 5000 });
    if (e.type !== 'unknown') throw new Error('not unknown');
    expect(e.attributes.map((a) => [a.type, [...a.data]])).toEqual([[1, [0xef, 0xcd, 0xab, 0x89]], [9, [0x13, 0x88]], [42, [9]]]);
    // Attribute numbers reused with other sizes by a future event: still delivered, raw only.
    const other = decodeEvent(21, nla(A.sport, u32le(1)));
    expect(other).toMatchObject({ type: 'unknown', eventType: 21 });
    expect(other).not.toHaveProperty('localPort');
  });

  it('turns malformed bytes of a known event into `invalid`, never a throw', () => {
    const bad = decodeEvent(CMD.subEstablished, cat(nla(A.token, u32le(1)), nla(A.sport, u32le(5000))));
    expect(bad).toMatchObject({ type: 'invalid', eventType: 10 });
    expect(bad.type === 'invalid' && bad.reason).toMatch(/sport: expected 2 bytes, got 4/);
    expect(decodeEvent(CMD.closed, new Uint8Array(0))).toMatchObject({ type: 'invalid', reason: expect.stringMatching(/no token/) });
    expect(decodeEvent(CMD.closed, [8, 0, 1] as unknown as Uint8Array)).toMatchObject({ type: 'invalid' });
  });
});

describe('MptcpEvents on the fake peer', () => {
  it('joins mptcp_pm_events by the id the family lookup gave and sets a large receive buffer', async () => {
    const { ev, fake } = await open();
    expect(fake.memberships).toEqual([9]);
    expect(ev.receiveBufferBytes).toBe(8 * 1024 * 1024); // the fake doubles, like the kernel
    const small = await open({ receiveBufferBytes: 4096 });
    expect(small.ev.receiveBufferBytes).toBe(8192);
  });

  it('emits typed events by name and as `event`, and yields them in the stream', async () => {
    const { ev, fake } = await open();
    const stream = ev.stream();
    const named: number[] = [];
    ev.on('subEstablished', (e) => named.push(e.localPort ?? -1));
    const all = collect(ev, 2);
    fake.notify(CMD.subEstablished, v4Tuple());
    fake.notify(CMD.closed, nla(A.token, u32le(TOKEN)));
    expect((await all).map((e) => e.type)).toEqual(['subEstablished', 'closed']);
    expect(named).toEqual([5000]);
    expect((await take(stream, 2)).map((e) => e.type)).toEqual(['subEstablished', 'closed']);
  });

  it('delivers unknown event types and malformed events instead of dropping them', async () => {
    const { ev, fake } = await open();
    const got = collect(ev, 2);
    fake.notify(33, nla(A.token, u32le(5)));
    fake.notify(CMD.created, nla(A.sport, [1]));
    expect((await got).map((e) => e.type)).toEqual(['unknown', 'invalid']);
  });

  it('filters by type and by token before user code', async () => {
    const { ev, fake } = await open({ types: ['established', 'closed'], token: TOKEN });
    const got = collect(ev, 2);
    const unwanted: string[] = [];
    ev.on('created', (e) => unwanted.push(e.type));
    ev.on('listenerCreated', (e) => unwanted.push(e.type));
    fake.notify(CMD.created, v4Tuple());
    fake.notify(CMD.established, cat(nla(A.token, u32le(1234)), nla(A.family, u16le(2))));
    fake.notify(CMD.listenerCreated, cat(nla(A.family, u16le(2)), nla(A.sport, be16(1)), nla(A.saddr4, ipv4('192.0.2.1'))));
    fake.notify(CMD.established, v4Tuple());
    fake.notify(CMD.closed, nla(A.token, u32le(TOKEN)));
    const events = await got;
    expect(events.map((e) => [e.type, e.type === 'invalid' ? 0 : e.token])).toEqual([['established', TOKEN], ['closed', TOKEN]]);
    expect(unwanted).toEqual([]);
  });

  it('reports a kernel overrun with the drop count, in the stream too, and carries on', async () => {
    const { ev, fake } = await open();
    const stream = ev.stream();
    const overruns: (number | undefined)[] = [];
    ev.on('overrun', (o) => overruns.push(o.lost));
    fake.notify(CMD.closed, nla(A.token, u32le(1)));
    fake.drops = 7;
    fake.overrun();
    fake.notify(CMD.closed, nla(A.token, u32le(2)));
    const items = await take(stream, 3);
    expect(items).toEqual([
      { type: 'closed', token: 1 },
      { type: 'overrun', lost: 7, source: 'kernel' },
      { type: 'closed', token: 2 },
    ]);
    // Drops made while the kernel had already flagged the congestion raise no second ENOBUFS: the
    // counter is watched after an overrun, so they are reported too.
    fake.drops = 10;
    expect(await take(stream, 1)).toEqual([{ type: 'overrun', lost: 3, source: 'kernel' }]);
    expect(overruns).toEqual([7, 3]);
  });

  it('notices drops from the counter alone (NETLINK_NO_ENOBUFS, as on the kernel) after the events read', async () => {
    const { ev, fake } = await open();
    const stream = ev.stream();
    fake.drops = 4;
    fake.notify(CMD.closed, nla(A.token, u32le(1)));
    expect(await take(stream, 2)).toEqual([{ type: 'closed', token: 1 }, { type: 'overrun', lost: 4, source: 'kernel' }]);
    fake.notify(CMD.closed, nla(A.token, u32le(2)));
    expect(await take(stream, 1)).toEqual([{ type: 'closed', token: 2 }]);
  });

  it('reports an overrun with lost undefined when the counter says nothing', async () => {
    const { ev, fake } = await open();
    const got = new Promise((r) => ev.once('overrun', r));
    fake.overrun();
    expect(await got).toEqual({ type: 'overrun', lost: undefined, source: 'kernel' });
  });

  it('a slow stream consumer gets a queue overrun with the exact count, never a silent gap', async () => {
    const { ev, fake } = await open();
    const stream = ev.stream({ maxQueued: 3 });
    const seen = collect(ev, 10);
    for (let t = 1; t <= 10; t++) fake.notify(CMD.closed, nla(A.token, u32le(t)));
    await seen;
    expect(await take(stream, 3)).toEqual([{ type: 'closed', token: 1 }, { type: 'closed', token: 2 }, { type: 'closed', token: 3 }]);
    const later = collect(ev, 1);
    fake.notify(CMD.closed, nla(A.token, u32le(11)));
    await later;
    expect(await take(stream, 2)).toEqual([{ type: 'overrun', lost: 7, source: 'queue' }, { type: 'closed', token: 11 }]);
  });

  it('a kernel overrun that finds the stream queue full keeps its count, apart from the queue\'s own', async () => {
    const { ev, fake } = await open();
    const stream = ev.stream({ maxQueued: 2 });
    const overruns: (number | undefined)[] = [];
    ev.on('overrun', (o) => overruns.push(o.lost));
    const seen = collect(ev, 3);
    for (let t = 1; t <= 3; t++) fake.notify(CMD.closed, nla(A.token, u32le(t)));
    await seen;
    for (const total of [5, 8]) {
      const next = new Promise((r) => ev.once('overrun', r));
      fake.drops = total;
      fake.overrun();
      await next;
    }
    expect(overruns).toEqual([5, 3]);
    expect(await take(stream, 4)).toEqual([
      { type: 'closed', token: 1 }, { type: 'closed', token: 2 },
      { type: 'overrun', lost: 1, source: 'queue' }, { type: 'overrun', lost: 8, source: 'kernel' },
    ]);
  });

  it('stream options are checked before anything is registered: typed errors, unknown keys refused, close() still works', async () => {
    const { ev, fake } = await open();
    const bad: [unknown, string, RegExp][] = [
      [{ signal: 'x' }, 'signal', /AbortSignal/],
      [{ signal: {} }, 'signal', /AbortSignal/],
      [null, 'options', /object/],
      [{ bogus: 1 }, 'options.bogus', /not a known option/],
      [{ maxQueued: 0 }, 'maxQueued', /from 1/],
    ];
    for (const [opts, field, rule] of bad) {
      let err: unknown;
      try {
        ev.stream(opts as never);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(opts)).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field).toBe(field);
      expect((err as Error).message).toMatch(rule);
    }
    const good = ev.stream();
    const seen = collect(ev, 1);
    fake.notify(CMD.closed, nla(A.token, u32le(9)));
    await seen;
    expect(() => ev.close()).not.toThrow();
    expect(await take(good, 1)).toEqual([{ type: 'closed', token: 9 }]);
    expect(await good.next()).toEqual({ value: undefined, done: true });
  });

  it('ends the stream on abort, at once', async () => {
    const { ev, fake } = await open();
    const ac = new AbortController();
    const stream = ev.stream({ signal: ac.signal });
    const pending = stream.next();
    ac.abort();
    expect(await pending).toEqual({ value: undefined, done: true });
    fake.notify(CMD.closed, nla(A.token, u32le(1)));
    expect(await stream.next()).toEqual({ value: undefined, done: true });
    const already = ev.stream({ signal: ac.signal });
    expect(await already.next()).toEqual({ value: undefined, done: true });
  });

  it('ends the stream on close(), after what it already holds', async () => {
    const { ev, fake } = await open();
    const stream = ev.stream();
    const got = collect(ev, 1);
    fake.notify(CMD.closed, nla(A.token, u32le(1)));
    await got;
    ev.close();
    expect(fake.closed).toBe(true);
    const rest: StreamItem[] = [];
    for await (const e of stream) rest.push(e);
    expect(rest).toEqual([{ type: 'closed', token: 1 }]);
    expect(await ev.stream().next()).toEqual({ value: undefined, done: true });
  });

  it('stops queueing for a consumer that leaves the loop', async () => {
    const { ev, fake } = await open();
    const stream = ev.stream();
    fake.notify(CMD.closed, nla(A.token, u32le(1)));
    for await (const e of stream) {
      expect(e.type).toBe('closed');
      break;
    }
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it('explains a refused subscription (EPERM) and closes its socket', async () => {
    const fake = new FakeGenl(FAMILY);
    fake.addMembership = () => {
      throw new SysError('setsockopt', 1, 'NETLINK_ADD_MEMBERSHIP 9');
    };
    const err = (await MptcpEvents.open({ transport: fake }).catch((e: unknown) => e)) as NetlinkError;
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err.code).toBe('EPERM');
    expect(err.message).toMatch(/join mptcp_pm_events: EPERM: .*CAP_NET_ADMIN/);
    expect(fake.closed).toBe(true);
  });

  it('asked for listener events where the family shows none (no UNS_ADMIN_PERM op: before 6.1): UnsupportedError naming 6.2, socket closed', async () => {
    // FAMILY lists no op with UNS_ADMIN_PERM (0x10): the shape of a kernel older than 6.1.
    for (const types of [['listenerCreated'], ['established', 'listenerClosed']] as const) {
      const fake = new FakeGenl(FAMILY);
      const err = await MptcpEvents.open({ transport: fake, types }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnsupportedError);
      expect(err).toMatchObject({ sinceKernel: '6.2', message: `the ${types[types.length - 1]} event is not supported by this kernel (added in Linux 6.2)` });
      expect(fake.closed).toBe(true);
    }
    // Without listener types the stream opens as usual.
    const { ev } = await open({ types: ['established'] });
    expect(ev.closed).toBe(false);
  });

  it('listener events where the family gives no sign either way (UNS_ADMIN_PERM ops, 6.1–6.6): the stream opens', async () => {
    const fake = new FakeGenl({ ...FAMILY, ops: [[1, 0x10 | 0x2], [3, 0x0e]] });
    const ev = await MptcpEvents.open({ transport: fake, types: ['listenerCreated'] });
    expect(ev.closed).toBe(false);
    ev.close();
  });

  it('refuses bad options before opening anything', async () => {
    await expect(MptcpEvents.open({ types: ['bogus' as never] })).rejects.toMatchObject({ name: 'ValidationError', field: 'types[0]' });
    await expect(MptcpEvents.open({ token: -1 })).rejects.toBeInstanceOf(ValidationError);
    await expect(MptcpEvents.open({ receiveBufferBytes: 0 })).rejects.toMatchObject({ field: 'receiveBufferBytes' });
  });
});
