// Table-driven codec (src/netlink/core/codec.ts) against an inline family shaped like mptcp_pm: tables of
// { name, value, bytes } checked both ways, malformed input, unknown attributes, encoder refusals.
import { describe, expect, it } from 'vitest';
import { AttrWriter } from '../src/netlink/core/attr.js';
import { decodeAttrs, encodeAttrs } from '../src/netlink/core/codec.js';
import type { AttrDesc, AttrSetDesc, FamilyDesc } from '../src/netlink/core/spec-types.js';
import { DecodeError, ValidationError } from '../src/netlink/core/errors.js';
import {
  be16, be32, cat, cstr, hex, ipv4, nest, nla, s16be, s32le, s64le, s8, toHex,
  u16le, u32le, u64le, u8,
} from './helpers/bytes.js';

const set = (name: string, attrs: AttrDesc[]): AttrSetDesc => ({ name, attrs });

const address = set('address', [
  { name: 'unspec', field: 'unspec', type: 0, kind: 'unused' },
  { name: 'family', field: 'family', type: 1, kind: 'u16' },
  { name: 'id', field: 'id', type: 2, kind: 'u8' },
  { name: 'addr4', field: 'addr4', type: 3, kind: 'u32', byteOrder: 'big-endian' },
  { name: 'addr6', field: 'addr6', type: 4, kind: 'binary', exactLen: 16 },
  { name: 'port', field: 'port', type: 5, kind: 'u16' },
  { name: 'flags', field: 'flags', type: 6, kind: 'u32' },
  { name: 'if-idx', field: 'ifIdx', type: 7, kind: 's32' },
]);

const attr = set('attr', [
  { name: 'unspec', field: 'unspec', type: 0, kind: 'unused' },
  { name: 'addr', field: 'addr', type: 1, kind: 'nest', nested: 'address' },
  { name: 'rcv-add-addrs', field: 'rcvAddAddrs', type: 2, kind: 'u32' },
  { name: 'subflows', field: 'subflows', type: 3, kind: 'u32' },
  { name: 'token', field: 'token', type: 4, kind: 'u32' },
  { name: 'loc-id', field: 'locId', type: 5, kind: 'u8' },
  { name: 'addr-remote', field: 'addrRemote', type: 6, kind: 'nest', nested: 'address' },
]);

const endpoint = set('endpoint', [{ name: 'addr', field: 'addr', type: 1, kind: 'nest', nested: 'address' }]);

const eventAttr = set('event-attr', [
  { name: 'unspec', field: 'unspec', type: 0, kind: 'unused' },
  { name: 'token', field: 'token', type: 1, kind: 'u32' },
  { name: 'family', field: 'family', type: 2, kind: 'u16' },
  { name: 'loc-id', field: 'locId', type: 3, kind: 'u8' },
  { name: 'rem-id', field: 'remId', type: 4, kind: 'u8' },
  { name: 'saddr4', field: 'saddr4', type: 5, kind: 'u32', byteOrder: 'big-endian' },
  { name: 'saddr6', field: 'saddr6', type: 6, kind: 'binary', minLen: 16 },
  { name: 'daddr4', field: 'daddr4', type: 7, kind: 'u32', byteOrder: 'big-endian' },
  { name: 'daddr6', field: 'daddr6', type: 8, kind: 'binary', minLen: 16 },
  { name: 'sport', field: 'sport', type: 9, kind: 'u16', byteOrder: 'big-endian' },
  { name: 'dport', field: 'dport', type: 10, kind: 'u16', byteOrder: 'big-endian' },
  { name: 'backup', field: 'backup', type: 11, kind: 'u8' },
  { name: 'error', field: 'error', type: 12, kind: 'u8' },
  { name: 'flags', field: 'flags', type: 13, kind: 'u16' },
  { name: 'timeout', field: 'timeout', type: 14, kind: 'u32' },
  { name: 'if-idx', field: 'ifIdx', type: 15, kind: 's32' },
  { name: 'reset-reason', field: 'resetReason', type: 16, kind: 'u32' },
  { name: 'reset-flags', field: 'resetFlags', type: 17, kind: 'u32' },
  { name: 'server-side', field: 'serverSide', type: 18, kind: 'u8' },
]);

