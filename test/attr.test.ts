// TLV layer (src/netlink/core/attr.ts): AttrWriter output byte for byte, readAttrs/read.* strictness.
// Expected bytes come from test/helpers/bytes.ts, which shares no code with the writer.
import { describe, expect, it } from 'vitest';
import { AttrWriter, NLA_F_NESTED, NLA_TYPE_MASK, align4, read, readAttrs, type RawAttr } from '../src/netlink/core/attr.js';
import { DecodeError } from '../src/netlink/core/errors.js';
import {
  cat, cstr, hex, nest, nla, s16be, s16le, s32be, s32le, s64be, s64le, s8, toHex,
  u16be, u16le, u32be, u32le, u64be, u64le, u8,
} from './helpers/bytes.js';

const bytesOf = (w: AttrWriter): string => toHex(w.finish());

function decodeError(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DecodeError) return e;
    throw e;
  }
  throw new Error('no DecodeError thrown');
}

describe('align4', () => {
  it.each([[0, 0], [1, 4], [3, 4], [4, 4], [5, 8], [8, 8], [65533, 65536]])('%i → %i', (n, want) => {
    expect(align4(n)).toBe(want);
  });
});

describe('AttrWriter scalars', () => {
  const cases: { name: string; write: (w: AttrWriter) => void; bytes: Uint8Array }[] = [
    { name: 'u8', write: (w) => w.u8(2, 0xfe), bytes: nla(2, u8(0xfe)) },
    { name: 's8 negative', write: (w) => w.s8(2, -2), bytes: nla(2, s8(-2)) },
    { name: 'u16 host order', write: (w) => w.u16(5, 8080), bytes: nla(5, u16le(8080)) },
    { name: 'u16 big-endian', write: (w) => w.u16(9, 5000, true), bytes: nla(9, u16be(5000)) },
    { name: 's16 host order', write: (w) => w.s16(3, -300), bytes: nla(3, s16le(-300)) },
    { name: 's16 big-endian', write: (w) => w.s16(3, -300, true), bytes: nla(3, s16be(-300)) },
    { name: 'u32 host order', write: (w) => w.u32(6, 0x80000003), bytes: nla(6, u32le(0x80000003)) },
    { name: 'u32 big-endian', write: (w) => w.u32(3, 0x0a000001, true), bytes: nla(3, u32be(0x0a000001)) },
    { name: 's32 host order', write: (w) => w.s32(7, -1), bytes: nla(7, s32le(-1)) },
    { name: 's32 big-endian', write: (w) => w.s32(7, -2, true), bytes: nla(7, s32be(-2)) },
    { name: 'u64 host order', write: (w) => w.u64(4, 0x0102030405060708n), bytes: nla(4, u64le(0x0102030405060708n)) },
    { name: 'u64 big-endian', write: (w) => w.u64(4, 0x0102030405060708n, true), bytes: nla(4, u64be(0x0102030405060708n)) },
    { name: 's64 host order', write: (w) => w.s64(4, -5n), bytes: nla(4, s64le(-5n)) },
    { name: 's64 big-endian', write: (w) => w.s64(4, -5n, true), bytes: nla(4, s64be(-5n)) },
    { name: 'flag', write: (w) => w.flag(11), bytes: nla(11) },
  ];
  it.each(cases)('$name', ({ write, bytes }) => {
    const w = new AttrWriter();
    write(w);
    expect(bytesOf(w)).toBe(toHex(bytes));
    expect(w.length).toBe(bytes.length);
  });

  it('matches hand-written bytes for the protocol doc examples', () => {
    expect(bytesOf(new AttrWriter().u16(1, 2))).toBe('06 00 01 00 02 00 00 00');
    expect(bytesOf(new AttrWriter().u8(2, 5))).toBe('05 00 02 00 05 00 00 00');
    expect(bytesOf(new AttrWriter().u32(3, 0x0a000001, true))).toBe('08 00 03 00 0a 00 00 01');
    expect(bytesOf(new AttrWriter().u16(9, 5000, true))).toBe('06 00 09 00 13 88 00 00');
  });
});

