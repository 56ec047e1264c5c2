// Unit tests of the rtnetlink layer's address helpers: text ⇄ bytes (RFC 5952 output), prefixes,
// and the link-local / loopback tests the reconciler relies on.

import { describe, expect, it } from 'vitest';
import { bytesToIp, canonicalAddress, ipToBytes, isLinkLocal, isLoopback, networkBytes } from '../src/os/address.js';

describe('route ip helpers', () => {
  it.each([
    ['192.0.2.1', 'c0000201'],
    ['2001:db8::1', '20010db8000000000000000000000001'],
    ['::', '00000000000000000000000000000000'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
    ['2001:db8:0:1:0:0:0:1', '20010db8000000010000000000000001'],
  ])('%s ⇄ %s', (text, hex) => {
    expect(ipToBytes(text).toString('hex')).toBe(hex);
  });
  it.each([
    ['20010db8000000010000000000000001', '2001:db8:0:1::1'],
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['00000000000000000000000000000001', '::1'],
    ['fe800000000000000000000000000000', 'fe80::'],
    ['20010db8000100010001000100010001', '2001:db8:1:1:1:1:1:1'],
  ])('%s prints as %s', (hex, text) => {
    expect(bytesToIp(Buffer.from(hex, 'hex'))).toBe(text);
  });
  it('canonicalises, masks prefixes, classifies', () => {
    expect(canonicalAddress('2001:DB8:0::1')).toBe('2001:db8::1');
    expect(bytesToIp(networkBytes('198.51.100.77', 24))).toBe('198.51.100.0');
    expect(bytesToIp(networkBytes('198.51.100.77', 27))).toBe('198.51.100.64');
    expect(bytesToIp(networkBytes('2001:db8:1:2::7', 64))).toBe('2001:db8:1:2::');
    expect(bytesToIp(networkBytes('2001:db8:1:2::7', 0))).toBe('::');
    expect([isLinkLocal('169.254.3.4'), isLinkLocal('fe80::1'), isLinkLocal('febf::1'), isLinkLocal('fec0::1'), isLinkLocal('192.0.2.1')]).toEqual([true, true, true, false, false]);
    expect([isLoopback('127.0.0.2'), isLoopback('::1'), isLoopback('::2')]).toEqual([true, true, false]);
    expect(() => bytesToIp(Buffer.alloc(5))).toThrow(RangeError);
  });
});
