// IP address text ⇄ wire form for the API layer: strings such as "192.0.2.1" or "2001:db8::1"
// become { family, addr4 | addr6 } as the `address` attribute set carries them, and back.

import { formatIPv6 } from '../../netlink/core/inet.js';
import { isIPv4, isIPv6 } from 'node:net';
import { AF_INET, AF_INET6 } from '../../../generated/mptcp_pm.js';

export { AF_INET, AF_INET6 };

export type Family = 'inet' | 'inet6';

/** Parses a dotted IPv4 address into its 32-bit value (as read in network order). */
function parseV4(text: string): number {
  const parts = text.split('.').map(Number);
  return (((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3]) >>> 0;
}

/** Parses an IPv6 address (with `::` and an optional trailing dotted IPv4) into 16 bytes. */
function parseV6(text: string): Uint8Array {
  const out = new Uint8Array(16);
  let body = text;
  const zone = body.indexOf('%');
  if (zone >= 0) body = body.slice(0, zone);
  const groups: number[][] = [[], []];
  const halves = body.split('::');
  halves.forEach((half, h) => {
    if (half === '') return;
    for (const piece of half.split(':')) {
      if (piece.includes('.')) {
        const v = parseV4(piece);
        groups[h].push(v >>> 16, v & 0xffff);
      } else {
        groups[h].push(parseInt(piece, 16));
      }
    }
  });
  const head = groups[0];
  const tail = groups[1];
  const words = new Array<number>(8).fill(0);
  head.forEach((w, i) => (words[i] = w));
  tail.forEach((w, i) => (words[8 - tail.length + i] = w));
  words.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  return out;
}

export interface WireAddress {
  family: number;
  addr4?: number;
  addr6?: Uint8Array;
}

/** True when `text` is an IPv4 or IPv6 address in text form. */
export function isAddress(text: unknown): text is string {
  return typeof text === 'string' && (isIPv4(text) || isIPv6(text));
}

/** Wire form of an address string; the caller has validated it with {@link isAddress}. */
export function toWire(text: string): WireAddress {
  if (isIPv4(text)) return { family: AF_INET, addr4: parseV4(text) };
  return { family: AF_INET6, addr6: parseV6(text) };
}

/** What kind of address `text` is, as far as an endpoint or subflow cares. */
export type AddressKind = 'unicast' | 'unspecified' | 'multicast' | 'broadcast';

/**
 * Classifies a valid address (zone id ignored): 0.0.0.0 and :: are unspecified, 224.0.0.0/4 and
 * ff00::/8 multicast, 255.255.255.255 broadcast; an IPv4-mapped IPv6 address by its IPv4 part.
 */
export function addressKind(text: string): AddressKind {
  const w = toWire(text);
  let v4 = w.addr4;
  const b = w.addr6;
  if (b !== undefined) {
    if (b[0] === 0xff) return 'multicast';
    const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
    if (mapped) v4 = ((b[12] << 24) | (b[13] << 16) | (b[14] << 8) | b[15]) >>> 0;
    else return b.every((x) => x === 0) ? 'unspecified' : 'unicast';
  }
  const v = v4 ?? 0;
  if (v === 0) return 'unspecified';
  if (v === 0xffffffff) return 'broadcast';
  if (v >>> 28 === 0xe) return 'multicast';
  return 'unicast';
}

/** True for IPv6 link-local unicast (fe80::/10), the only addresses a zone id belongs to. */
export function isLinkLocal(text: string): boolean {
  const b = toWire(text).addr6;
  return b !== undefined && b[0] === 0xfe && (b[1] & 0xc0) === 0x80;
}

/** Splits `fe80::1%eth0` into the address and the zone id (undefined when there is none). */
export function splitZone(text: string): { address: string; zone?: string } {
  const at = text.indexOf('%');
  return at < 0 ? { address: text } : { address: text.slice(0, at), zone: text.slice(at + 1) };
}

export function familyOf(text: string): Family {
  return isIPv4(text) ? 'inet' : 'inet6';
}

export function formatV4(value: number): string {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}

/** RFC 5952 text of 16 bytes (see formatIPv6). */
export const formatV6 = formatIPv6;

/** The text the kernel's dumps use for an address: "2001:DB8::1" → "2001:db8::1" (valid input assumed). */
export function canonicalAddress(text: string): string {
  const w = toWire(text);
  return (w.addr4 !== undefined ? formatV4(w.addr4) : formatV6(w.addr6 ?? new Uint8Array(16)));
}

/** Text of a wire address, or undefined when it carries neither form. */
export function fromWire(w: { addr4?: number; addr6?: Uint8Array }): string | undefined {
  if (w.addr4 !== undefined) return formatV4(w.addr4);
  if (w.addr6 !== undefined) return formatV6(w.addr6);
  return undefined;
}

/** One rule for IPv4-mapped IPv6 (`::ffff:192.0.2.1`): the IPv4 address it maps; any other address unchanged. */
export function unmapV4(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