describe('AttrWriter binary, string, padding', () => {
  it.each([0, 1, 2, 3, 4, 5, 7, 8, 16])('binary of %i bytes is padded to 4', (n) => {
    const data = Uint8Array.from({ length: n }, (_, i) => 0xa0 + i);
    const w = new AttrWriter().binary(4, data);
    expect(bytesOf(w)).toBe(toHex(nla(4, data)));
    expect(w.length % 4).toBe(0);
  });

  it.each(['', 'a', 'eth0', 'abc', 'veth-long-name'])('string %j is NUL-terminated and padded', (s) => {
    expect(bytesOf(new AttrWriter().string(8, s))).toBe(toHex(nla(8, cstr(s))));
  });

  it('padding bytes are zero even when the buffer is reused', () => {
    const w = new AttrWriter(8);
    w.binary(1, Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff)); // grows past 8
    w.u8(2, 0xff);
    expect(bytesOf(w)).toBe(toHex(cat(nla(1, [0xff, 0xff, 0xff, 0xff, 0xff]), nla(2, [0xff]))));
  });

  it('attributes follow each other in call order', () => {
    const w = new AttrWriter().u16(1, 10).u8(2, 1).flag(3);
    expect(bytesOf(w)).toBe(toHex(cat(nla(1, u16le(10)), nla(2, u8(1)), nla(3))));
  });
});

describe('AttrWriter nest', () => {
  it('patches the length and sets NLA_F_NESTED', () => {
    const w = new AttrWriter().nest(1, (n) => n.u16(1, 2).u8(2, 5));
    const want = nest(1, nla(1, u16le(2)), nla(2, u8(5)));
    expect(bytesOf(w)).toBe(toHex(want));
    expect(toHex(w.finish().subarray(0, 4))).toBe('14 00 01 80');
  });

  it('empty nest is a bare header', () => {
    expect(bytesOf(new AttrWriter().nest(6, () => {}))).toBe('04 00 06 80');
  });

  it('nests inside nests, with attributes before and after', () => {
    const w = new AttrWriter()
      .u32(4, 7)
      .nest(1, (a) => a.u8(2, 1).nest(3, (b) => b.binary(1, Uint8Array.of(1, 2, 3))))
      .u8(5, 9);
    const want = cat(nla(4, u32le(7)), nest(1, nla(2, u8(1)), nest(3, nla(1, [1, 2, 3]))), nla(5, u8(9)));
    expect(bytesOf(w)).toBe(toHex(want));
  });

  it('patches correctly when the buffer grows inside the nest', () => {
    const w = new AttrWriter(4);
    w.nest(2, (n) => {
      for (let i = 0; i < 40; i++) n.u32(i + 1, i);
    });
    const want = nest(2, ...Array.from({ length: 40 }, (_, i) => nla(i + 1, u32le(i))));
    expect(bytesOf(w)).toBe(toHex(want));
  });

  it('writes the §9 ENDPOINT_ADDR nest byte for byte', () => {
    const w = new AttrWriter().nest(1, (n) =>
      n.u16(1, 2).u8(2, 5).u32(3, 0x0a000001, true).u16(5, 0).u32(6, 3),
    );
    expect(bytesOf(w)).toBe(toHex(hex(`
      2c 00 01 80
        06 00 01 00 02 00 00 00
        05 00 02 00 05 00 00 00
        08 00 03 00 0a 00 00 01
        06 00 05 00 00 00 00 00
        08 00 06 00 03 00 00 00`)));
  });
});

describe('readAttrs', () => {
  it('splits attributes, strips flag bits from the type and reports them', () => {
    const buf = cat(nla(1, u16le(2)), nest(2, nla(1, u8(7))), nla(3 | 0x4000, u16be(80)), nla(4));
    const attrs = readAttrs(buf, 'x');
    expect(attrs.map((a) => [a.type, a.nested, a.netByteOrder, a.offset, toHex(a.data)])).toEqual([
      [1, false, false, 0, '02 00'],
      [2, true, false, 8, toHex(nla(1, u8(7)))],
      [3, false, true, 20, '00 50'],
      [4, false, false, 28, ''],
    ]);
    expect(NLA_TYPE_MASK).toBe(0x3fff);
    expect(NLA_F_NESTED).toBe(0x8000);
  });

  it('reads back what AttrWriter wrote, nest included', () => {
    const w = new AttrWriter().u8(1, 3).nest(2, (n) => n.u32(1, 99)).string(3, 'eth0');
    const [a, b, c] = readAttrs(w.finish(), 'x');
    expect(read.u8(a, 'x.a')).toBe(3);
    expect(b.nested).toBe(true);
    expect(read.u32(readAttrs(b.data, 'x.b')[0], 'x.b.c')).toBe(99);
    expect(read.string(c, 'x.c')).toBe('eth0');
  });

  it('accepts an empty buffer, a plain Uint8Array and a view with an offset', () => {
    expect(readAttrs(new Uint8Array(0), 'x')).toEqual([]);
    const backing = cat([0xee, 0xee, 0xee], nla(1, u16le(513)));
    const view = new Uint8Array(backing.buffer, 3);
    const [a] = readAttrs(view, 'x');
    expect(read.u16(a, 'x')).toBe(513);
  });

  it('accepts 1–3 trailing zero bytes and a last attribute whose padding is cut short', () => {
    expect(readAttrs(cat(nla(1, u32le(1)), [0, 0]), 'x')).toHaveLength(1);
    const cut = nla(1, u8(9)).subarray(0, 5); // length 5, no padding after it
    expect(readAttrs(cut, 'x').map((a) => toHex(a.data))).toEqual(['09']);
  });

  it.each([
    { name: 'short header', bytes: [0x08, 0x00], msg: /truncated attribute header at offset 0 \(2 bytes left\)/ },
    { name: 'short header after an attribute', bytes: [...nla(1, u32le(1)), 1, 2, 3], msg: /truncated attribute header at offset 8/ },
    { name: 'length 0', bytes: [0, 0, 1, 0], msg: /length 0 < 4/ },
    { name: 'length 3', bytes: [3, 0, 1, 0, 0, 0, 0, 0], msg: /length 3 < 4/ },
    { name: 'length past the buffer', bytes: [0x0c, 0, 5, 0, 1, 2, 3, 4], msg: /type 5 at offset 0 has length 12, only 8 bytes left/ },
    { name: 'second attribute past the buffer', bytes: [...nla(1, u8(1)), 0x10, 0, 2, 0, 0, 0, 0, 0], msg: /offset 8 has length 16, only 8 bytes left/ },
  ])('rejects $name', ({ bytes, msg }) => {
    const e = decodeError(() => readAttrs(Uint8Array.from(bytes), 'attr.addr'));
    expect(e.path).toBe('attr.addr');
    expect(e.message).toMatch(/^attr\.addr: /);
    expect(e.message).toMatch(msg);
  });
});

