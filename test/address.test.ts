// Address text ⇄ wire form, against values worked out by hand.
import { describe, expect, it } from 'vitest';
import { toWire, fromWire, formatV6, isAddress, AF_INET, AF_INET6 } from '../src/os/address.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

describe('address', () => {
  it('parses IPv4 to its network-order value', () => {
    expect(toWire('192.0.2.1')).toEqual({ family: AF_INET, addr4: 0xc0000201 });
    expect(toWire('255.255.255.255')).toEqual({ family: AF_INET, addr4: 0xffffffff });
    expect(fromWire({ addr4: 0xcb007101 })).toBe('203.0.113.1');
  });

  it.each([
    ['2001:db8::1', '20010db8000000000000000000000001'],
    ['::', '00000000000000000000000000000000'],
    ['::1', '00000000000000000000000000000001'],
    ['2001:db8:1::', '20010db8000100000000000000000000'],
    ['2001:db8:0:1:0:0:0:2', '20010db8000000010000000000000002'],
    ['::ffff:192.0.2.7', '00000000000000000000ffffc0000207'],
    ['2001:DB8::A', '20010db800000000000000000000000a'],
  ])('parses %s', (text, bytes) => {
    expect(toWire(text)).toEqual({ family: AF_INET6, addr6: hex(bytes) });
  });

  it.each([
    ['20010db8000000000000000000000001', '2001:db8::1'],
    ['20010db8000000010000000000000002', '2001:db8:0:1::2'],
    ['20010db8000000000001000000000000', '2001:db8:0:0:1::'],
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['20010db8000100010001000100010001', '2001:db8:1:1:1:1:1:1'],
    ['20010db8000000010000000100000000', '2001:db8:0:1:0:1::'],
    ['00000000000000000000ffffc0000207', '::ffff:192.0.2.7'],
  ])('formats %s as RFC 5952 text', (bytes, text) => {
    expect(formatV6(hex(bytes))).toBe(text);
  });

  it('recognises addresses', () => {
    expect(isAddress('198.51.100.9')).toBe(true);
    expect(isAddress('2001:db8::9')).toBe(true);
    expect(isAddress('198.51.100.256')).toBe(false);
    expect(isAddress('eth0')).toBe(false);
    expect(isAddress(42)).toBe(false);
  });
});