/** Kinds mptcp_pm does not use, so the codec is exercised on all of them. */
const misc = set('misc', [
  { name: 'big', field: 'big', type: 1, kind: 'u64' },
  { name: 'neg', field: 'neg', type: 2, kind: 's64' },
  { name: 'tiny', field: 'tiny', type: 3, kind: 's8' },
  { name: 'word', field: 'word', type: 4, kind: 's16', byteOrder: 'big-endian' },
  { name: 'ifname', field: 'ifname', type: 5, kind: 'string', maxLen: 15 },
  { name: 'on', field: 'on', type: 6, kind: 'flag' },
  { name: 'pad', field: 'pad', type: 7, kind: 'pad' },
  { name: 'blob', field: 'blob', type: 8, kind: 'binary', minLen: 2, maxLen: 6 },
  { name: 'sub', field: 'sub', type: 9, kind: 'nest', nested: 'misc' },
]);

const family: FamilyDesc = {
  name: 'mptcp_pm',
  version: 1,
  attributeSets: { address, attr, endpoint, 'event-attr': eventAttr, misc },
  enums: {},
  operations: [],
  events: [],
  mcastGroups: ['mptcp_pm_events'],
};

const v6 = hex('20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01'); // 2001:db8::1

/** Doc §9, attribute bytes of ADD_ADDR 10.0.0.1 id 5 flags signal|subflow (after the genl header). */
const addAddrFixture = hex(`
  2c 00 01 80
    06 00 01 00 02 00 00 00
    05 00 02 00 05 00 00 00
    08 00 03 00 0a 00 00 01
    06 00 05 00 00 00 00 00
    08 00 06 00 03 00 00 00`);

interface Case {
  name: string;
  set: string;
  value: Record<string, unknown>;
  bytes: Uint8Array;
}

