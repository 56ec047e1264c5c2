// Codec against the generated mptcp_pm tables: real-shaped replies, requests and events round-trip,
// and every generated attribute set is one the codec accepts.
import { describe, expect, it } from 'vitest';
import { decodeAttrs, encodeAttrs } from '../src/netlink/core/codec.js';
import {
  EndpointFlags, EventType, mptcpPmFamily as family,
  type Attr, type EndpointAttrs, type SubEstablishedEvent,
} from '../generated/mptcp_pm.js';
import { DecodeError } from '../src/netlink/core/errors.js';
import { be16, cat, hex, ipv4, nest, nla, s32le, toHex, u16le, u32le, u8 } from './helpers/bytes.js';

const op = (name: string) => {
  const found = family.operations.find((o) => o.name === name);
  if (!found) throw new Error(`no op ${name}`);
  return found;
};
const event = (name: string) => {
  const found = family.events.find((e) => e.name === name);
  if (!found) throw new Error(`no event ${name}`);
  return found;
};

const roundTrip = <T>(set: string, value: T, bytes: Uint8Array): void => {
  expect(toHex(encodeAttrs(family, set, value as Record<string, unknown>).finish())).toBe(toHex(bytes));
  expect(decodeAttrs<T>(family, set, bytes)).toEqual(value);
};

describe('generated mptcp_pm tables through the codec', () => {
  it('every attribute set is accepted, and every op/event names attributes of its set', () => {
    for (const name of Object.keys(family.attributeSets)) {
      expect(decodeAttrs(family, name, new Uint8Array(0))).toEqual({});
    }
    const fields = (set: string) => family.attributeSets[set].attrs.map((a) => a.name);
    for (const o of family.operations) {
      for (const mode of [o.do, o.dump]) {
        for (const msg of [mode?.request, mode?.reply]) {
          for (const a of msg?.attributes ?? []) expect(fields(o.attributeSet)).toContain(a);
        }
      }
    }
    for (const e of family.events) for (const a of e.attributes) expect(fields(e.attributeSet)).toContain(a);
  });

  it('ADD_ADDR request of doc §9 (10.0.0.1 id 5 signal|subflow)', () => {
    const value: EndpointAttrs = {
      addr: { family: 2, id: 5, addr4: 0x0a000001, port: 0, flags: EndpointFlags.signal | EndpointFlags.subflow },
    };
    roundTrip(op('add-addr').attributeSet, value, hex(`
      2c 00 01 80
        06 00 01 00 02 00 00 00
        05 00 02 00 05 00 00 00
        08 00 03 00 0a 00 00 01
        06 00 05 00 00 00 00 00
        08 00 06 00 03 00 00 00`));
  });

  it('endpoint dump reply messages (one endpoint per message)', () => {
    const set = op('get-addr').attributeSet;
    const v6 = hex('20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02');
    const replies: { value: Attr; bytes: Uint8Array }[] = [
      {
        value: { addr: { family: 2, id: 1, addr4: 0x0a000002, flags: EndpointFlags.subflow, ifIdx: 3 } },
        bytes: nest(1, nla(1, u16le(2)), nla(2, u8(1)), nla(3, ipv4('10.0.0.2')), nla(6, u32le(2)), nla(7, s32le(3))),
      },
      {
        value: { addr: { family: 10, id: 2, addr6: v6, port: 10000, flags: EndpointFlags.signal | EndpointFlags.backup } },
        bytes: nest(1, nla(1, u16le(10)), nla(2, u8(2)), nla(4, v6), nla(5, [0x10, 0x27]), nla(6, u32le(5))),
      },
      {
        value: { addr: { family: 2, id: 255, addr4: 0xc0a80101, flags: EndpointFlags.implicit | 0x40 } },
        bytes: nest(1, nla(1, u16le(2)), nla(2, u8(255)), nla(3, ipv4('192.168.1.1')), nla(6, u32le(0x50))),
      },
    ];
    for (const { value, bytes } of replies) roundTrip(set, value, bytes);
  });

  it('limits request and reply', () => {
    roundTrip(op('set-limits').attributeSet, { rcvAddAddrs: 2, subflows: 8 } satisfies Attr, cat(nla(2, u32le(2)), nla(3, u32le(8))));
  });

  it('SUB_ESTABLISHED event: ports big-endian, 5000 → 13 88', () => {
    const e = event('sub-established');
    expect(e.value).toBe(EventType.subEstablished);
    const value: SubEstablishedEvent = {
      token: 0x5a5a0001, family: 2, locId: 1, remId: 0,
      saddr4: 0x0a000002, daddr4: 0x0a000001, sport: 5000, dport: 80, backup: 0, ifIdx: 7,
    };
    const bytes = cat(
      nla(1, u32le(0x5a5a0001)), nla(2, u16le(2)), nla(3, u8(1)), nla(4, u8(0)),
      nla(5, ipv4('10.0.0.2')), nla(7, ipv4('10.0.0.1')), nla(9, hex('13 88')), nla(10, be16(80)),
      nla(11, u8(0)), nla(15, s32le(7)),
    );
    roundTrip(e.attributeSet, value, bytes);
  });

  it('keeps an attribute a newer kernel might add, and re-emits it', () => {
    const set = event('sub-closed').attributeSet;
    const bytes = cat(nla(1, u32le(1)), nla(12, u8(104)), nla(60, u32le(0xfeed)));
    const v = decodeAttrs<SubEstablishedEvent>(family, set, bytes);
    expect(v).toEqual({ token: 1, error: 104, unknown: [{ type: 60, data: Uint8Array.from(u32le(0xfeed)) }] });
    expect(toHex(encodeAttrs(family, set, v as Record<string, unknown>).finish())).toBe(toHex(bytes));
  });

  it('names the spec attribute when an event is malformed', () => {
    const set = event('sub-established').attributeSet;
    const e = (() => {
      try {
        decodeAttrs(family, set, nla(9, u32le(5000)));
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(DecodeError);
    expect((e as DecodeError).message).toBe(`${set}.sport: expected 2 bytes, got 4`);
  });
});
