// Framing layer tests: byte-exact nlmsghdr encoding (with a genl fixed header), and parsing of data messages,
// NLMSG_ERROR with extended ACK (capped and uncapped), NLMSG_DONE and malformed datagrams.

import { describe, expect, it } from 'vitest';
import { DecodeError } from '../src/netlink/core/errors.js';
import { encodeMessage, parseMessages, NlmF, type ErrorMessage, type DoneMessage, type DataMessage } from '../src/netlink/core/message.js';
import { cat, cstr, hex, nla, toHex, u16le, u32le } from './helpers/bytes.js';

function msg(type: number, flags: number, seq: number, pid: number, payload: Uint8Array | number[]): Uint8Array {
  const len = 16 + payload.length;
  return cat(u32le(len), u16le(type), u16le(flags), u32le(seq), u32le(pid), payload, new Array((4 - (len % 4)) % 4).fill(0));
}

describe('encodeMessage', () => {
  it('writes the protocol document example byte for byte', () => {
    const attrs = hex(`2c 00 01 80  06 00 01 00 02 00 00 00  05 00 02 00 05 00 00 00
      08 00 03 00 0a 00 00 01  06 00 05 00 00 00 00 00  08 00 06 00 03 00 00 00`);
    const out = encodeMessage({ type: 0x1c, flags: NlmF.REQUEST | NlmF.ACK, seq: 7, pid: 0 }, new Uint8Array([1, 1, 0, 0]), attrs);
    expect(toHex(out.subarray(0, 20))).toBe('40 00 00 00 1c 00 05 00 07 00 00 00 00 00 00 00 01 01 00 00');
    expect(toHex(out.subarray(20))).toBe(toHex(attrs));
  });

  it('encodes a dump request with no attributes and large field values', () => {
    const out = encodeMessage({ type: 0xffff, flags: NlmF.REQUEST | NlmF.ACK | NlmF.DUMP, seq: 0xfffffffe, pid: 0x01020304 }, new Uint8Array([3, 2, 0, 0]), new Uint8Array(0));
    expect(toHex(out)).toBe('14 00 00 00 ff ff 05 03 fe ff ff ff 04 03 02 01 03 02 00 00');
  });

  it('has the flag values of linux/netlink.h', () => {
    expect(NlmF).toMatchObject({ REQUEST: 1, MULTI: 2, ACK: 4, ECHO: 8, DUMP: 0x300, ROOT: 0x100, MATCH: 0x200, CAPPED: 0x100, ACK_TLVS: 0x200 });
  });
});