const cases: Case[] = [
  { name: 'empty object ↔ no bytes', set: 'attr', value: {}, bytes: new Uint8Array(0) },
  {
    name: 'doc §9 ADD_ADDR 10.0.0.1 id 5 flags 0x3 (fixture)',
    set: 'endpoint',
    value: { addr: { family: 2, id: 5, addr4: 0x0a000001, port: 0, flags: 3 } },
    bytes: addAddrFixture,
  },
  {
    name: 'same message from the byte builder',
    set: 'endpoint',
    value: { addr: { family: 2, id: 5, addr4: 0x0a000001, port: 0, flags: 3 } },
    bytes: nest(1, nla(1, u16le(2)), nla(2, u8(5)), nla(3, ipv4('10.0.0.1')), nla(5, u16le(0)), nla(6, u32le(3))),
  },
  {
    name: 'IPv6 endpoint, port in host order, if-idx, id 255',
    set: 'address',
    value: { family: 10, id: 255, addr6: v6, port: 8080, flags: 0x5, ifIdx: 3 },
    bytes: cat(nla(1, u16le(10)), nla(2, u8(255)), nla(4, v6), nla(5, [0x90, 0x1f]), nla(6, u32le(5)), nla(7, s32le(3))),
  },
  {
    name: 'negative if-idx and flag bits the table does not name',
    set: 'address',
    value: { flags: 0x80000003, ifIdx: -1 },
    bytes: cat(nla(6, [0x03, 0, 0, 0x80]), nla(7, [0xff, 0xff, 0xff, 0xff])),
  },
  {
    name: 'limits',
    set: 'attr',
    value: { rcvAddAddrs: 8, subflows: 4 },
    bytes: cat(nla(2, u32le(8)), nla(3, u32le(4))),
  },
  {
    name: 'userspace subflow create: token, local and remote address nests',
    set: 'attr',
    value: {
      addr: { family: 2, id: 1, addr4: 0xc0000201 },
      token: 0xdeadbeef,
      addrRemote: { family: 2, addr4: 0xc0000202, port: 443 },
    },
    bytes: cat(
      nest(1, nla(1, u16le(2)), nla(2, u8(1)), nla(3, ipv4('192.0.2.1'))),
      nla(4, u32le(0xdeadbeef)),
      nest(6, nla(1, u16le(2)), nla(3, ipv4('192.0.2.2')), nla(5, u16le(443))),
    ),
  },
  {
    name: 'SUB_ESTABLISHED-like event, ports big-endian (5000 → 13 88)',
    set: 'event-attr',
    value: {
      token: 0x12345678, family: 2, locId: 0, remId: 2,
      saddr4: 0x0a000001, daddr4: 0x0a000102, sport: 5000, dport: 443, backup: 0, ifIdx: 4,
    },
    bytes: cat(
      nla(1, u32le(0x12345678)), nla(2, u16le(2)), nla(3, u8(0)), nla(4, u8(2)),
      nla(5, ipv4('10.0.0.1')), nla(7, ipv4('10.0.1.2')),
      nla(9, hex('13 88')), nla(10, be16(443)), nla(11, u8(0)), nla(15, s32le(4)),
    ),
  },
  {
    name: 'event with IPv6 addresses, reset reason and flags',
    set: 'event-attr',
    value: { saddr6: v6, daddr6: v6, flags: 0x2, resetReason: 1, resetFlags: 1, serverSide: 1 },
    bytes: cat(nla(6, v6), nla(8, v6), nla(13, [2, 0]), nla(16, u32le(1)), nla(17, u32le(1)), nla(18, u8(1))),
  },
  {
    name: 'u64, s64, s8, big-endian s16, string, flag, binary',
    set: 'misc',
    value: { big: 0x0102030405060708n, neg: -2n, tiny: -128, word: -2, ifname: 'eth0', on: true, blob: Uint8Array.of(1, 2, 3) },
    bytes: cat(
      nla(1, u64le(0x0102030405060708n)), nla(2, s64le(-2n)), nla(3, s8(-128)), nla(4, s16be(-2)),
      nla(5, cstr('eth0')), nla(6), nla(8, [1, 2, 3]),
    ),
  },
  {
    name: 'u64 extremes and a nest of the same set',
    set: 'misc',
    value: { big: 2n ** 64n - 1n, sub: { neg: -(2n ** 63n), sub: {} } },
    bytes: cat(nla(1, u64le(2n ** 64n - 1n)), nest(9, nla(2, s64le(-(2n ** 63n))), nest(9))),
  },
];

function thrown<E extends Error>(cls: new (...a: never[]) => E, fn: () => unknown): E {
  try {
    fn();
  } catch (e) {
    if (e instanceof cls) return e;
    throw e;
  }
  throw new Error(`no ${cls.name} thrown`);
}