describe('read.*', () => {
  const one = (bytes: Uint8Array): RawAttr => readAttrs(bytes, 't')[0];

  it('reads each scalar in the byte order it is told', () => {
    expect(read.u8(one(nla(1, u8(255))), 'p')).toBe(255);
    expect(read.s8(one(nla(1, s8(-128))), 'p')).toBe(-128);
    expect(read.u16(one(nla(1, u16le(0x1388))), 'p')).toBe(5000);
    expect(read.u16(one(nla(1, u16be(5000))), 'p', true)).toBe(5000);
    expect(read.s16(one(nla(1, s16le(-2))), 'p')).toBe(-2);
    expect(read.s16(one(nla(1, s16be(-2))), 'p', true)).toBe(-2);
    expect(read.u32(one(nla(1, u32le(0xffffffff))), 'p')).toBe(0xffffffff);
    expect(read.u32(one(nla(1, u32be(0x0a000001))), 'p', true)).toBe(0x0a000001);
    expect(read.s32(one(nla(1, s32le(-7))), 'p')).toBe(-7);
    expect(read.s32(one(nla(1, s32be(-7))), 'p', true)).toBe(-7);
    expect(read.u64(one(nla(1, u64le(2n ** 64n - 1n))), 'p')).toBe(2n ** 64n - 1n);
    expect(read.u64(one(nla(1, u64be(0x0102030405060708n))), 'p', true)).toBe(0x0102030405060708n);
    expect(read.s64(one(nla(1, s64le(-9n))), 'p')).toBe(-9n);
    expect(read.s64(one(nla(1, s64be(-9n))), 'p', true)).toBe(-9n);
  });

  it.each([
    { kind: 'u8', bytes: [1, 2], want: 1 },
    { kind: 'u16', bytes: [1, 2, 3, 4], want: 2 },
    { kind: 'u16', bytes: [1], want: 2 },
    { kind: 's16', bytes: [], want: 2 },
    { kind: 'u32', bytes: [1, 2], want: 4 },
    { kind: 's32', bytes: [1, 2, 3, 4, 5, 6, 7, 8], want: 4 },
    { kind: 'u64', bytes: [1, 2, 3, 4], want: 8 },
    { kind: 's64', bytes: [1, 2, 3, 4, 5, 6, 7, 8, 9], want: 8 },
  ] as const)('$kind of $bytes.length bytes is refused', ({ kind, bytes, want }) => {
    const e = decodeError(() => read[kind](one(nla(9, bytes)), 'event-attr.sport'));
    expect(e.path).toBe('event-attr.sport');
    expect(e.message).toBe(`event-attr.sport: expected ${want} bytes, got ${bytes.length}`);
  });

  it('string needs its NUL and stops at the first one', () => {
    expect(read.string(one(nla(1, [0x61, 0x62, 0, 0x63, 0])), 'p')).toBe('ab');
    expect(decodeError(() => read.string(one(nla(1, [0x61, 0x62])), 'p.s')).message).toBe('p.s: string is not NUL-terminated');
  });
});
