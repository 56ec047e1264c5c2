// rtnetlink replies that cannot be decoded (short headers, addresses of odd lengths, random bytes)
// reject the request with DecodeError, as genl and sock_diag replies do: no plain Error or RangeError
// from the codec reaches the caller. A fake peer answers every request with the bytes under test.

import { describe, expect, it } from 'vitest';
import { DecodeError } from '../src/netlink/core/errors.js';
import { ScriptedPeer, type ScriptedRequest } from './helpers/scripted-peer.js';
import { listAddresses, listLinks, listRoutes, listRules, lookupRoute } from '../src/netlink/route/ops.js';
import { RouteSocket } from '../src/netlink/route/socket.js';

const NLM_F_MULTI = 2;
const NLMSG_DONE = 3;
const NLMSG_ERROR = 2;
const NLM_F_CAPPED = 0x100;
const NLM_F_DUMP = 0x300;

function message(type: number, flags: number, seq: number, payload: Uint8Array, pid = 0x4343): Buffer {
  const len = 16 + payload.length;
  const b = Buffer.alloc((len + 3) & ~3);
  b.writeUInt32LE(len, 0);
  b.writeUInt16LE(type, 4);
  b.writeUInt16LE(flags, 6);
  b.writeUInt32LE(seq, 8);
  b.writeUInt32LE(pid, 12);
  Buffer.from(payload).copy(b, 16);
  return b;
}

/** Answers each request with one reply of the matching RTM_NEW* type carrying `next()` (then DONE for a dump). */
class BytesPeer extends ScriptedPeer {
  readonly portId = 0x4343;
  constructor(private readonly next: () => Uint8Array) {
    super();
  }
  protected answer(req: ScriptedRequest): Buffer[] {
    const reply = req.type % 4 === 2 ? req.type - 2 : req.type;
    if ((req.flags & NLM_F_DUMP) === NLM_F_DUMP) {
      return [message(reply, NLM_F_MULTI, req.seq, this.next()), message(NLMSG_DONE, NLM_F_MULTI, req.seq, new Uint8Array(4))];
    }
    // A reply, then the ACK the request asked for (errno 0 and the request's header).
    const ack = Buffer.alloc(20);
    req.header.copy(ack, 4);
    return [message(reply, 0, req.seq, this.next()), message(NLMSG_ERROR, NLM_F_CAPPED, req.seq, ack)];
  }
}

/** A small deterministic generator, so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s;
  };
}

const CALLS = [
  (s: RouteSocket) => listLinks(s),
  (s: RouteSocket) => listAddresses(s),
  (s: RouteSocket) => listRoutes(s, 'inet'),
  (s: RouteSocket) => listRules(s, 'inet6'),
  (s: RouteSocket) => lookupRoute(s, { dst: '192.0.2.1' }),
];

async function outcome(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return e;
  }
}

describe('rtnetlink replies that cannot be decoded', () => {
  it('a route message of 3 bytes and a 5-byte address: DecodeError naming the request', async () => {
    const rtmsg = Buffer.from('02200000fe030001' + '00000000', 'hex'); // inet, dst/32, table main, unicast
    const dst5 = Buffer.concat([rtmsg, Buffer.from('09000100c000020105000000', 'hex')]); // RTA_DST of 5 bytes
    for (const bytes of [Buffer.from([2, 0, 0]), dst5]) {
      const sock = RouteSocket.open({ transport: new BytesPeer(() => bytes), timeoutMs: 1000 });
      try {
        for (const call of [listRoutes(sock, 'inet'), lookupRoute(sock, { dst: '192.0.2.1' })]) {
          const e = await outcome(call);
          expect(e).toBeInstanceOf(DecodeError);
          expect((e as Error).message).toMatch(/^rtnetlink getroute reply: /);
        }
      } finally {
        sock.close();
      }
    }
  });

  it('20,000 random replies to every kind of request: each resolves or rejects with DecodeError', async () => {
    const rand = prng(0x5eed);
    const next = (): Uint8Array => {
      const len = rand() % 64;
      const b = new Uint8Array(len);
      for (let i = 0; i < len; i++) b[i] = rand() & 0xff;
      // Half the time a plausible header with random attributes behind it, to reach the attribute decoders.
      if (len >= 12 && rand() % 2 === 0) b[0] = rand() % 2 ? 2 : 10;
      return b;
    };
    const sock = RouteSocket.open({ transport: new BytesPeer(next), timeoutMs: 1000 });
    const foreign: unknown[] = [];
    let decodeErrors = 0;
    try {
      for (let round = 0; round < 4000; round++) {
        const results = await Promise.all(CALLS.map((call) => outcome(call(sock))));
        for (const e of results) {
          if (e instanceof DecodeError) decodeErrors++;
          else if (e !== undefined) foreign.push(e);
        }
      }
    } finally {
      sock.close();
    }
    expect(foreign.slice(0, 3).map(String)).toEqual([]);
    expect(decodeErrors).toBeGreaterThan(1000);
  }, 60_000);
});