describe('codec tables', () => {
  it.each(cases)('encode: $name', ({ set: s, value, bytes }) => {
    expect(toHex(encodeAttrs(family, s, value).finish())).toBe(toHex(bytes));
  });

  it.each(cases)('decode: $name', ({ set: s, value, bytes }) => {
    expect(decodeAttrs(family, s, bytes)).toEqual(value);
  });

  it('writes in ascending type order whatever the key order', () => {
    const a = encodeAttrs(family, 'address', { ifIdx: 2, port: 1, family: 2 }).finish();
    expect(toHex(a)).toBe(toHex(cat(nla(1, u16le(2)), nla(5, u16le(1)), nla(7, s32le(2)))));
  });

  it('decodes attributes in any wire order', () => {
    const buf = cat(nla(10, be16(80)), nla(1, u32le(7)), nla(9, be16(5000)));
    expect(decodeAttrs(family, 'event-attr', buf)).toEqual({ dport: 80, token: 7, sport: 5000 });
  });

  it('skips undefined fields and writes a false flag as nothing', () => {
    expect(encodeAttrs(family, 'misc', { on: false, big: undefined }).length).toBe(0);
    expect(decodeAttrs(family, 'misc', new Uint8Array(0))).toEqual({});
  });

  it('appends to a writer it is given', () => {
    const w = new AttrWriter().u8(99, 1);
    expect(encodeAttrs(family, 'attr', { subflows: 2 }, w)).toBe(w);
    expect(toHex(w.finish())).toBe(toHex(cat(nla(99, u8(1)), nla(3, u32le(2)))));
  });

  it('skips pad and unused attributes', () => {
    const buf = cat(nla(7, [0, 0, 0, 0]), nla(3, s8(1)), nla(7, []));
    expect(decodeAttrs(family, 'misc', buf)).toEqual({ tiny: 1 });
    expect(decodeAttrs(family, 'attr', cat(nla(0), nla(3, u32le(1))))).toEqual({ subflows: 1 });
  });

  it('last duplicate wins', () => {
    const buf = cat(nla(9, be16(1)), nla(10, be16(80)), nla(9, be16(2)));
    expect(decodeAttrs(family, 'event-attr', buf)).toEqual({ sport: 2, dport: 80 });
    expect(decodeAttrs(family, 'attr', cat(nest(1, nla(2, u8(3))), nest(1, nla(2, u8(4)))))).toEqual({ addr: { id: 4 } });
  });

  it('accepts a Uint8Array view with an offset, and nests without NLA_F_NESTED', () => {
    const inner = cat([0xff, 0xff], nla(1, [5, 0, 2, 0, 7, 0, 0, 0]));
    expect(decodeAttrs(family, 'attr', inner.subarray(2))).toEqual({ addr: { id: 7 } });
  });
});

describe('binary views', () => {
  it('with views, a binary (also in a nest) shares the source bytes; without, it is a copy', () => {
    const src = cat(nla(8, [1, 2, 3]), nest(9, nla(8, [4, 5])));
    const viewed = decodeAttrs<{ blob: Uint8Array; sub: { blob: Uint8Array } }>(family, 'misc', src, 'misc', { views: true });
    const copied = decodeAttrs<{ blob: Uint8Array; sub: { blob: Uint8Array } }>(family, 'misc', src);
    expect([...viewed.blob, ...viewed.sub.blob]).toEqual([1, 2, 3, 4, 5]);
    src[4] = 9;
    src[src.length - 4] = 8;
    expect([viewed.blob[0], viewed.sub.blob[0]]).toEqual([9, 8]);
    expect([copied.blob[0], copied.sub.blob[0]]).toEqual([1, 4]);
  });
});

