// Socket layer tests against the fake generic-netlink peer: family lookup, exact request bytes,
// reply matching, dumps, errors with extack, timeouts, close, notifications, overruns, send order.

import { describe, expect, it } from 'vitest';
import { ClosedError, NetlinkError, TimeoutError } from '../src/netlink/core/errors.js';
import { GenlSocket } from '../src/netlink/genl/socket.js';
import { FakeGenl, type RecordedRequest } from './helpers/fake-genl.js';
import { fakeSockets } from './helpers/fake-sockets.js';
import { cat, cstr, nest, nla, toHex, u16le, u32le } from './helpers/bytes.js';
import { waitFor } from './helpers/netns.js';

const FAMILY = {
  name: 'mptcp_pm',
  id: 0x1c,
  version: 1,
  groups: { mptcp_pm_cmds: 8, mptcp_pm_events: 9 },
  ops: [[1, 0x1a], [3, 0x0e], [6, 0x0a]] as [number, number][],
};

const openSocket = fakeSockets(FAMILY);
const setup = (timeoutMs = 2000): ReturnType<typeof openSocket> => openSocket({ timeoutMs });

describe('GenlSocket.open', () => {
  it('resolves id, version, groups and ops with CTRL_CMD_GETFAMILY', async () => {
    const { sock, peer } = await setup();
    expect(sock.familyId).toBe(0x1c);
    expect(sock.version).toBe(1);
    expect([...sock.groups]).toEqual([['mptcp_pm_cmds', 8], ['mptcp_pm_events', 9]]);
    expect([...sock.ops]).toEqual([[1, 0x1a], [3, 0x0e], [6, 0x0a]]);
    const [req] = peer.requests;
    expect(req).toMatchObject({ type: 0x10, flags: 0x5, seq: 1, pid: 0, cmd: 3, version: 2, reserved: 0 });
    expect(toHex(req.attrs)).toBe(toHex(nla(2, cstr('mptcp_pm'))));
  });

  it('reports an unknown family as ENOENT naming it, and closes the transport', async () => {
    const peer = new FakeGenl({ ...FAMILY, name: 'other' });
    const err = await GenlSocket.open('mptcp_pm', { transport: peer }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect((err as NetlinkError).errno).toBe(2);
    expect((err as Error).message).toMatch(/^mptcp_pm getfamily: ENOENT/);
    expect(peer.closed).toBe(true);
  });

  it('passes receiveBufferBytes to the transport', async () => {
    const { sock, peer } = await openSocket({ receiveBufferBytes: 1 << 20 });
    expect(peer.receiveBuffer).toBe(2 << 20);
    expect(sock.setReceiveBuffer(4096)).toBe(8192);
  });
});

describe('GenlSocket.request', () => {
  it('sends REQUEST|ACK with the family id, version and exact attribute bytes; ACK resolves []', async () => {
    const { sock, peer } = await setup();
    peer.handler = (req) => peer.ack(req);
    const attrs = nest(1, nla(1, u16le(2)), nla(2, [5]));
    await expect(sock.request(1, attrs, { op: 'add-addr' })).resolves.toEqual([]);
    const [req] = peer.familyRequests;
    expect(req).toMatchObject({ length: 20 + attrs.length, type: 0x1c, flags: 0x5, seq: 2, pid: 0, cmd: 1, version: 1 });
    expect(toHex(req.attrs)).toBe(toHex(attrs));
    expect(toHex(req.raw.subarray(0, 20))).toBe(`${toHex(u32le(20 + attrs.length))} 1c 00 05 00 02 00 00 00 00 00 00 00 01 01 00 00`);
  });

  it('returns the attribute bytes of a do reply', async () => {
    const { sock, peer } = await setup();
    peer.handler = (req) => peer.reply(req, cat(nla(2, u32le(0)), nla(3, u32le(2))));
    const [r] = await sock.request(6, new Uint8Array(0), { op: 'get-limits' });
    expect(toHex(r)).toBe('08 00 02 00 00 00 00 00 08 00 03 00 02 00 00 00');
  });

  it('sends a reply-answered do-request without ACK and settles on the one message', async () => {
    const { sock, peer } = await setup();
    peer.handler = (req) => peer.reply(req, nla(3, u32le(2)));
    const [r] = await sock.request(6, new Uint8Array(0), { op: 'get-limits', reply: true });
    expect(toHex(r)).toBe('08 00 03 00 02 00 00 00');
    expect(peer.familyRequests[0].flags).toBe(0x1);
    // an error still arrives as NLMSG_ERROR and rejects it
    peer.handler = (req) => peer.error(req, 22, { message: 'address not found' });
    await expect(sock.request(3, new Uint8Array(0), { op: 'get-addr', reply: true })).rejects.toThrow(
      'mptcp_pm get-addr: EINVAL: address not found',
    );
  });

  it('times out each request at its own deadline with one shared timer', async () => {
    const { sock, peer } = await setup(400);
    peer.handler = () => {};
    const started = performance.now();
    const late = sock.request(6, new Uint8Array(0), { op: 'slow' }).catch((e: Error) => [e, performance.now() - started] as const);
    const early = sock.request(6, new Uint8Array(0), { op: 'quick', timeoutMs: 50 }).catch((e: Error) => [e, performance.now() - started] as const);
    const [[e1, t1], [e2, t2]] = (await Promise.all([early, late])) as [readonly [Error, number], readonly [Error, number]];
    expect(e1).toBeInstanceOf(TimeoutError);
    expect(e1.message).toMatch(/quick: no answer from the kernel within 50 ms/);
    expect(e2.message).toMatch(/slow: no answer from the kernel within 400 ms/);
    expect(t1).toBeLessThan(t2);
  });

  it('fails a request whose reply the kernel dropped as ENOBUFS, not as a timeout', async () => {
    const { sock, peer } = await setup(100);
    const overruns: number[] = [];
    sock.onOverrun((errno) => overruns.push(errno));
    peer.handler = () => {
      peer.drops += 1; // the reply was dropped: only the drop counter tells
    };
    const err = await sock.request(6, new Uint8Array(0), { op: 'get-limits' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect((err as NetlinkError).code).toBe('ENOBUFS');
    expect((err as Error).message).toMatch(/dropped messages for this socket; the outcome of this request is unknown/);
    expect(overruns).toEqual([105]);
    // without a drop, silence is a timeout
    peer.handler = () => {};
    await expect(sock.request(6, new Uint8Array(0), { op: 'get-limits' })).rejects.toBeInstanceOf(TimeoutError);
  });

  it('matches concurrent requests answered out of order by sequence number', async () => {
    const { sock, peer } = await setup();
    const held: RecordedRequest[] = [];
    peer.handler = (req) => held.push(req);
    const ps = [0, 1, 2, 3, 4].map((i) => sock.request(6, nla(1, u32le(i)), { op: `op${i}` }));
    await null; // requests made while others are in flight leave together, on the next microtask
    expect(held.map((r) => r.seq)).toEqual([2, 3, 4, 5, 6]);
    for (const req of [...held].reverse()) peer.reply(req, nla(7, u32le(req.attrs.readUInt32LE(4))));
    const out = await Promise.all(ps);
    expect(out.map(([b]) => b.readUInt32LE(4))).toEqual([0, 1, 2, 3, 4]);
  });

  it('gathers a multipart dump until NLMSG_DONE', async () => {
    const { sock, peer } = await setup();
    peer.handler = (req) => peer.dump(req, [nla(1, [1]), nla(1, [2]), nla(1, [3])], 2);
    const parts = await sock.request(3, new Uint8Array(0), { op: 'get-addr', dump: true });
    expect(peer.familyRequests[0].flags).toBe(0x305);
    expect(parts.map((p) => p[4])).toEqual([1, 2, 3]);
  });

  it('rejects a dump whose NLMSG_DONE carries an error, with its extack', async () => {
    const { sock, peer } = await setup();
    peer.handler = (req) => peer.dump(req, [nla(1, [1])], 1, 22, { message: 'invalid token' });
    const err = (await sock.request(3, new Uint8Array(0), { op: 'get-addr', dump: true }).catch((e: unknown) => e)) as NetlinkError;
    expect(err.message).toBe('mptcp_pm get-addr: EINVAL: invalid token');
  });

  it('rejects with NetlinkError carrying the extack message, offset and missing type', async () => {
    const { sock, peer } = await setup();
    peer.handler = (req) => {
      if (req.cmd === 2) peer.error(req, 22, { message: 'address not found', offset: 20 });
      else peer.error(req, 22, { missingType: 1 }, false);
    };
    const e1 = (await sock.request(2, nest(1, nla(2, [9])), { op: 'del-addr' }).catch((e: unknown) => e)) as NetlinkError;
    expect(e1).toBeInstanceOf(NetlinkError);
    expect(e1.message).toBe('mptcp_pm del-addr: EINVAL: address not found');
    expect(e1).toMatchObject({ errno: 22, code: 'EINVAL', op: 'del-addr', extack: { message: 'address not found', offset: 20 } });
    const e2 = (await sock.request(1, new Uint8Array(0), { op: 'add-addr' }).catch((e: unknown) => e)) as NetlinkError;
    expect(e2.extack).toEqual({ missingType: 1 });
    expect(e2.message).toBe('mptcp_pm add-addr: EINVAL: required attribute type 1 missing');
  });

  it('explains EPERM', async () => {
    const { sock, peer } = await setup();
    peer.handler = (req) => peer.error(req, 1);
    await expect(sock.request(1, new Uint8Array(0), { op: 'add-addr' })).rejects.toThrow(/EPERM: .*CAP_NET_ADMIN/);
  });

  it('times out an unanswered request and drops its late reply', async () => {
    const { sock, peer } = await setup();
    const held: RecordedRequest[] = [];
    peer.handler = (req) => held.push(req);
    const errors: Error[] = [];
    sock.onError((e) => errors.push(e));
    const notes: number[] = [];
    sock.onNotification((cmd) => notes.push(cmd));
    const err = await sock.request(6, new Uint8Array(0), { op: 'get-limits', timeoutMs: 30 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toBe('mptcp_pm get-limits: no answer from the kernel within 30 ms');
    peer.reply(held[0], nla(2, u32le(0)));
    peer.handler = (req) => peer.ack(req);
    await sock.request(6, new Uint8Array(0), { op: 'get-limits' });
    expect(errors).toEqual([]);
    expect(notes).toEqual([]);
  });

  it('rejects every pending request with ClosedError on close, and later requests too', async () => {
    const { sock } = await setup();
    const ps = [sock.request(6, new Uint8Array(0), { op: 'a' }), sock.request(6, new Uint8Array(0), { op: 'b', dump: true })];
    sock.close();
    for (const p of ps) await expect(p).rejects.toBeInstanceOf(ClosedError);
    await expect(sock.request(6, new Uint8Array(0), { op: 'c' })).rejects.toBeInstanceOf(ClosedError);
  });

  it('rejects a request whose send fails with that errno', async () => {
    const { sock, peer } = await setup();
    peer.failNextSend = 105;
    await expect(sock.request(6, new Uint8Array(0), { op: 'get-limits' })).rejects.toThrow(/get-limits: ENOBUFS: .*sending the request failed/);
  });

  it('keeps send order when an off-thread request is followed by fast ones', async () => {
    const { sock, peer } = await setup();
    peer.handler = (req) => peer.ack(req);
    const ps = [
      sock.request(6, new Uint8Array(0), { op: 'a' }),
      sock.request(2, new Uint8Array(0), { op: 'del', offThread: true }),
      sock.request(6, new Uint8Array(0), { op: 'b' }),
      sock.request(4, new Uint8Array(0), { op: 'flush', offThread: true }),
      sock.request(6, new Uint8Array(0), { op: 'c' }),
    ];
    expect(peer.familyRequests.map((r) => r.seq)).toEqual([2]); // the rest waits behind the worker send
    await Promise.all(ps);
    expect(peer.sendLog.slice(1)).toEqual([
      { seq: 2, offThread: false }, { seq: 3, offThread: true }, { seq: 4, offThread: false },
      { seq: 5, offThread: true }, { seq: 6, offThread: false },
    ]);
  });

  it('rejects an off-thread request whose send fails, and continues with the queue', async () => {
    const { sock, peer } = await setup();
    peer.handler = (req) => peer.ack(req);
    peer.failNextSend = 9;
    const a = sock.request(2, new Uint8Array(0), { op: 'del', offThread: true });
    const b = sock.request(6, new Uint8Array(0), { op: 'get' });
    await expect(a).rejects.toThrow(/del: EBADF/);
    await expect(b).resolves.toEqual([]);
  });

  it('does not send a queued request that timed out while waiting', async () => {
    const { sock, peer } = await setup();
    peer.offThreadDelayMs = 60;
    peer.handler = (req) => peer.ack(req);
    const a = sock.request(2, new Uint8Array(0), { op: 'del', offThread: true });
    const b = sock.request(6, new Uint8Array(0), { op: 'late', timeoutMs: 10 });
    await expect(b).rejects.toBeInstanceOf(TimeoutError);
    await a;
    expect(peer.familyRequests.map((r) => r.cmd)).toEqual([2]);
  });
});

describe('notifications, groups and overruns', () => {
  it('delivers family messages with seq 0 to notification listeners', async () => {
    const { sock, peer } = await setup();
    const got: [number, number, string][] = [];
    const off = sock.onNotification((cmd, version, attrs) => got.push([cmd, version, toHex(attrs)]));
    peer.notify(7, nla(1, u32le(0xdeadbeef)));
    await waitFor(() => got.length === 1, { timeoutMs: 1000, what: 'the notification' });
    expect(got[0]).toEqual([7, 1, '08 00 01 00 ef be ad de']);
    off();
    peer.notify(8, []);
    peer.handler = (req) => peer.ack(req);
    await sock.request(6, new Uint8Array(0), { op: 'sync' }); // the notification was delivered before this ACK
    expect(got).toHaveLength(1);
  });

  it('joins groups by name, and refuses an unknown one', async () => {
    const { sock, peer } = await setup();
    await new Promise((r) => setImmediate(r)); // the family lookup's reference goes once idle
    expect(peer.ref).toBe(false);
    sock.joinGroup('mptcp_pm_events');
    expect(peer.memberships).toEqual([9]);
    expect(peer.ref).toBe(true);
    expect(() => sock.joinGroup('nope')).toThrow(/no multicast group "nope"/);
  });

  it('is referenced only while requests are pending (let go once a turn passed idle)', async () => {
    const { sock, peer } = await setup();
    await new Promise((r) => setImmediate(r));
    expect(peer.ref).toBe(false);
    peer.handler = (req) => peer.ack(req);
    const p = sock.request(6, new Uint8Array(0), { op: 'x' });
    expect(peer.ref).toBe(true);
    await p;
    await sock.request(6, new Uint8Array(0), { op: 'x' }); // back to back: still referenced
    expect(peer.ref).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(peer.ref).toBe(false);
  });

  it('reports ENOBUFS to overrun listeners and fails pending requests as outcome unknown', async () => {
    const { sock, peer } = await setup();
    const overruns: number[] = [];
    sock.onOverrun((errno) => overruns.push(errno));
    const p = sock.request(1, new Uint8Array(0), { op: 'add-addr' });
    peer.overrun();
    await expect(p).rejects.toThrow(/add-addr: ENOBUFS: .*outcome of this request is unknown/);
    expect(overruns).toEqual([105]);
    peer.drops = 3;
    expect(sock.readDrops()).toBe(3);
  });

  it('reports a malformed datagram that names no request to error listeners', async () => {
    const { sock, peer } = await setup();
    const errors: Error[] = [];
    sock.onError((e) => errors.push(e));
    peer.deliver(cat(u32le(64), u16le(0x1c), u16le(0), u32le(0), u32le(0)));
    await waitFor(() => errors.length === 1, { timeoutMs: 1000, what: 'the error report' });
    expect(errors[0].name).toBe('DecodeError');
  });

  it('fails the request named by a malformed reply', async () => {
    const { sock, peer } = await setup();
    peer.handler = (req) => peer.deliver(FakeGenl.message(0x1c, 0, req.seq, 0, [1]));
    await expect(sock.request(6, new Uint8Array(0), { op: 'x' })).rejects.toThrow(/genlmsghdr/);
  });
});