describe('parseMessages', () => {
  it('round-trips an encoded header', () => {
    const out = encodeMessage({ type: 28, flags: 5, seq: 9, pid: 77 }, new Uint8Array([6, 1, 0, 0]), nla(2, u32le(3)));
    const [m] = parseMessages(out) as DataMessage[];
    expect(m).toMatchObject({ kind: 'data', header: { length: 28, type: 28, flags: 5, seq: 9, pid: 77 } });
    expect(toHex(m.payload)).toBe('06 01 00 00 08 00 02 00 03 00 00 00');
  });

  it('splits several messages of one datagram (reply + ACK), honouring padding', () => {
    const data = msg(28, 0, 4, 99, cat([3, 1, 0, 0], nla(1, [7]))); // 16 + 4 + 8
    const ack = msg(2, NlmF.CAPPED, 4, 99, cat(u32le(0), msg(28, 5, 4, 0, []).subarray(0, 16)));
    const ms = parseMessages(Buffer.from(cat(data, ack)));
    expect(ms.map((m) => m.kind)).toEqual(['data', 'error']);
    expect((ms[0] as DataMessage).payload.length).toBe(12);
    expect((ms[1] as ErrorMessage).errno).toBe(0);
    expect((ms[1] as ErrorMessage).request).toMatchObject({ length: 16, type: 28, flags: 5, seq: 4 });
  });

  it('parses a capped error with message, offset and cookie (ACK_TLVS)', () => {
    const req = msg(28, 5, 12, 0, [1, 1, 0, 0]).subarray(0, 16);
    const tlvs = cat(nla(1, cstr('address not found')), nla(2, u32le(20)), nla(3, [1, 2, 3, 4]));
    const [e] = parseMessages(Buffer.from(msg(2, NlmF.CAPPED | NlmF.ACK_TLVS, 12, 99, cat(u32le(-22 >>> 0), req, tlvs)))) as ErrorMessage[];
    expect(e.errno).toBe(22);
    expect(e.extack).toEqual({ message: 'address not found', offset: 20 });
    expect(toHex(e.cookie!)).toBe('01 02 03 04');
    expect(e.requestPayload).toBeUndefined();
  });

  it('parses MISS_TYPE and MISS_NEST', () => {
    const req = msg(28, 5, 1, 0, []).subarray(0, 16);
    const [e] = parseMessages(Buffer.from(msg(2, NlmF.CAPPED | NlmF.ACK_TLVS, 1, 0, cat(u32le(-22 >>> 0), req, nla(5, u32le(4)), nla(6, u32le(20)))))) as ErrorMessage[];
    expect(e.extack).toEqual({ missingType: 4, missingNest: 20 });
  });

  it('skips the echoed request of an uncapped error to find the TLVs', () => {
    const request = msg(28, 5, 3, 0, cat([2, 1, 0, 0], nla(1, [9, 9, 9]))); // 28 bytes, last attr padded
    const payload = cat(u32le(-17 >>> 0), request, nla(1, cstr('dup')));
    const [e] = parseMessages(Buffer.from(msg(2, NlmF.ACK_TLVS, 3, 0, payload))) as ErrorMessage[];
    expect(e.errno).toBe(17);
    expect(e.extack.message).toBe('dup');
    expect(e.requestPayload!.length).toBe(request.length - 16);
  });

  it('ignores TLV bytes when ACK_TLVS is clear', () => {
    const req = msg(28, 5, 1, 0, []).subarray(0, 16);
    const [e] = parseMessages(Buffer.from(msg(2, NlmF.CAPPED, 1, 0, cat(u32le(-1 >>> 0), req)))) as ErrorMessage[];
    expect(e).toMatchObject({ errno: 1, extack: {} });
  });

  it('parses NLMSG_DONE with and without an error int, and with extack', () => {
    const [d0] = parseMessages(Buffer.from(msg(3, NlmF.MULTI, 5, 0, []))) as DoneMessage[];
    expect(d0).toMatchObject({ kind: 'done', errno: 0 });
    const [d1] = parseMessages(Buffer.from(msg(3, NlmF.MULTI, 5, 0, u32le(0)))) as DoneMessage[];
    expect(d1.errno).toBe(0);
    const [d2] = parseMessages(Buffer.from(msg(3, NlmF.MULTI | NlmF.ACK_TLVS, 5, 0, cat(u32le(-22 >>> 0), nla(1, cstr('invalid token')))))) as DoneMessage[];
    expect(d2).toMatchObject({ errno: 22, extack: { message: 'invalid token' } });
  });

  it('keeps control messages (NOOP) as control', () => {
    const [m] = parseMessages(Buffer.from(msg(1, 0, 0, 0, [])));
    expect(m.kind).toBe('control');
  });

  const bad: [string, Uint8Array][] = [
    ['short header', Uint8Array.from([20, 0, 0, 0, 28, 0])],
    ['length below 16', cat(u32le(8), u16le(28), u16le(0), u32le(0), u32le(0))],
    ['length past the end', cat(u32le(64), u16le(28), u16le(0), u32le(0), u32le(0), [1, 1, 0, 0])],
    ['short NLMSG_ERROR', msg(2, 0, 0, 0, u32le(0))],
    ['echoed request longer than the error', msg(2, 0, 1, 0, cat(u32le(-22 >>> 0), u32le(200), u16le(28), u16le(5), u32le(1), u32le(0)))],
    ['DONE with 2 payload bytes', msg(3, 2, 0, 0, [0, 0]).subarray(0, 18)],
    ['bad extack TLV length', msg(2, NlmF.CAPPED | NlmF.ACK_TLVS, 1, 0, cat(u32le(0), msg(28, 5, 1, 0, []).subarray(0, 16), [40, 0, 1, 0]))],
    ['string TLV without NUL', msg(2, NlmF.CAPPED | NlmF.ACK_TLVS, 1, 0, cat(u32le(0), msg(28, 5, 1, 0, []).subarray(0, 16), nla(1, [65, 66])))],
  ];
  for (const [name, bytes] of bad) {
    it(`rejects a malformed datagram: ${name}`, () => {
      expect(() => parseMessages(Buffer.from(bytes))).toThrow(DecodeError);
    });
  }

  it('accepts trailing zero padding shorter than a header', () => {
    expect(parseMessages(Buffer.from(cat(msg(1, 0, 0, 0, []), [0, 0, 0, 0])))).toHaveLength(1);
  });
});