describe('unknown attributes', () => {
  const extra = cat(nla(1, u32le(9)), nla(19, u32le(0xabcdef01)), nla(40, [1, 2, 3]), nla(19, []));

  it('are kept in wire order with their bytes, and re-emitted', () => {
    const v = decodeAttrs<Record<string, unknown>>(family, 'event-attr', extra);
    expect(v).toEqual({
      token: 9,
      unknown: [
        { type: 19, data: Uint8Array.of(0x01, 0xef, 0xcd, 0xab) },
        { type: 40, data: Uint8Array.of(1, 2, 3) },
        { type: 19, data: new Uint8Array(0) },
      ],
    });
    expect(toHex(encodeAttrs(family, 'event-attr', v).finish())).toBe(toHex(extra));
  });

  it('lose their NESTED bit in `type` but keep their payload; a caller may set the bit back', () => {
    const buf = nest(30, nla(1, u8(1)));
    const v = decodeAttrs<{ unknown: { type: number; data: Uint8Array }[] }>(family, 'misc', buf);
    expect(v.unknown).toEqual([{ type: 30, data: nla(1, u8(1)) }]);
    expect(toHex(encodeAttrs(family, 'misc', { unknown: [{ type: 30 | 0x8000, data: v.unknown[0].data }] }).finish()))
      .toBe(toHex(buf));
  });

  it('inside a nest stay in the nested object', () => {
    const buf = nest(1, nla(2, u8(5)), nla(12, u16le(7)));
    const v = decodeAttrs(family, 'attr', buf);
    expect(v).toEqual({ addr: { id: 5, unknown: [{ type: 12, data: Uint8Array.of(7, 0) }] } });
    expect(toHex(encodeAttrs(family, 'attr', v).finish())).toBe(toHex(buf));
  });

  it('are copies, not views of the input buffer', () => {
    const buf = cat(nla(40, [1, 2, 3]), nla(6, v6));
    const v = decodeAttrs<{ unknown: { data: Uint8Array }[]; saddr6: Uint8Array }>(family, 'event-attr', buf);
    buf.fill(0xee);
    expect(Array.from(v.unknown[0].data)).toEqual([1, 2, 3]);
    expect(v.saddr6).toEqual(v6);
    expect(v.saddr6.buffer).not.toBe(buf.buffer);
  });
});

describe('malformed input', () => {
  it.each([
    { name: 'u16 of 4 bytes', set: 'event-attr', bytes: nla(9, be32(5000)), path: 'event-attr.sport', msg: 'expected 2 bytes, got 4' },
    { name: 'u8 of 2 bytes', set: 'event-attr', bytes: nla(3, [1, 0]), path: 'event-attr.loc-id', msg: 'expected 1 bytes, got 2' },
    { name: 'u32 of 0 bytes', set: 'attr', bytes: nla(4), path: 'attr.token', msg: 'expected 4 bytes, got 0' },
    { name: 'u64 of 4 bytes', set: 'misc', bytes: nla(1, u32le(1)), path: 'misc.big', msg: 'expected 8 bytes, got 4' },
    { name: 'flag with a payload', set: 'misc', bytes: nla(6, u8(1)), path: 'misc.on', msg: 'expected 0 bytes, got 1' },
    { name: 'scalar inside a nest', set: 'attr', bytes: nest(1, nla(1, u8(2))), path: 'attr.addr.family', msg: 'expected 2 bytes, got 1' },
    { name: 'scalar two nests deep', set: 'misc', bytes: nest(9, nest(9, nla(3, [1, 2]))), path: 'misc.sub.sub.tiny', msg: 'expected 1 bytes, got 2' },
    { name: 'addr6 of 4 bytes', set: 'address', bytes: nla(4, ipv4('10.0.0.1')), path: 'address.addr6', msg: 'expected 16 bytes, got 4' },
    { name: 'addr6 of 17 bytes', set: 'address', bytes: nla(4, [...v6, 0]), path: 'address.addr6', msg: 'expected 16 bytes, got 17' },
    { name: 'saddr6 below min-len', set: 'event-attr', bytes: nla(6, v6.subarray(0, 8)), path: 'event-attr.saddr6', msg: 'expected at least 16 bytes, got 8' },
    { name: 'binary above max-len', set: 'misc', bytes: nla(8, [1, 2, 3, 4, 5, 6, 7]), path: 'misc.blob', msg: 'expected at most 6 bytes, got 7' },
    { name: 'string without NUL', set: 'misc', bytes: nla(5, [0x65, 0x74, 0x68]), path: 'misc.ifname', msg: 'string is not NUL-terminated' },
    { name: 'string above max-len', set: 'misc', bytes: nla(5, cstr('a-very-long-ifname')), path: 'misc.ifname', msg: 'expected at most 15 bytes, got 18' },
    { name: 'garbage nest', set: 'attr', bytes: nla(1 | 0x8000, [0xde, 0xad, 0xbe, 0xef, 0x01]), path: 'attr.addr', msg: 'attribute type 12222 at offset 0 has length 44510, only 5 bytes left' },
    { name: 'nest with a 2-byte tail', set: 'attr', bytes: nest(1, nla(2, u8(1)), [0x01, 0x02]), path: 'attr.addr', msg: 'truncated attribute header at offset 8 (2 bytes left)' },
    { name: 'nest child with length 2', set: 'attr', bytes: nest(1, [2, 0, 1, 0]), path: 'attr.addr', msg: 'attribute at offset 0 has length 2 < 4' },
    { name: 'length past the buffer', set: 'attr', bytes: hex('10 00 02 00 01 00 00 00'), path: 'attr', msg: 'attribute type 2 at offset 0 has length 16, only 8 bytes left' },
    { name: 'short header', set: 'attr', bytes: hex('08 00 03'), path: 'attr', msg: 'truncated attribute header at offset 0 (3 bytes left)' },
    { name: 'length 0', set: 'attr', bytes: hex('00 00 03 00'), path: 'attr', msg: 'attribute at offset 0 has length 0 < 4' },
  ])('$name', ({ set: s, bytes, path, msg }) => {
    const e = thrown(DecodeError, () => decodeAttrs(family, s, bytes));
    expect(e.path).toBe(path);
    expect(e.message).toBe(`${path}: ${msg}`);
  });

  it('prefixes errors with the path it is given', () => {
    const e = thrown(DecodeError, () => decodeAttrs(family, 'address', nla(1, u8(2)), 'reply.addr'));
    expect(e.message).toBe('reply.addr.family: expected 2 bytes, got 1');
  });

  it('tolerates trailing zero bytes and an unpadded last attribute', () => {
    expect(decodeAttrs(family, 'attr', cat(nla(5, u8(3)), [0, 0]))).toEqual({ locId: 3 });
    expect(decodeAttrs(family, 'attr', nla(5, u8(3)).subarray(0, 5))).toEqual({ locId: 3 });
  });
});

