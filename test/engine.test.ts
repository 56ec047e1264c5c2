// Request-engine behaviour against the fake peer: the window of requests in flight sized from the
// receive buffer, one dump at a time, interrupted dumps sent again, stray datagrams kept out of the
// process's warnings, and extended ACKs naming the request attribute.

import { describe, expect, it } from 'vitest';
import { NetlinkError } from '../src/netlink/core/errors.js';
import { GenlSocket } from '../src/netlink/genl/socket.js';
import { FakeGenl, type RecordedRequest } from './helpers/fake-genl.js';
import { fakeSockets } from './helpers/fake-sockets.js';
import { nla, u32le } from './helpers/bytes.js';
import { waitFor } from './helpers/netns.js';

const FAMILY = { name: 'mptcp_pm', id: 0x1c, version: 1, groups: { mptcp_pm_events: 9 }, ops: [[3, 0x0e], [6, 0x0a]] as [number, number][] };
const NLM_F_DUMP_INTR = 0x10;

const openSocket = fakeSockets(FAMILY);
const setup = (receiveBuffer?: number): ReturnType<typeof openSocket> => openSocket({ receiveBuffer, timeoutMs: 5000 });

describe('flow control', () => {
  it('keeps at most the window in flight (receive buffer less a dump, 2 KiB a request) and sends the rest in order', async () => {
    // 64 KiB for a dump + 10 requests of 2 KiB.
    const { sock, peer } = await setup(64 * 1024 + 10 * 2048);
    const held: RecordedRequest[] = [];
    peer.handler = (req) => held.push(req);
    const ps = Array.from({ length: 25 }, (_, i) => sock.request(6, nla(1, u32le(i)), { op: 'get-limits' }));
    await null;
    expect(held.length).toBe(10);
    let answered = 0;
    for (let i = 0; i < 200 && answered < 25; i++) {
      const req = held[answered++];
      peer.reply(req, nla(7, u32le(req.attrs.readUInt32LE(4))));
      await waitFor(() => held.length >= Math.min(25, answered + 10), { timeoutMs: 2000, what: 'the next request to be sent' });
      expect(held.length - answered).toBeLessThanOrEqual(10);
    }
    const out = await Promise.all(ps);
    expect(out.map(([b]) => b.readUInt32LE(4))).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(held.map((r) => r.attrs.readUInt32LE(4))).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });

  it('resizes the window when the receive buffer changes', async () => {
    const { sock } = await setup(212992);
    expect(sock.socket.maxInFlight).toBe(Math.floor((212992 - 65536) / 2048));
    sock.setReceiveBuffer(1 << 20); // the fake doubles it, as the kernel does
    expect(sock.socket.maxInFlight).toBe(Math.floor(((2 << 20) - 65536) / 2048));
  });

  it('runs one dump at a time: the second is sent when the first is done', async () => {
    const { sock, peer } = await setup();
    const held: RecordedRequest[] = [];
    peer.handler = (req) => held.push(req);
    const a = sock.request(3, new Uint8Array(0), { op: 'get-addr', dump: true });
    const b = sock.request(3, new Uint8Array(0), { op: 'get-addr', dump: true });
    expect(held.length).toBe(1);
    peer.dump(held[0], [nla(1, [1])]);
    await waitFor(() => held.length === 2, { timeoutMs: 2000, what: 'the second dump' });
    peer.dump(held[1], [nla(1, [2])]);
    expect((await a).map((p) => p[4])).toEqual([1]);
    expect((await b).map((p) => p[4])).toEqual([2]);
  });

  it('lets identical dumps asked while one waits to be sent share its answer, never one already sent', async () => {
    const { sock, peer } = await setup();
    const held: RecordedRequest[] = [];
    peer.handler = (req) => held.push(req);
    const a = sock.request(3, new Uint8Array(0), { op: 'get-addr', dump: true });
    // a is in flight: b waits, c and d are identical to b and join it; e asks for something else.
    const b = sock.request(3, new Uint8Array(0), { op: 'get-addr', dump: true });
    const c = sock.request(3, new Uint8Array(0), { op: 'get-addr', dump: true });
    const d = sock.request(3, new Uint8Array(0), { op: 'get-addr', dump: true });
    const e = sock.request(3, nla(1, u32le(5)), { op: 'get-addr', dump: true });
    peer.dump(held[0], [nla(1, [1])]);
    await waitFor(() => held.length === 2, { timeoutMs: 2000, what: 'the second dump' });
    peer.dump(held[1], [nla(1, [2]), nla(1, [3])]);
    await waitFor(() => held.length === 3, { timeoutMs: 2000, what: 'the third dump' });
    expect(held[2].attrs.length).toBeGreaterThan(0);
    peer.dump(held[2], [nla(1, [4])]);
    expect((await a).map((p) => p[4])).toEqual([1]);
    const [rb, rc, rd] = await Promise.all([b, c, d]);
    for (const r of [rb, rc, rd]) expect(r.map((p) => p[4])).toEqual([2, 3]);
    // Each caller gets its own array.
    expect(rb).not.toBe(rc);
    expect((await e).map((p) => p[4])).toEqual([4]);
    expect(peer.familyRequests.filter((r) => r.flags & 0x300).length).toBe(3);
  });

  it('gives a dump that joined one which timed out the rest of its own time', async () => {
    const { sock, peer } = await setup();
    const held: RecordedRequest[] = [];
    peer.handler = (req) => held.push(req);
    const a = sock.request(3, new Uint8Array(0), { op: 'get-addr', dump: true });
    const b = sock.request(3, new Uint8Array(0), { op: 'get-addr', dump: true, timeoutMs: 150 });
    await new Promise((r) => setTimeout(r, 60));
    const c = sock.request(3, new Uint8Array(0), { op: 'get-addr', dump: true, timeoutMs: 150 });
    expect((await b.catch((err: unknown) => err))).toMatchObject({ name: 'TimeoutError' });
    // c joined b but its deadline is later: it is still waiting, and gets a dump of its own once a is done.
    peer.dump(held[0], [nla(1, [1])]);
    await waitFor(() => held.length === 2, { timeoutMs: 2000, what: 'the dump of the caller that joined' });
    peer.dump(held[1], [nla(1, [7])]);
    expect((await c).map((p) => p[4])).toEqual([7]);
    expect((await a).map((p) => p[4])).toEqual([1]);
  });

  it('sends an interrupted dump again, and gives up with EINTR after three interruptions', async () => {
    const { sock, peer } = await setup();
    let n = 0;
    peer.handler = (req) => peer.dump(req, [nla(1, [++n])], 2, 0, {}, n < 2 ? NLM_F_DUMP_INTR : 0);
    const parts = await sock.request(3, new Uint8Array(0), { op: 'get-addr', dump: true });
    expect(parts.map((p) => p[4])).toEqual([2]);
    expect(peer.familyRequests.length).toBe(2);
    peer.handler = (req) => peer.dump(req, [nla(1, [9])], 2, 0, {}, NLM_F_DUMP_INTR);
    const err = await sock.request(3, new Uint8Array(0), { op: 'get-addr', dump: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect((err as NetlinkError).code).toBe('EINTR');
    expect(peer.familyRequests.length).toBe(5);
  });
});

describe('batching', () => {
  it('sends requests made together in one datagram, and a lone request at once', async () => {
    const { sock, peer } = await setup();
    peer.handler = (req) => peer.reply(req, nla(7, u32le(req.attrs.readUInt32LE(4))));
    const before = peer.datagrams;
    const first = sock.request(6, nla(1, u32le(100)), { op: 'get-limits' });
    expect(peer.datagrams).toBe(before + 1); // nothing else in flight: sent synchronously
    const rest = Array.from({ length: 30 }, (_, i) => sock.request(6, nla(1, u32le(i)), { op: 'get-limits' }));
    await null;
    expect(peer.datagrams).toBe(before + 2); // the other 30 in one datagram
    const out = await Promise.all([first, ...rest]);
    expect(out.map(([b]) => b.readUInt32LE(4))).toEqual([100, ...Array.from({ length: 30 }, (_, i) => i)]);
  });

  it('sends worker-thread requests made together in one datagram on the worker, in order', async () => {
    const { sock, peer } = await setup();
    peer.handler = (req) => peer.reply(req, nla(7, u32le(req.attrs.readUInt32LE(4))));
    const before = peer.datagrams;
    const all = Array.from({ length: 20 }, (_, i) => sock.request(6, nla(1, u32le(i)), { op: 'get-limits', offThread: true }));
    const out = await Promise.all(all);
    expect(out.map(([b]) => b.readUInt32LE(4))).toEqual(Array.from({ length: 20 }, (_, i) => i));
    // The first leaves alone; the 19 made while it was on the worker follow in one datagram.
    expect(peer.datagrams - before).toBe(2);
    const sent = peer.familyRequests.slice(-20);
    expect(sent.every((r) => r.offThread)).toBe(true);
    expect(sent.map((r) => r.attrs.readUInt32LE(4))).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('never puts two dumps in one datagram', async () => {
    const { sock, peer } = await setup();
    peer.handler = (req) => (req.flags & 0x300 ? peer.dump(req, [nla(1, [req.seq & 0xff])]) : peer.reply(req, nla(7, u32le(0))));
    const first = sock.request(6, new Uint8Array(0), { op: 'get-limits' });
    const d1 = sock.request(3, new Uint8Array(0), { op: 'get-addr', dump: true });
    // Different attributes: two dumps (identical ones waiting together would share one, see below).
    const d2 = sock.request(3, nla(1, u32le(1)), { op: 'get-addr', dump: true });
    await Promise.all([first, d1, d2]);
    const dumps = peer.familyRequests.filter((r) => r.flags & 0x300);
    expect(dumps.length).toBe(2);
    expect(peer.datagrams).toBeGreaterThanOrEqual(3);
  });
});

describe('datagrams that answer no request', () => {
  it('go to error listeners and are counted, never to process warnings', async () => {
    const { sock, peer } = await setup();
    const warnings: unknown[] = [];
    const onWarning = (w: unknown): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      peer.deliver(FakeGenl.message(2, 0x100, 4242, 0, [...u32le(-22 >>> 0), ...new Array<number>(16).fill(0)]));
      await waitFor(() => sock.socket.unclaimedErrors === 1, { timeoutMs: 2000, what: 'the stray error to be counted' });
      const seen: Error[] = [];
      sock.onError((e) => seen.push(e));
      peer.deliver([1, 2, 3]);
      await waitFor(() => seen.length === 1, { timeoutMs: 2000, what: 'the malformed datagram to be reported' });
      await new Promise((r) => setImmediate(r));
      expect(warnings).toEqual([]);
      expect(sock.socket.unclaimedErrors).toBe(2);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