describe('encoder refusals', () => {
  it.each([
    { name: 'id 300', set: 'attr', value: { addr: { id: 300 } }, path: 'attr.addr.id', msg: /integer in 0\.\.255, got 300/ },
    { name: 'id -1', set: 'address', value: { id: -1 }, path: 'address.id', msg: /0\.\.255/ },
    { name: 'port 65536', set: 'address', value: { port: 65536 }, path: 'address.port', msg: /0\.\.65535/ },
    { name: 'fractional u32', set: 'attr', value: { subflows: 1.5 }, path: 'attr.subflows', msg: /integer in 0\.\.4294967295, got 1\.5/ },
    { name: 'u32 as a string', set: 'attr', value: { token: '5' }, path: 'attr.token', msg: /got "5"/ },
    { name: 's32 too small', set: 'address', value: { ifIdx: -(2 ** 31) - 1 }, path: 'address.if-idx', msg: /-2147483648\.\.2147483647/ },
    { name: 's8 too big', set: 'misc', value: { tiny: 128 }, path: 'misc.tiny', msg: /-128\.\.127/ },
    { name: 'u64 as a number', set: 'misc', value: { big: 5 }, path: 'misc.big', msg: /bigint in 0\.\.18446744073709551615, got 5/ },
    { name: 'u64 overflow', set: 'misc', value: { big: 2n ** 64n }, path: 'misc.big', msg: /got 18446744073709551616n/ },
    { name: 's64 underflow', set: 'misc', value: { neg: -(2n ** 63n) - 1n }, path: 'misc.neg', msg: /bigint in -9223372036854775808\.\./ },
    { name: 'flag not boolean', set: 'misc', value: { on: 1 }, path: 'misc.on', msg: /boolean/ },
    { name: 'addr6 of 4 bytes', set: 'attr', value: { addrRemote: { addr6: new Uint8Array(4) } }, path: 'attr.addr-remote.addr6', msg: /expected 16 bytes, got 4/ },
    { name: 'binary not bytes', set: 'address', value: { addr6: '2001:db8::1' }, path: 'address.addr6', msg: /Uint8Array/ },
    { name: 'binary below min-len', set: 'misc', value: { blob: Uint8Array.of(1) }, path: 'misc.blob', msg: /at least 2 bytes/ },
    { name: 'string too long', set: 'misc', value: { ifname: 'x'.repeat(16) }, path: 'misc.ifname', msg: /at most 15 bytes, got 16/ },
    { name: 'string with NUL', set: 'misc', value: { ifname: 'a\0b' }, path: 'misc.ifname', msg: /NUL/ },
    { name: 'nest not an object', set: 'endpoint', value: { addr: 5 }, path: 'endpoint.addr', msg: /expected an object of address attributes, got 5/ },
    { name: 'nest as an array', set: 'endpoint', value: { addr: [] }, path: 'endpoint.addr', msg: /got an array/ },
    { name: 'unknown field', set: 'address', value: { family: 2, prot: 80 }, path: 'address.prot', msg: /not an attribute of set address/ },
    { name: 'unknown field in a nest', set: 'attr', value: { addr: { if_idx: 1 } }, path: 'attr.addr.if_idx', msg: /fields: family, id, addr4, addr6, port, flags, ifIdx/ },
    { name: 'pad field', set: 'misc', value: { pad: 0 }, path: 'misc.pad', msg: /not an attribute/ },
    { name: 'unknown not an array', set: 'misc', value: { unknown: {} }, path: 'misc.unknown', msg: /array/ },
    { name: 'unknown entry without data', set: 'misc', value: { unknown: [{ type: 50 }] }, path: 'misc.unknown[0]', msg: /type, data/ },
    { name: 'unknown entry type too big', set: 'misc', value: { unknown: [{ type: 0x10000, data: new Uint8Array(0) }] }, path: 'misc.unknown[0]', msg: /0\.\.65535/ },
    { name: 'unknown entry with a known type', set: 'event-attr', value: { unknown: [{ type: 9, data: Uint8Array.from(be16(1)) }] }, path: 'event-attr.unknown[0]', msg: /type 9 is sport/ },
  ])('$name', ({ set: s, value, path, msg }) => {
    const e = thrown(ValidationError, () => encodeAttrs(family, s, value as Record<string, unknown>));
    expect(e.field).toBe(path);
    expect(e.message).toMatch(msg);
  });
});

describe('table problems are programming errors', () => {
  const fam = (sets: Record<string, AttrSetDesc>): FamilyDesc => ({ ...family, attributeSets: sets });

  it('unknown set name', () => {
    expect(() => decodeAttrs(family, 'nope', new Uint8Array(0))).toThrow(/no attribute set nope/);
    expect(() => encodeAttrs(family, 'toString', {})).toThrow(/no attribute set toString/);
  });

  it('nest naming a missing set', () => {
    const f = fam({ a: set('a', [{ name: 'n', field: 'n', type: 1, kind: 'nest', nested: 'gone' }]) });
    expect(() => decodeAttrs(f, 'a', nest(1))).toThrow(/no attribute set gone/);
  });

  it('two attributes with one type, or a field called unknown', () => {
    const dup = set('d', [
      { name: 'x', field: 'x', type: 1, kind: 'u8' },
      { name: 'y', field: 'y', type: 1, kind: 'u8' },
    ]);
    expect(() => decodeAttrs(fam({ d: dup }), 'd', new Uint8Array(0))).toThrow(/type 1 used by both x and y/);
    const reserved = set('r', [{ name: 'unknown', field: 'unknown', type: 1, kind: 'u8' }]);
    expect(() => encodeAttrs(fam({ r: reserved }), 'r', {})).toThrow(/reserved/);
  });
});
